import type { SlaDuration } from './durations';
import type { PaymentMethod } from './returns';

/**
 * Money is integer minor units (fen) everywhere: amounts are added and compared as integers and
 * only formatted for people.
 */
export function formatYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(fen));
  const yuan = Math.floor(abs / 100).toLocaleString('en-US');
  return `${sign}¥${yuan}.${String(abs % 100).padStart(2, '0')}`;
}

/** What a service costs by type (seed 004: 公司统一价目表), in fen; parts are priced by the catalogue. */
export interface ServiceFee {
  readonly laborFen: number;
  readonly visitFen: number;
}

/** Service types that are priced (returns and exchanges are not). */
export const PRICED_SERVICE_TYPES = ['repair', 'installation', 'remote_support'] as const;
export type PricedServiceType = (typeof PRICED_SERVICE_TYPES)[number];

export const DEFAULT_MONEY_RULES = {
  serviceFees: {
    repair: { laborFen: 8_000, visitFen: 5_000 },
    installation: { laborFen: 10_000, visitFen: 0 },
    remote_support: { laborFen: 3_000, visitFen: 0 },
  } as Record<PricedServiceType, ServiceFee>,
  quoteExpiry: '48h',
  quoteBeforeWork: true,
  warrantyCoversFees: true,
  remedyApprovalFen: 10_000,
  remedyApproval: '1bd',
  payment: '3d',
} as const;

/** What a dissatisfied customer may be offered (seed 004: a voucher, a free re-check; seed 000: more). */
export const REMEDY_KINDS = ['voucher', 'free_recheck', 'gifted_part', 'extended_warranty'] as const;
export type RemedyKind = (typeof REMEDY_KINDS)[number];

export interface Remedy {
  id: number;
  kind: RemedyKind;
  /** What it costs the company, in fen: a voucher's face value, a part's price, the extension's worth. */
  valueFen: number;
  partNumber?: string;
  months?: number;
  status: 'awaiting_approval' | 'granted' | 'rejected';
  offeredAt: string;
  offeredBy: string;
  decidedAt: string | null;
  decidedBy: string | null;
  reason?: string;
}

/** Above the policy's value a remedy waits for a manager (equal or below: granted at once). */
export function remedyNeedsApproval(valueFen: number, thresholdFen: number): boolean {
  return valueFen > thresholdFen;
}

export interface QuoteLine {
  kind: 'part' | 'labor' | 'visit';
  partNumber?: string;
  quantity: number;
  unitPriceFen: number;
  amountFen: number;
}

export interface PriceRequest {
  readonly serviceType: string | undefined;
  readonly parts: readonly { partNumber: string; quantity: number }[];
  /** Catalogue unit prices in fen by part number; every part of the request is in it. */
  readonly prices: Readonly<Record<string, number>>;
  readonly fees: Readonly<Record<PricedServiceType, ServiceFee>>;
}

/** The quote's lines from the price list: parts at catalogue price, then labour and the visit. */
export function priceQuote(request: PriceRequest): { lines: QuoteLine[]; totalFen: number } {
  const lines: QuoteLine[] = request.parts.map(({ partNumber, quantity }) => {
    const unitPriceFen = request.prices[partNumber] ?? 0;
    return { kind: 'part', partNumber, quantity, unitPriceFen, amountFen: unitPriceFen * quantity };
  });
  const fee = (PRICED_SERVICE_TYPES as readonly string[]).includes(request.serviceType ?? 'repair')
    ? request.fees[(request.serviceType ?? 'repair') as PricedServiceType]
    : undefined;
  for (const kind of ['labor', 'visit'] as const) {
    const amountFen = kind === 'labor' ? (fee?.laborFen ?? 0) : (fee?.visitFen ?? 0);
    if (amountFen > 0) lines.push({ kind, quantity: 1, unitPriceFen: amountFen, amountFen });
  }
  return { lines, totalFen: lines.reduce((sum, line) => sum + line.amountFen, 0) };
}

export type QuoteStatus = 'pending' | 'accepted' | 'declined' | 'expired';

export interface Quote {
  round: number;
  lines: QuoteLine[];
  totalFen: number;
  status: QuoteStatus;
  sentAt: string;
  expiresAt: string;
  decidedAt: string | null;
  /** Where the work goes on once the customer consents. */
  resumeTo: string;
}

/** What the customer paid for a consented quote (seed 004: 扫码支付、刷卡), and its e-invoice. */
export interface Payment {
  amountFen: number;
  method: PaymentMethod;
  reference: string;
  at: string;
  actorId: string;
}

export interface Invoice {
  invoiceNumber: string;
  at: string;
}

/** The fields a policy carries for money; absent in a snapshot taken before quotes existed. */
export interface MoneyPolicyFields {
  readonly serviceFees?: Readonly<Record<PricedServiceType, ServiceFee>>;
  readonly quoteExpiry?: SlaDuration;
  /** Out of warranty, service waits for the customer's consent to a quote (absent: it does not). */
  readonly quoteBeforeWork?: boolean;
  /** Under warranty labour and the visit are free too (absent: they are charged, as before). */
  readonly warrantyCoversFees?: boolean;
  /** A remedy worth more than this (fen) waits for a manager's approval, within `remedyApproval`. */
  readonly remedyApprovalFen?: number;
  readonly remedyApproval?: SlaDuration;
  /** How long a consented quote's payment may wait once the work is done (record-payment). */
  readonly payment?: SlaDuration;
}
