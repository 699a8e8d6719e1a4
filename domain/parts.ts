import type { TicketState, TicketStatus } from './ticket';

/**
 * Spare parts: the rules of the stock ledger, free of I/O. The ledger of movements is the source of
 * truth; a location's on-hand quantity is the sum of its applied movements, and what is reserved for
 * tickets is held apart until it is issued or released. Money is in integer fen (1/100 yuan).
 */

export const LOCATION_KINDS = ['warehouse', 'van'] as const;
export type LocationKind = (typeof LOCATION_KINDS)[number];

/**
 * What a ledger row records. A receipt brings in what was inspected; what failed inspection leaves
 * again as a supplier return. A transfer is a pair of rows; an issue takes a ticket's used parts out,
 * and a customer return brings back what a ticket issued and the customer sent back (an exchange's
 * refused replacement).
 */
export const MOVEMENT_KINDS = [
  'receipt',
  'supplier_return',
  'transfer_out',
  'transfer_in',
  'adjustment',
  'scrap',
  'issue',
  'customer_return',
] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];

/** A movement counts toward on hand once applied; one waiting for a manager counts only when approved. */
export const MOVEMENT_STATUSES = ['applied', 'pending', 'rejected'] as const;
export type MovementStatus = (typeof MOVEMENT_STATUSES)[number];

/** What became of the part a used one replaced (seed 004: shown to the customer, then kept or taken). */
export const OLD_PART_DISPOSITIONS = ['given_to_customer', 'recycled', 'returned_to_supplier'] as const;
export type OldPartDisposition = (typeof OLD_PART_DISPOSITIONS)[number];

/**
 * A ticket's reservation: held, then issued (what was used) or released (cancel, or not used). A
 * valuable or limited part is held awaiting a manager's approval first (seed 003: 贵重配件或限量配件
 * 实行审批制度); only an approved one is issued.
 */
