import type { HandlingCost, Rectification, TicketAnalysis } from './complaint-analysis';
import { CLOCK_RULES, isOpenEscalation, isRunning, isSlaBreached, nextDeadline } from './clocks';
import { allowedActions, type ActionName } from './lifecycle';
import { maskContactsInText, maskCustomer } from './masking';
import type { Invoice, Payment, Quote, Remedy } from './money';
import type { ReturnCase } from './returns';
import type {
  ClockName,
  EscalationLevel,
  EscalationState,
  TicketIntake,
  TicketState,
  TicketStatus,
  Warranty,
} from './ticket';

/** One SLA clock as API clients see it: live, so `remainingMs` and `breached` are as of the read. */
export interface SlaClockView {
  duration: string;
  startedAt: string;
  dueAt: string;
  metAt: string | null;
  breached: boolean;
  breachedAt: string | null;
  /** Set while the ticket is on hold and this clock waits. */
  pausedAt: string | null;
  /** When the warning before a breach is (or was) due; null when this clock gives none. */
  warnAt: string | null;
  /** When that warning went out to whoever holds the ticket. */
  warnedAt: string | null;
  remainingMs: number | null;
}

export interface TicketView
  extends
    Omit<TicketIntake, 'attachments'>,
    Pick<
      TicketState,
      | 'repeatOf'
      | 'plans'
      | 'appointment'
      | 'serviceRecords'
      | 'approval'
      | 'quality'
      | 'hold'
      | 'callbacks'
      | 'complaints'
      | 'reservices'
      | 'closure'
      | 'archivedAt'
    > {
  number: string;
  status: TicketStatus;
  returnCase: ReturnCase | null;
  quote: Quote | null;
  /** Every quote round, oldest first (the last is `quote`); the consented one is `accepted`. */
  quotes: Quote[];
  payment: Payment | null;
  invoice: Invoice | null;
  remedies: Remedy[];
  /** Complaint sub-type, problem type and liability as classified: `{}` until any is. */
  analysis: TicketAnalysis;
  rectification: Rectification | null;
  handlingCosts: HandlingCost[];
  /** The CustomerId search attribute: find all of this customer's tickets in Temporal UI. */
  customerId: string;
  attachments: string[];
  escalationLevel: EscalationLevel;
  escalations: (EscalationState & { open: boolean })[];
  assignee: string | null;
  dispatch: { attempt: number; manual: boolean; declines: TicketState['dispatch']['declines'] };
  warranty: Warranty;
  sla: Partial<Record<ClockName, SlaClockView>>;
  slaBreached: boolean;
  nextDeadline: string | null;
  allowedActions: ActionName[];
  version: number;
  createdAt: string;
  updatedAt: string;
}

export function ticketView(state: TicketState, nowMs: number): TicketView {
  const sla: Partial<Record<ClockName, SlaClockView>> = {};
  for (const [name, clock] of Object.entries(state.clocks) as [
    ClockName,
    TicketState['clocks'][ClockName],
  ][]) {
    if (!clock) continue;
    const dueAtMs = Date.parse(clock.dueAt);
    const metLate = clock.metAt !== null && Date.parse(clock.metAt) > dueAtMs;
    const running = isRunning(clock) && clock.pausedAt === null;
    sla[name] = {
      duration: clock.duration,
      startedAt: clock.startedAt,
      dueAt: clock.dueAt,
      metAt: clock.metAt,
      breached: clock.breachedAt !== null || metLate || (running && nowMs > dueAtMs),
      breachedAt: clock.breachedAt,
      pausedAt: clock.pausedAt,
      warnAt: clock.warnAt ?? null,
      warnedAt: clock.warnedAt ?? null,
      remainingMs: running ? Math.max(0, dueAtMs - nowMs) : null,
    };
  }
  const next = nextDeadline(state);
  return {
    number: state.number,
    status: state.status,
    ...state.intake,
    customerId: state.customerId,
    repeatOf: state.repeatOf,
    escalationLevel: state.escalationLevel,
    escalations: state.escalations.map((escalation) => ({
      ...escalation,
      open: isOpenEscalation(escalation),
    })),
    assignee: state.assignee,
    dispatch: {
      attempt: state.dispatch.attempt,
      manual: state.dispatch.manual,
      declines: state.dispatch.declines,
    },
    plans: state.plans,
    appointment: state.appointment,
    serviceRecords: state.serviceRecords,
    approval: state.approval,
    returnCase: state.returnCase ?? null,
    quote: state.quote ?? null,
    quotes: [...(state.earlierQuotes ?? []), ...(state.quote ? [state.quote] : [])],
    payment: state.payment ?? null,
    invoice: state.invoice ?? null,
    remedies: state.remedies ?? [],
    analysis: state.analysis ?? {},
    rectification: state.rectification ?? null,
    handlingCosts: state.handlingCosts ?? [],
    quality: state.quality,
    hold: state.hold,
    callbacks: state.callbacks,
    complaints: state.complaints,
    reservices: state.reservices,
    closure: state.closure,
    archivedAt: state.archivedAt,
    warranty: state.warranty,
    sla,
    slaBreached:
      isSlaBreached(state) ||
      (Object.entries(sla) as [ClockName, SlaClockView][]).some(
        ([name, clock]) => clock.breached && CLOCK_RULES[name].onDue.kind === 'escalate',
      ),
    nextDeadline: next ? new Date(next.dueAtMs).toISOString() : null,
    allowedActions: allowedActions(state),
    version: state.version,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}

/**
 * What an outside party (the `client` role: a shop app, a CRM) sees of the staff's work: not who did
 * it (staff actor and engineer ids read REDACTED; its own id stays) and not what staff wrote (notes,
 * reasons, comments, diagnoses, follow-up findings, declines). Statuses, clocks, appointments,
 * parts, fees and scores stay.
 */
export const REDACTED = '***';

/** Keys of free text in action inputs and timeline events: what a person wrote. */
export const FREE_TEXT_KEYS: readonly string[] = [
  'note',
  'text',
  'reason',
  'comment',
  'measures',
  'diagnosis',
  'fix',
  'cause',
  'improvementPlan',
  'customerConfirmation',
  'exception',
];

const STAFF_ID_KEYS: readonly string[] = ['engineerId', 'personId', 'responsibleId', 'superiorOf'];

/** An event's or input's data without free text, and with staff ids redacted. */
export function redactStaffData<T extends Record<string, unknown>>(data: T): T {
  return Object.fromEntries(
    Object.entries(data)
      .filter(([key]) => !FREE_TEXT_KEYS.includes(key))
      .map(([key, value]) => [key, STAFF_ID_KEYS.includes(key) && value ? REDACTED : value]),
  ) as T;
}

/**
 * Free text that may name a phone number or an e-mail address: the keys above, an engineer's
 * `rootCause` and the customer's own `description`.
 */
const CONTACT_TEXT_KEYS: readonly string[] = [...FREE_TEXT_KEYS, 'rootCause', 'description'];

/** A view, an event's data or an input with the contacts in its free text masked (maskContactsInText), at any depth. */
export function maskContactsInFreeText<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => maskContactsInFreeText(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      typeof inner === 'string'
        ? CONTACT_TEXT_KEYS.includes(key)
          ? maskContactsInText(inner)
          : inner
        : maskContactsInFreeText(inner),
    ]),
  ) as T;
}

