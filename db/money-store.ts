import { inArray } from 'drizzle-orm';
import type { Database } from './client';
import { parts } from './schema';

/** Catalogue unit prices (fen) by part number, and the asked-for part numbers it does not have. */
export interface PartPrices {
  prices: Record<string, number>;
  unknown: string[];
}

/** The price list's parts (seed 004: the company price list): each part's catalogue unit price. */
export async function catalogPrices(db: Database, partNumbers: readonly string[]): Promise<PartPrices> {
  const rows = await db
    .select({ partNumber: parts.partNumber, unitPrice: parts.unitPrice })
    .from(parts)
    .where(inArray(parts.partNumber, [...partNumbers]));
  const prices = Object.fromEntries(rows.map((row) => [row.partNumber, row.unitPrice]));
  return { prices, unknown: partNumbers.filter((partNumber) => !(partNumber in prices)) };
}