export const RESERVATION_STATUSES = ['awaiting_approval', 'reserved', 'issued', 'released'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/**
 * A change that ends a ticket's work without a resolve — a declined or expired quote, a refused or
 * rejected return or exchange, a lapsed ship-back — must let go of what the ticket holds, as a
 * cancel does. A ticket resolved before (it has a service record) settled its parts then; a cancel
 * settles its own.
 */
export function endsWithoutSettlement(statusBefore: TicketStatus, state: TicketState): boolean {
  const ended = (status: TicketStatus) => status === 'closed' || status === 'cancelled';
  return !ended(statusBefore) && ended(state.status) && state.serviceRecords.length === 0;
}

/** A ticket takes parts until it is resolved: then what was used is issued and the rest released. */
export const PARTS_REQUEST_STATUSES: readonly TicketStatus[] = [
  'new',
  'acknowledged',
  'planned',
  'assigned',
  'accepted',
  'scheduled',
  'in_service',
  'on_hold',
  // An approved exchange reserves its replacement (the product) like a repair reserves parts.
  'exchanging',
];

/** Part numbers and location ids appear in URLs: letters, digits, ".", "_", "-". */
export const PART_NUMBER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const LOCATION_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The largest quantity one movement moves: far above any real order, far below integer overflow. */
export const MAX_QUANTITY = 1_000_000;

/** What a movement is worth at cost: the sign of the quantity does not matter. */
export function movementValue(quantity: number, unitCost: number): number {
  return Math.abs(quantity) * unitCost;
}

/**
 * Scrapping and stock-take adjustments worth more than the threshold wait for a manager's approval
 * (seed 003: 报废 and 盘盈/盘亏 are approved by the after-sales manager).
 */
export function needsApproval(kind: MovementKind, value: number, thresholdFen: number): boolean {
  return (kind === 'scrap' || kind === 'adjustment') && value > thresholdFen;
}

export interface LocationStock {
  readonly locationId: string;
  readonly onHand: number;
  readonly reserved: number;
}

export const available = (stock: LocationStock): number => stock.onHand - stock.reserved;

/**
 * Why a location cannot give up `quantity` now (what is reserved for tickets stays), or null when
 * it can.
 */
export function shortageOf(stock: LocationStock | undefined, quantity: number): string | null {
  const free = stock ? available(stock) : 0;
  if (free >= quantity) return null;
  return `location ${stock?.locationId ?? 'given'} has ${free} available (${stock?.onHand ?? 0} on hand, ${stock?.reserved ?? 0} reserved); ${quantity} asked`;
}

export interface StockLocationRef {
  readonly id: string;
  readonly kind: LocationKind;
  readonly engineerId: string | null;
}

/**
 * Where a ticket's parts are taken from, nearest first: the assignee's van, then the warehouses (by
 * id, so the order is stable). Other engineers' vans are not raided.
 */
export function nearestFirst(
  locations: readonly StockLocationRef[],
  assignee: string | null,
): StockLocationRef[] {
  const van = locations.filter((location) => location.kind === 'van' && location.engineerId === assignee);
  const warehouses = locations
    .filter((location) => location.kind === 'warehouse')
    .sort((a, b) => a.id.localeCompare(b.id));
  return [...(assignee === null ? [] : van), ...warehouses];
}

export interface Allocation {
  readonly locationId: string;
  readonly quantity: number;
}

/** Takes what is available from each location in order until `need` is met; the rest is short. */
export function allocate(
  need: number,
  stockInOrder: readonly LocationStock[],
): { allocations: Allocation[]; shortfall: number } {
  const allocations: Allocation[] = [];
  let left = need;
  for (const stock of stockInOrder) {
    if (left === 0) break;
    const take = Math.min(left, Math.max(available(stock), 0));
    if (take > 0) {
      allocations.push({ locationId: stock.locationId, quantity: take });
      left -= take;
    }
  }
  return { allocations, shortfall: left };
}

/** Whether a part a ticket reserves waits for a manager's approval before it may be issued. */
export const needsManagerApproval = (part: { valuable: boolean; limited: boolean }): boolean =>
  part.valuable || part.limited;

export interface HeldReservation {
  readonly id: number;
  readonly partNumber: string;
  readonly quantity: number;
}

interface Settled {
  readonly id: number;
  readonly quantity: number;
}

/**
 * Settles a resolved ticket's reservations against what the service record says was used: each
 * part's used quantity is issued from its reservations in order, the rest released. Used beyond what
 * was reserved is not issued from stock (it came from elsewhere); the answer says how much.
 */
export function settleUse(
  reservations: readonly HeldReservation[],
  used: Readonly<Record<string, number>>,
): { issue: Settled[]; release: Settled[]; unreserved: Record<string, number> } {
  const left: Record<string, number> = { ...used };
  const issue: Settled[] = [];
  const release: Settled[] = [];
  for (const reservation of reservations) {
    const take = Math.min(reservation.quantity, left[reservation.partNumber] ?? 0);
    left[reservation.partNumber] = (left[reservation.partNumber] ?? 0) - take;
    if (take > 0) issue.push({ id: reservation.id, quantity: take });
    if (reservation.quantity > take)
      release.push({ id: reservation.id, quantity: reservation.quantity - take });
  }
  const unreserved = Object.fromEntries(Object.entries(left).filter(([, quantity]) => quantity > 0));
  return { issue, release, unreserved };
}

export interface OpenShortfall {
  readonly id: number;
  readonly partNumber: string;
  /** What is still not reserved: its quantity less what was filled or withdrawn. */
  readonly open: number;
}

/**
 * What a changed plan lets go of: for each part, what the ticket holds and still waits for beyond
 * what the new plan needs (`keep`; a part it does not name is not needed at all). What it still
 * waits for goes first (nothing to release), newest shortfall first; then its reservations, newest
 * first, so the oldest (nearest, requested first) stay. Both lists oldest first.
 */
export function planRelease(
  held: readonly HeldReservation[],
  open: readonly OpenShortfall[],
  keep: Readonly<Record<string, number>>,
): { release: Settled[]; withdraw: Settled[] } {
  const release: Settled[] = [];
  const withdraw: Settled[] = [];
  const partNumbers = [...new Set([...held, ...open].map((row) => row.partNumber))].sort();
  for (const partNumber of partNumbers) {
    const mine = held.filter((row) => row.partNumber === partNumber);
    const waiting = open.filter((row) => row.partNumber === partNumber);
    const total = [...mine.map((row) => row.quantity), ...waiting.map((row) => row.open)].reduce(
      (sum, quantity) => sum + quantity,
      0,
    );
    let excess = total - (keep[partNumber] ?? 0);
    for (const row of [...waiting].reverse()) {
      if (excess <= 0) break;
      const take = Math.min(row.open, excess);
      withdraw.push({ id: row.id, quantity: take });
      excess -= take;
    }
    for (const row of [...mine].reverse()) {
      if (excess <= 0) break;
      const take = Math.min(row.quantity, excess);
      release.push({ id: row.id, quantity: take });
      excess -= take;
    }
  }
  const byId = (a: Settled, b: Settled) => a.id - b.id;
  return { release: release.sort(byId), withdraw: withdraw.sort(byId) };
}

/**
 * A part's low-stock state after a change: `alert` when its available quantity has just fallen
 * below its safety stock (one notice per crossing), `rearm` when it is back at or above it (the next
 * fall alerts again), null when nothing changes.
 */
export function lowStockTransition(
  low: boolean,
  availableQuantity: number,
  safetyStock: number,
): 'alert' | 'rearm' | null {
  const below = availableQuantity < safetyStock;
  if (below && !low) return 'alert';
  if (!below && low) return 'rearm';
  return null;
}

export type ShortfallProposal =
  | { readonly kind: 'transfer'; readonly from: string; readonly quantity: number }
  | { readonly kind: 'purchase'; readonly quantity: number };

/**
 * What covers a ticket's shortfall: transfers (调货) from other locations that have the part free,
 * most available first, and a purchase for what none has.
 */
export function proposeForShortfall(
  shortfall: number,
  elsewhere: readonly LocationStock[],
): ShortfallProposal[] {
  const mostFirst = [...elsewhere].sort((a, b) => available(b) - available(a));
  const { allocations, shortfall: unmet } = allocate(shortfall, mostFirst);
  return [
    ...allocations.map(({ locationId, quantity }) => ({
      kind: 'transfer' as const,
      from: locationId,
      quantity,
    })),
    ...(unmet > 0 ? [{ kind: 'purchase' as const, quantity: unmet }] : []),
  ];
}

/**
 * What the ticket's workflow hears of its parts: a request left a shortfall (the waiting-for-parts
 * clock starts), a later one got everything (it stops), a valuable or limited part waits for a
 * manager (the approval clock starts), a manager decided and `pending` are left (at 0 it stops).
 */
export const PARTS_EVENT_KINDS = ['waiting', 'ready', 'approval_requested', 'approval_decided'] as const;

/** Quantities by part: what a changed plan released or stopped waiting for. */
export type PartQuantities = readonly { readonly partNumber: string; readonly quantity: number }[];

/**
 * A changed plan's release, as the ticket's own workflow hears it from the step that made it (not
 * an event the API may send): what was released and withdrawn, whether anything is still awaited,
 * and how many reservations still wait for a manager.
 */
export interface PlanReleaseEvent {
  readonly kind: 'plan_released';
  readonly released: PartQuantities;
  readonly withdrawn: PartQuantities;
  readonly stillWaiting: boolean;
  /** Reservations still awaiting a manager: at 0 the approval clock stops. */
  readonly awaitingApproval: number;
}

export type PartsEvent =
  | { readonly kind: 'waiting'; readonly shortfalls: readonly { partNumber: string; quantity: number }[] }
  | { readonly kind: 'ready' }
  | { readonly kind: 'approval_requested'; readonly partNumbers: readonly string[] }
  | { readonly kind: 'approval_decided'; readonly pending: number };

/** The notification kind of a part that fell below its safety stock, and who is told. */
export const LOW_STOCK_NOTICE = 'low_stock';
export const LOW_STOCK_RECIPIENTS = ['parts', 'supervisor'] as const;

/** What a low-stock notice says; the notification's data. */
export interface LowStockNotice {
  readonly partNumber: string;
  readonly name: string;
  readonly available: number;
  readonly safetyStock: number;
}

/** The reorder suggestion looks back this many days of issues. */
export const REORDER_LOOKBACK_DAYS = 90;
/** ...and covers this many days ahead at that rate (a month between purchase runs). */
export const REORDER_COVER_DAYS = 30;

/**
 * How many to buy: enough for the next month at the last 90 days' rate of use, on top of the safety
 * stock, less what is available now. Never negative.
 */
export function reorderQuantity(
  issuedInLookback: number,
  availableQuantity: number,
  safetyStock: number,
): number {
  const expectedUse = Math.ceil((issuedInLookback * REORDER_COVER_DAYS) / REORDER_LOOKBACK_DAYS);
  return Math.max(0, safetyStock + expectedUse - availableQuantity);
}
