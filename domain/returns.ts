import { DateTime } from 'luxon';
import { parseDuration, type SlaDuration } from './durations';
import type { Actor } from './ticket';

/**
 * Returns (退货) and exchanges (换货), seed 003: whether a request is eligible under the policy's
 * windows and proofs, and the manager's decision. Pure: the lifecycle records it, the API and the
 * tests read it.
 */
export const RETURN_KINDS = ['return', 'exchange'] as const;
export type ReturnKind = (typeof RETURN_KINDS)[number];

/** Why the customer wants the product taken back or replaced (what the reports group by). */
export const RETURN_REASONS = [
  'quality_defect',
  'damaged_on_arrival',
  'not_as_described',
  'wrong_item',
  'changed_mind',
  'other',
] as const;
export type ReturnReason = (typeof RETURN_REASONS)[number];

/** What the customer can show: the purchase proof (invoice, order) and the product itself, at least. */
export const PROOF_KINDS = ['purchase_proof', 'product', 'original_packaging', 'photos'] as const;
export type ProofKind = (typeof PROOF_KINDS)[number];

/** Why a request is not eligible; each one is a reason the customer is told. */
export type IneligibleReason =
  'no_purchase_date' | 'purchase_after_request' | 'window_passed' | 'missing_proofs';

/** The policy's return and exchange rules, as the lifecycle reads them. */
export interface ReturnRules {
  readonly windowDays: Readonly<Record<ReturnKind, number>>;
  readonly requiredProofs: readonly ProofKind[];
  /** How long the manager has to approve or reject a request. */
  readonly approval: SlaDuration;
  /** How long the customer has to ship an approved return back; reminded at half, cancelled after. */
  readonly shipBack: SlaDuration;
  /** How long finance has to refund a return that passed inspection. */
  readonly refund: SlaDuration;
  /** How long the parts group has to ship a replacement once the exchange is approved (or refused). */
  readonly replacementShipment: SlaDuration;
  /** How long the customer has to accept or refuse a replacement shipped. */
  readonly replacementConfirmation: SlaDuration;
  /** How long the customer's unit may take to come back once the replacement is accepted. */
  readonly unitReturn: SlaDuration;
  /** How long a received return may wait for its inspection. */
  readonly returnInspection: SlaDuration;
  /** How long a failed inspection may wait for its settlement with the customer. */
  readonly returnNegotiation: SlaDuration;
}

/** The mainland China consumer rule: 7 days to return, 15 to exchange, from the purchase date. */
export const DEFAULT_RETURN_RULES = {
  returnWindowDays: 7,
  exchangeWindowDays: 15,
  returnProofs: ['purchase_proof', 'product'] as ProofKind[],
  returnApproval: '1bd',
  returnShipBack: '7d',
  refund: '3bd',
  replacementShipment: '1bd',
  replacementConfirmation: '7d',
  unitReturn: '7d',
  returnInspection: '1bd',
  returnNegotiation: '3bd',
} as const;

/** The fields a policy carries for returns; absent in a snapshot taken before returns existed. */
export interface ReturnPolicyFields {
  readonly returnWindowDays?: number;
  readonly exchangeWindowDays?: number;
  readonly returnProofs?: readonly ProofKind[];
  readonly returnApproval?: SlaDuration;
  readonly returnShipBack?: SlaDuration;
  readonly refund?: SlaDuration;
  readonly replacementShipment?: SlaDuration;
  readonly replacementConfirmation?: SlaDuration;
  readonly unitReturn?: SlaDuration;
  readonly returnInspection?: SlaDuration;
  readonly returnNegotiation?: SlaDuration;
}

function durationOr(
  duration: SlaDuration | undefined,
  field: keyof typeof DEFAULT_RETURN_RULES,
): SlaDuration {
  const parsed = duration ?? parseDuration(String(DEFAULT_RETURN_RULES[field]));
  if (!parsed) throw new Error(`the default ${field} duration does not parse`);
  return parsed;
}

export function returnRules(policy: ReturnPolicyFields): ReturnRules {
  return {
    windowDays: {
      return: policy.returnWindowDays ?? DEFAULT_RETURN_RULES.returnWindowDays,
      exchange: policy.exchangeWindowDays ?? DEFAULT_RETURN_RULES.exchangeWindowDays,
    },
    requiredProofs: policy.returnProofs ?? DEFAULT_RETURN_RULES.returnProofs,
    approval: durationOr(policy.returnApproval, 'returnApproval'),
    shipBack: durationOr(policy.returnShipBack, 'returnShipBack'),
    refund: durationOr(policy.refund, 'refund'),
    replacementShipment: durationOr(policy.replacementShipment, 'replacementShipment'),
    replacementConfirmation: durationOr(policy.replacementConfirmation, 'replacementConfirmation'),
    unitReturn: durationOr(policy.unitReturn, 'unitReturn'),
    returnInspection: durationOr(policy.returnInspection, 'returnInspection'),
    returnNegotiation: durationOr(policy.returnNegotiation, 'returnNegotiation'),
  };
}

export interface Eligibility {
  eligible: boolean;
  windowDays: number;
  /** The last day (business time zone) a request is in the window; null without a purchase date. */
  lastDay: string | null;
  missingProofs: ProofKind[];
  reasons: IneligibleReason[];
}

