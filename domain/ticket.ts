import type { z } from 'zod';
import type { HandlingCost, QcAspect, Rectification, TicketAnalysis } from './complaint-analysis';
import type { ticketIntakeSchema } from './intake';
import type { Invoice, Payment, Quote, Remedy } from './money';
import type { ReturnCase } from './returns';

/** The vocabulary of a service ticket (SPEC section 1.1). */
export const CHANNELS = ['phone', 'web', 'app', 'email', 'wechat', 'marketplace', 'other'] as const;
export const CATEGORIES = ['fault', 'consultation', 'complaint', 'suggestion'] as const;
export const PRIORITIES = ['normal', 'urgent', 'critical'] as const;
export const SERVICE_TYPES = ['repair', 'installation', 'return', 'exchange', 'remote_support'] as const;
export const MOODS = ['calm', 'anxious', 'angry'] as const;
export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
/**
 * new → acknowledged → planned → assigned → accepted → scheduled → in_service → (quality_check) →
 * resolved → (follow_up → resolved) → closed; on_hold pauses the work, cancelled ends it early. An
 * approved return instead goes returning → inspecting → refunding (or negotiating) → closed; an
 * approved exchange exchanging → replacement_shipped → (awaiting_unit) → closed.
 */
export const TICKET_STATUSES = [
  'new',
  'acknowledged',
  'planned',
  'assigned',
  'accepted',
  'scheduled',
  'in_service',
  'on_hold',
  'quality_check',
  'resolved',
  'follow_up',
  'returning',
  'inspecting',
  'refunding',
  'negotiating',
  'exchanging',
  'replacement_shipped',
  'awaiting_unit',
  'awaiting_consent',
  'closed',
  'cancelled',
] as const;
export const ROLES = [
  'client',
  'agent',
  'engineer',
  'supervisor',
  'qc',
  'parts',
  'finance',
  'manager',
  'director',
  'admin',
] as const;

export type Channel = (typeof CHANNELS)[number];
export type Category = (typeof CATEGORIES)[number];
export type Priority = (typeof PRIORITIES)[number];
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type Role = (typeof ROLES)[number];

/** 0 none, 1 supervisor, 2 manager, 3 director. */
export type EscalationLevel = 0 | 1 | 2 | 3;
export const ESCALATION_ROLES: Record<Exclude<EscalationLevel, 0>, Role> = {
  1: 'supervisor',
  2: 'manager',
  3: 'director',
};

export type TicketIntake = z.infer<typeof ticketIntakeSchema>;

export interface Actor {
  readonly id: string;
  readonly role: Role;
}

export const CLOCK_NAMES = [
  'firstResponse',
  'plan',
  'criticalTemporaryPlan',
  'dispatchAccept',
  'customerContact',
  'appointmentReminder',
  'resolution',
  'callback',
  'complaintFollowUp',
  'directorPlan',
  'reopenWindow',
  'partsWait',
  'partsApproval',
  'planDeadline',
  'returnApproval',
  'shipBack',
  'shipBackReminder',
  'refund',
  'quoteExpiry',
  'remedyApproval',
  'rectification',
  'replacementShipment',
  'replacementConfirmation',
  'unitReturn',
  'returnInspection',
  'returnNegotiation',
  'payment',
] as const;
export type ClockName = (typeof CLOCK_NAMES)[number];

/** A running or finished clock. Instants are ISO strings so the state stays plain JSON. */
export interface ClockState {
  /** How many times this clock has started on the ticket (a callback is due again after a follow-up). */
  cycle: number;
  duration: string;
  startedAt: string;
  dueAt: string;
  metAt: string | null;
  breachedAt: string | null;
  /** Set while the ticket is on hold and this clock pauses (the resolution clock). */
  pausedAt: string | null;
  /**
   * When the warning before a breach is due (policy `warnAt`), moved with the deadline; absent on
   * clocks that do not warn, and on clocks started under a policy without warnings.
   */
  warnAt?: string;
  /** When the warning went out: once per run of the clock. */
  warnedAt?: string;
}

export interface Warranty {
  status: 'in_warranty' | 'out_of_warranty' | 'unknown';
  expiresOn: string | null;
}

export interface TimelineEvent {
  seq: number;
  type: string;
  at: string;
  actor: Actor | null;
  data: Record<string, unknown>;
}

/** Why an escalation fired: a missed clock, or a second complaint on the ticket. */
export type EscalationSource = ClockName | 'secondComplaint';