/**
 * The ticket for a role that may not see customers' personal data (see maySeePersonalData): the
 * customer masked, and the phone numbers and e-mail addresses anyone typed into its free text
 * (notes, reasons, diagnoses, the description) masked the same way; the text itself stays.
 */
export function maskedView(view: TicketView): TicketView {
  return { ...maskContactsInFreeText(view), customer: maskCustomer(view.customer) };
}

export function redactActorId(actorId: string | null, viewerId: string): string | null {
  return actorId === null || actorId === viewerId ? actorId : REDACTED;
}

export function externalView(view: TicketView, viewerId: string): TicketView {
  const actor = <A extends { id: string }>(who: A): A => ({
    ...who,
    id: redactActorId(who.id, viewerId) ?? '',
  });
  const recorded = <R extends { actor: { id: string }; input: Record<string, unknown> }>(entry: R): R => ({
    ...entry,
    actor: actor(entry.actor),
    input: redactStaffData(entry.input),
  });
  return {
    ...view,
    assignee: view.assignee && REDACTED,
    escalations: view.escalations.map((escalation) => ({
      ...escalation,
      acknowledgedBy: redactActorId(escalation.acknowledgedBy, viewerId),
      ...(escalation.responsible && {
        responsible: {
          ...escalation.responsible,
          id: redactActorId(escalation.responsible.id, viewerId) ?? '',
        },
      }),
    })),
    dispatch: { ...view.dispatch, declines: [] },
    plans: view.plans.map(recorded),
    serviceRecords: view.serviceRecords.map(recorded),
    approval: view.approval && recorded(view.approval),
    returnCase: view.returnCase && {
      ...view.returnCase,
      exception: view.returnCase.exception && REDACTED,
      requestedBy: actor(view.returnCase.requestedBy),
      ...(view.returnCase.receipt && {
        receipt: {
          ...view.returnCase.receipt,
          signedBy: REDACTED,
          actor: actor(view.returnCase.receipt.actor),
        },
      }),
      ...(view.returnCase.inspections && {
        inspections: view.returnCase.inspections.map((inspection) => ({
          ...inspection,
          actor: actor(inspection.actor),
        })),
      }),
      ...(view.returnCase.returnedUnit && {
        returnedUnit: { ...view.returnCase.returnedUnit, actor: actor(view.returnCase.returnedUnit.actor) },
      }),
      ...(view.returnCase.refund && {
        refund: { ...view.returnCase.refund, actor: actor(view.returnCase.refund.actor) },
      }),
      decision: view.returnCase.decision && {
        ...view.returnCase.decision,
        actor: view.returnCase.decision.actor && actor(view.returnCase.decision.actor),
        ...(view.returnCase.decision.outcome === 'rejected' && { reason: REDACTED }),
      },
    },
    callbacks: view.callbacks.map(recorded),
    quality: view.quality && {
      ...view.quality,
      reviews: view.quality.reviews.map(({ comment: _comment, ...review }) => ({
        ...review,
        actor: actor(review.actor),
        ...(review.responsible && { responsible: actor(review.responsible) }),
      })),
    },
    rectification: view.rectification && {
      ...view.rectification,
      responsible: actor(view.rectification.responsible),
      ...(view.rectification.note !== undefined && { note: REDACTED }),
    },
    handlingCosts: view.handlingCosts.map(({ note: _note, ...cost }) => ({ ...cost, actorId: REDACTED })),
    hold: view.hold && { ...view.hold, reason: REDACTED },
    remedies: view.remedies.map((remedy) => ({
      ...remedy,
      offeredBy: REDACTED,
      decidedBy: remedy.decidedBy && REDACTED,
      ...(remedy.reason ? { reason: REDACTED } : {}),
    })),
  };
}
