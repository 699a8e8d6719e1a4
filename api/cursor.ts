import { z } from 'zod';

/**
 * Page cursors: where a page's last row was, so the next page continues after it. Clients treat them
 * as opaque, but their syntax is exact, and the OpenAPI document gives it as a pattern: every string
 * that matches it is a position (one the API did not issue simply pages from there), and every other
 * string is a 400 from validation, naming the parameter. A client or SDK that generates values from
 * the document never makes one the API refuses.
 */
const NOT_A_CURSOR = 'is not a cursor this API returned';

/** Row keys (ticket numbers, escalation and delivery ids) are at most this many bytes of UTF-8. */
const MAX_KEY_BYTES = 200;

/** A position in a list ordered by an instant, then a row key. */
export interface Position {
  /** ISO 8601, to the microsecond at most. */
  readonly at: string;
  readonly key: string;
}

/**
 * `<microseconds since 1970>.<the key's UTF-8 as lowercase hex>`. Sixteen digits reach the year 2286,
 * and a key byte is never 00 (PostgreSQL text cannot hold NUL), so any matching string decodes.
 */
const POSITION = new RegExp(`^[0-9]{1,16}\\.(?:0[1-9a-f]|[1-9a-f][0-9a-f]){1,${MAX_KEY_BYTES}}$`);

const MICROS_PER_SECOND = 1_000_000n;

export const positionCursor = {
  query: z
    .string()
    .max(17 + 2 * MAX_KEY_BYTES)
    .regex(POSITION, NOT_A_CURSOR)
    .optional()
    .describe('the previous page’s `nextCursor`'),

  encode({ at, key }: Position): string {
    const bytes = Buffer.from(key, 'utf8');
    if (bytes.length > MAX_KEY_BYTES || bytes.includes(0)) {
      throw new Error(`a row key of ${bytes.length} bytes cannot be put in a cursor`);
    }
    const fraction = /\.(\d{1,6})\d*Z$/.exec(at)?.[1] ?? '';
    const seconds = BigInt(Date.parse(at.replace(/\.\d+Z$/, 'Z')) / 1000);
    const micros = seconds * MICROS_PER_SECOND + BigInt(fraction.padEnd(6, '0'));
    return `${micros}.${bytes.toString('hex')}`;
  },

  /** Decodes a string the query schema accepted. */
  decode(text: string): Position {
    const [digits = '', hex = ''] = text.split('.');
    const micros = BigInt(digits);
    const seconds = new Date(Number(micros / MICROS_PER_SECOND) * 1000).toISOString().slice(0, 19);
    const fraction = String(micros % MICROS_PER_SECOND).padStart(6, '0');
    return { at: `${seconds}.${fraction}Z`, key: Buffer.from(hex, 'hex').toString('utf8') };
  },
};

/** A position in a ticket's timeline: the last event's sequence number, below PostgreSQL's integer limit. */
export const sequenceCursor = {
  query: z
    .string()
    .regex(/^[0-9]{1,9}$/, NOT_A_CURSOR)
    .optional()
    .describe('the previous page’s `nextCursor`'),
  encode: (seq: number): string => String(seq),
  decode: (text: string): number => Number(text),
};