export interface EligibilityRequest {
  readonly kind: ReturnKind;
  readonly purchaseDate: string | undefined;
  /** The day the customer asked: the ticket's opening day in the business time zone. */
  readonly requestDate: string;
  readonly proofs: readonly ProofKind[];
}

/** Whether a return or exchange is within its window from the purchase date, with the proofs required. */
export function assessEligibility(request: EligibilityRequest, rules: ReturnRules): Eligibility {
  const windowDays = rules.windowDays[request.kind];
  const missingProofs = rules.requiredProofs.filter((proof) => !request.proofs.includes(proof));
  const reasons: IneligibleReason[] = [];
  let lastDay: string | null = null;
  if (!request.purchaseDate) {
    reasons.push('no_purchase_date');
  } else {
    lastDay = DateTime.fromISO(request.purchaseDate).plus({ days: windowDays }).toISODate();
    if (request.purchaseDate > request.requestDate) reasons.push('purchase_after_request');
    else if (lastDay !== null && request.requestDate > lastDay) reasons.push('window_passed');
  }
  if (missingProofs.length > 0) reasons.push('missing_proofs');
  return { eligible: reasons.length === 0, windowDays, lastDay, missingProofs, reasons };
}

/** The refusal in words, for the timeline and the people who read it. */
export function describeIneligibility(kind: ReturnKind, eligibility: Eligibility): string[] {
  return eligibility.reasons.map((reason) => {
    switch (reason) {
      case 'no_purchase_date':
        return 'the ticket has no purchase date to count the window from';
      case 'purchase_after_request':
        return 'the purchase date is after the day of the request';
      case 'window_passed':
        return `the ${eligibility.windowDays}-day ${kind} window ended on ${eligibility.lastDay}`;
      case 'missing_proofs':
        return `missing proof: ${eligibility.missingProofs.join(', ')}`;
    }
  });
}

export interface ReturnDecision {
  outcome: 'approved' | 'rejected' | 'refused';
  at: string;
  /** Null when the rules refused it (not eligible, no exception asked for). */
  actor: Actor | null;
  reason?: string;
}

/** How the refund goes back: the way the customer paid for the product (seed 003). */
export const PAYMENT_METHODS = ['wechat_pay', 'alipay', 'bank_card', 'cash', 'bank_transfer'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

/** What inspection looks at (seed 003: appearance and function); both must pass for a refund. */
export const INSPECTION_RESULTS = ['pass', 'fail'] as const;

export interface ReturnShipment {
  carrier: string;
  trackingNumber: string;
  at: string;
}

export interface ReturnReceipt {
  signedBy: string;
  at: string;
  actor: Actor;
}

export interface ReturnInspection {
  appearance: 'pass' | 'fail';
  function: 'pass' | 'fail';
  passed: boolean;
  at: string;
  actor: Actor;
}

export interface Refund {
  /** Integer minor units (fen), never a float. */
  amountFen: number;
  method: PaymentMethod;
  reference: string;
  at: string;
  actor: Actor;
}

/** What becomes of the unit an exchange takes back (seed 003: booked into stock). */
export const UNIT_DISPOSITIONS = ['restock', 'refurbish', 'scrap'] as const;
export type UnitDisposition = (typeof UNIT_DISPOSITIONS)[number];

/** One replacement sent to the customer; a refused one starts the next round. */
export interface Replacement {
  round: number;
  partNumber: string;
  carrier: string;
  trackingNumber: string;
  shippedAt: string;
  /** The customer's answer: null until given. */
  accepted: boolean | null;
}

export interface ReturnedUnit {
  partNumber: string;
  locationId: string;
  disposition: UnitDisposition;
  at: string;
  actor: Actor;
}

/** A return or exchange request on a ticket of that service type. */
export interface ReturnCase {
  kind: ReturnKind;
  returnReason: ReturnReason;
  proofs: ProofKind[];
  eligibility: Eligibility;
  /** Why the agent sends an ineligible request to the manager anyway; null when it is eligible or refused. */
  exception: string | null;
  requestedAt: string;
  requestedBy: Actor;
  /** How the customer paid for the product, when the request said: the refund's only method. */
  paidWith?: PaymentMethod;
  decision: ReturnDecision | null;
  /** After an approved return (absent before): the way back, the receipt, inspection, refund. */
  shipment?: ReturnShipment | null;
  receipt?: ReturnReceipt | null;
  inspections?: ReturnInspection[];
  refund?: Refund | null;
  /** After an approved exchange (absent before): the replacements sent and the unit taken back. */
  replacements?: Replacement[];
  returnedUnit?: ReturnedUnit | null;
}

/** A request waiting for the manager's approve or reject. */
export function isAwaitingDecision(returnCase: ReturnCase | null | undefined): boolean {
  return returnCase !== null && returnCase !== undefined && returnCase.decision === null;
}

/** A new request may be made: none yet, or the last one was refused or rejected (a reopened ticket). */
export function mayRequestAgain(returnCase: ReturnCase | null | undefined): boolean {
  if (returnCase === undefined) return false;
  return returnCase === null || (returnCase.decision !== null && returnCase.decision.outcome !== 'approved');
}
