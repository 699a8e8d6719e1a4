import { DateTime } from 'luxon';
import type { Warranty } from './ticket';

/**
 * Warranty on the day of the request: covered until `warrantyMonths` after the purchase date, that
 * date (`expiresOn`) being the first day without cover; unknown without a purchase date.
 */
export function deriveWarranty(
  purchaseDate: string | undefined,
  warrantyMonths: number,
  requestDate: string,
): Warranty {
  if (!purchaseDate) return { status: 'unknown', expiresOn: null };
  const expiresOn = DateTime.fromISO(purchaseDate).plus({ months: warrantyMonths }).toISODate() ?? '';
  return { status: requestDate < expiresOn ? 'in_warranty' : 'out_of_warranty', expiresOn };
}