export interface EscalationRecord {
  /**
   * Deterministic: `<number>:<source>:<cycle>` for the first level, `…:L<level>` for each climb, so a
   * retried write can never record it twice.
   */
  id: string;
  ticketNumber: string;
  clock: EscalationSource;
  level: Exclude<EscalationLevel, 0>;
  reason: string;
  missedDeadline: string;
  firedAt: string;
}

/** An escalation as the workflow tracks it: open until acknowledged, or superseded by the next level. */
export interface EscalationState extends EscalationRecord {
  /**
   * The person whose work the missed clock was (the engineer the ticket is with, or who
   * acknowledged it), told at once; each level's notice goes to their superior of that level. Absent
   * when no one person held it (the role's inbox), and on escalations from before.
   */
  responsible?: { readonly id: string; readonly role: Role };
  /** When it climbs one level if nobody acknowledges it; null at the top of the chain. */
  stepDueAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  supersededBy: string | null;
}

export interface EscalationUpdate {
  id: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  supersededBy?: string;
}

export const NOTIFICATION_KINDS = [
  'ticket_acknowledged',
  'critical_ticket_created',
  'urgent_ticket_created',
  'major_complaint',
  'progress',
  'escalation',
  'sms_survey',
  'manual_dispatch_needed',
  'dispatch_offer',
  'appointment_confirmed',
  'appointment_reminder',
  'follow_up_due',
  'clock_warning',
  'return_approval_needed',
  'return_refused',
  'return_decided',
  'ship_back_reminder',
  'return_lapsed',
  'return_received',
  'return_inspection_failed',
  'refund_due',
  'refund_issued',
  'replacement_needed',
  'replacement_shipped',
  'quote_sent',
  'payment_received',
  'invoice_sent',
  'remedy_granted',
  'remedy_approval_needed',
  'return_inbound',
  'quote_consented',
  'replacement_answered',
  'unit_to_inspect',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface NotificationRecord {
  /** Deterministic: `<number>:n<seq>`. */
  key: string;
  ticketNumber: string;
  kind: NotificationKind;
  /**
   * A role's on-duty people, the customer, the engineer in `data.engineerId` (a dispatch offer) or
   * the person in `data.personId`, whose role this is (a warning to whoever holds the ticket).
   */
  recipientRole: Role | 'customer';
  channel: 'internal' | 'sms' | 'email';
  at: string;
  data: Record<string, unknown>;
}

export interface CallbackRecord {
  at: string;
  actor: Actor;
  complaint: boolean;
  input: Record<string, unknown>;
}

export interface Recorded<T> {
  at: string;
  actor: Actor;
  input: T;
}

export interface DispatchState {
  /** Incremented for every automatic search, so each one is its own idempotent activity call. */
  attempt: number;
  /** The workflow owes an automatic dispatch (after a plan, a decline or a missed acceptance). */
  pending: boolean;
  /** Nobody matched: waiting for a person to `assign`. */
  manual: boolean;
  /** Engineers who declined or let the acceptance clock run out, with why. */
  declines: { engineerId: string; reason: string; at: string }[];
}

export interface HoldState {
  since: string;
  reason: string;
  resumeTo: TicketStatus;
}

export interface QualityState {
  /** Whether this resolution was drawn for review, and why. */
  required: boolean;
  reason: 'complaint' | 'repeat' | 'sampled' | 'not_sampled';
  reviews: {
    at: string;
    actor: Actor;
    score: number;
    band: 'excellent' | 'pass' | 'fail';
    /** Seed 000's three aspects, each 0–100; `score` is their mean (absent: one score was given). */
    aspects?: Record<QcAspect, number>;
    /** A failed review's person responsible for the rectification, and its deadline. */
    responsible?: { id: string; role: Role };
    rectifyBy?: string;
    comment?: string;
  }[];
}

/** The whole lifecycle state of one ticket: owned by its workflow, projected to Postgres. */
export interface TicketState {
  number: string;
  version: number;
  status: TicketStatus;
  intake: TicketIntake;
  /** Keyed hash of the customer's phone: the CustomerId operators search by, never the phone itself. */
  customerId: string;
  /** An earlier ticket of the same customer and product within 90 days, found at intake. */
  repeatOf: string | null;
  warranty: Warranty;
  escalationLevel: EscalationLevel;
  escalations: EscalationState[];
  assignee: string | null;
  /** Who acknowledged the ticket: the person it is with until an engineer holds it (absent before). */
  acknowledgedBy?: Actor;
  /**
   * Escalations name the person responsible and reach their superiors (domain/reach.ts). Set by the
   * workflow behind the `escalation-reach` patch, so a ticket whose history predates it replays
   * (and continues) with the role notices it had; carried through continue-as-new.
   */
  namesPeople?: true;
  /**
   * A plan's own `deadline` is a clock (`planDeadline`). Set by the workflow behind the
   * `plan-deadline-clock` patch: a ticket whose history predates it replays without the clock.
   */
  planDeadlines?: true;
  /**
   * A major complaint (a critical complaint, 重大投诉) goes to the manager at once. Set by the
   * workflow behind the `major-complaint-notice` patch.
   */
  majorComplaints?: true;
  /**
   * The customer hears progress by SMS (seed 003: 及时与客户沟通,反馈处理进度). Set by the workflow
   * behind the `customer-progress-sms` patch.
   */
  tellsProgress?: true;
  /**
   * A callback scoring 3 or less names its dissatisfaction category, and a failed QC review names
   * the person responsible for a rectification (a clock). Set by the workflow behind the
   * `complaint-analysis` patch: a ticket whose history predates it replays without either rule.
   */
  analysesComplaints?: true;
  /**
   * The waits of a return, an exchange and a payment have clocks (a replacement to ship, the
   * customer's answer, the unit back, an inspection, a negotiation, a payment) and the steps that
   * hand work on tell the staff who take it. Set by the workflow behind the `return-wait-clocks`
   * patch: a ticket whose history predates it replays without them.
   */
  returnWaitClocks?: true;
  /** Complaint sub-type, problem type (Q/S/P) and liability, as classified (absent: none yet). */
  analysis?: TicketAnalysis;
  /** The last failed review's rectification: absent until one is ordered. */
  rectification?: Rectification;
  /** What handling the complaint cost, one entry per `record-handling-cost`. */
  handlingCosts?: HandlingCost[];
  /**
   * Opened under the policy's `agentScope: "own"` (seed 002: 客服仅可查看/编辑负责工单): an agent acts
   * on it only once it acknowledged it or while it is assigned to it (domain/access.ts). Absent: any agent.
   */
  agentScope?: 'own';
  /** How the service in progress started (`start`'s mode); absent before it started, or before this field. */
  serviceMode?: 'onsite' | 'remote';
  /** When a failed remote service was converted to an on-site visit (`go-onsite`): it starts on site. */
  onsiteSince?: string;
  clocks: Partial<Record<ClockName, ClockState>>;
  plans: Recorded<Record<string, unknown>>[];
  dispatch: DispatchState;
  appointment: { slotStart: string; slotEnd: string | null; bookedAt: string } | null;
  serviceRecords: Recorded<Record<string, unknown>>[];
  approval: Recorded<Record<string, unknown>> | null;
  /**
   * The return or exchange request and its decision: null until requested; absent on a ticket opened
   * before returns had eligibility (its approve needs no request, as then).
   */
  returnCase?: ReturnCase | null;
  /**
   * The last quote (seed 004: out of warranty, priced from the price list, consented before work):
   * null until one is sent; absent on a ticket opened before quotes (nor is its work held for one).
   */
  quote?: Quote | null;
  /** The rounds before the last quote, oldest first, each as it was decided (absent: none yet). */
  earlierQuotes?: Quote[];
  /** The policy holds out-of-warranty work until the customer consents to a quote. */
  quoteBeforeWork?: boolean;
  /** The payment of the consented quote and its e-invoice: null until recorded (absent: before quotes). */
  payment?: Payment | null;
  invoice?: Invoice | null;
  /** Remedies offered on a follow-up (absent on a ticket opened before remedies). */
  remedies?: Remedy[];
  quality: QualityState | null;
  hold: HoldState | null;
  callbacks: CallbackRecord[];
  complaints: number;
  /** Reopens and failed quality reviews: each sends the ticket back for service. */
  reservices: number;
  closure: { at: string; reason: string } | null;
  /** The reopen window ran out: the ticket's workflow has finished. */
  archivedAt: string | null;
  createdBy: Actor;
  createdAt: string;
  updatedAt: string;
  eventSeq: number;
  notificationSeq: number;
}

/** What one change of a ticket writes besides its new state: the timeline, escalations, notifications. */
export interface TicketChange {
  events: TimelineEvent[];
  escalations: EscalationRecord[];
  escalationUpdates: EscalationUpdate[];
  notifications: NotificationRecord[];
}

export function emptyChange(): TicketChange {
  return { events: [], escalations: [], escalationUpdates: [], notifications: [] };
}

/** The ticket's workflow has nothing left to do: cancelled, or closed and past its reopen window. */
export function isFinished(state: Pick<TicketState, 'status' | 'archivedAt'>): boolean {
  return state.status === 'cancelled' || (state.status === 'closed' && state.archivedAt !== null);
}

export function workflowIdOf(ticketNumber: string): string {
  return `ticket-${ticketNumber}`;
}
