import type { ActionInput } from './action-inputs';
import { meetClock, pauseClocks, resumeClocks, startClock } from './clocks';
import { DEFAULT_MONEY_RULES, formatYuan, priceQuote, type Quote } from './money';
import type { SlaPolicy } from './policy';
import { holderOf, personData } from './reach';
import type { Actor, TicketChange, TicketState, TicketStatus } from './ticket';
import { appendEvent, appendNotification } from './timeline';

/**
 * Seed 004's quote: out of warranty the engineer quotes parts and fees from the company price list
 * and the work waits for the customer's consent, or the ticket closes as declined with nothing
 * charged. The lifecycle wires these in.
 */
interface QuoteContext {
  readonly nowMs: number;
  readonly actor: Actor;
  readonly policy: SlaPolicy;
  /** Catalogue unit prices (fen) of the quoted parts, read by the workflow before it applies. */
  readonly prices?: Readonly<Record<string, number>>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Why the ticket cannot be quoted now, or undefined. */
export function quoteRefusal(state: TicketState): string | undefined {
  if (state.quote === undefined) return 'this ticket was opened before quotes';
  const type = state.intake.serviceType;
  if (type === 'return' || type === 'exchange') return 'a return or exchange is not quoted';
  return state.warranty.status === 'in_warranty'
    ? 'under warranty the work is free: nothing to quote'
    : undefined;
}

/** Out of warranty under a policy that holds the work: no service until a quote is accepted. */
export function needsConsent(state: TicketState): boolean {
  return (
    state.quoteBeforeWork === true &&
    state.warranty.status === 'out_of_warranty' &&
    state.quote?.status !== 'accepted'
  );
}

export function recordQuote(
  state: TicketState,
  input: ActionInput<'quote'>,
  { nowMs, actor, policy, prices = {} }: QuoteContext,
  change: TicketChange,
): void {
  const { lines, totalFen } = priceQuote({
    serviceType: state.intake.serviceType,
    parts: input.parts,
    prices,
    fees: policy.serviceFees ?? DEFAULT_MONEY_RULES.serviceFees,
  });
  const clock = startClock(state, 'quoteExpiry', nowMs, policy);
  // A new round keeps the one before (decided: a quote is re-sent only after an answer).
  if (state.quote) state.earlierQuotes = [...(state.earlierQuotes ?? []), state.quote];
  const quote: Quote = {
    round: (state.quote?.round ?? 0) + 1,
    lines,
    totalFen,
    status: 'pending',
    sentAt: iso(nowMs),
    expiresAt: clock.dueAt,
    decidedAt: null,
    resumeTo: state.status,
  };
  state.quote = quote;
  state.status = 'awaiting_consent';
  // Waiting on the customer, like a hold: the resolution clock waits too (SPEC 1.12).
  pauseClocks(state, nowMs);
  appendEvent(state, change, 'quoted', nowMs, actor, {
    round: quote.round,
    lines,
    totalFen,
    expiresAt: quote.expiresAt,
    ...(input.note ? { note: input.note } : {}),
  });
  const channels = state.intake.customer.email ? (['sms', 'email'] as const) : (['sms'] as const);
  for (const channel of channels) {
    appendNotification(state, change, {
      kind: 'quote_sent',
      recipientRole: 'customer',
      channel,
      nowMs,
      data: { totalFen, expiresAt: quote.expiresAt },
    });
  }
}

/** The customer's answer; returns true when declined (the caller closes the ticket as declined). */
export function recordConsent(
  state: TicketState,
  input: ActionInput<'consent'>,
  { nowMs, actor, policy }: QuoteContext,
  change: TicketChange,
): boolean {
  const quote = state.quote as Quote;
  quote.status = input.accepted ? 'accepted' : 'declined';
  quote.decidedAt = iso(nowMs);
  meetClock(state, 'quoteExpiry', nowMs);
  appendEvent(state, change, input.accepted ? 'quote_accepted' : 'quote_declined', nowMs, actor, {
    round: quote.round,
    totalFen: quote.totalFen,
    ...(input.note ? { note: input.note } : {}),
  });
  if (input.accepted) {
    state.status = quote.resumeTo as TicketStatus;
    resumeClocks(state, nowMs, policy);
    // Whoever holds the ticket may go on with the work.
    if (state.returnWaitClocks) {
      const holder = holderOf(state, 'quoteExpiry');
      appendNotification(state, change, {
        kind: 'quote_consented',
        recipientRole: holder.role,
        channel: 'internal',
        nowMs,
        data: { round: quote.round, totalFen: quote.totalFen, ...personData(holder) },
      });
    }
  }
  return !input.accepted;
}

/** Why a payment cannot be recorded now (before the amount is checked), or undefined. */
export function paymentRefusal(state: TicketState): string | undefined {
  if (state.payment === undefined) return 'this ticket was opened before payments';
  if (state.payment !== null) return 'the payment is already recorded';
  return state.quote?.status === 'accepted' && state.serviceRecords.length > 0
    ? undefined
    : 'a payment is recorded for a consented quote once the work is done';
}

/** The amount must be the consented quote's total. */
export function paymentAmountRefusal(
  state: TicketState,
  input: ActionInput<'record-payment'>,
): string | undefined {
  const total = state.quote?.totalFen ?? 0;
  return input.amountFen === total
    ? undefined
    : `amountFen must be the consented quote's total, ${total} (${formatYuan(total)})`;
}

/**
 * The work of a consented quote is done: its payment is owed, by the payment clock's deadline (on a
 * ticket with the waits' clocks). Returns the deadline when the clock started.
 */
export function startPaymentClock(state: TicketState, nowMs: number, policy: SlaPolicy): string | undefined {
  if (!state.returnWaitClocks || paymentRefusal(state) !== undefined) return undefined;
  return startClock(state, 'payment', nowMs, policy).dueAt;
}

export function recordPayment(
  state: TicketState,
  input: ActionInput<'record-payment'>,
  { nowMs, actor }: QuoteContext,
  change: TicketChange,
): void {
  state.payment = { ...input, at: iso(nowMs), actorId: actor.id };
  meetClock(state, 'payment', nowMs);
  appendEvent(state, change, 'payment_recorded', nowMs, actor, { ...input });
  appendNotification(state, change, {
    kind: 'payment_received',
    recipientRole: 'customer',
    channel: 'sms',
    nowMs,
    data: { amountFen: input.amountFen, method: input.method },
  });
}

/** Why the invoice cannot go now, or undefined: it follows the payment, to the customer's e-mail. */
export function invoiceRefusal(state: TicketState): string | undefined {
  if (!state.payment) return 'the invoice follows the payment: record-payment first';
  if (state.invoice) return 'the invoice is already sent';
  return state.intake.customer.email ? undefined : 'the customer has no e-mail address for the invoice';
}

export function recordInvoice(
  state: TicketState,
  input: ActionInput<'send-invoice'>,
  { nowMs, actor }: QuoteContext,
  change: TicketChange,
): void {
  state.invoice = { invoiceNumber: input.invoiceNumber, at: iso(nowMs) };
  appendEvent(state, change, 'invoice_sent', nowMs, actor, { ...input });
  appendNotification(state, change, {
    kind: 'invoice_sent',
    recipientRole: 'customer',
    channel: 'email',
    nowMs,
    data: { invoiceNumber: input.invoiceNumber, amountFen: state.payment?.amountFen },
  });
}

/** The quote expired unanswered: recorded; the caller closes the ticket as declined. */
export function expireQuote(state: TicketState, nowMs: number, change: TicketChange): void {
  const quote = state.quote as Quote;
  quote.status = 'expired';
  quote.decidedAt = iso(nowMs);
  appendEvent(state, change, 'quote_expired', nowMs, null, {
    round: quote.round,
    expiresAt: quote.expiresAt,
  });
}
