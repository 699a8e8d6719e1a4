import type { z } from 'zod';
import { Problem } from './problem';

/** Opaque page cursors: the position of a page's last row, as base64url JSON the API alone reads back. */
export function encodeCursor(position: object): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<T>(text: string, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    throw new Problem(400, 'Invalid request', 'querystring.cursor: is not a cursor this API returned');
  }
}
