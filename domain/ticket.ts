import { z } from 'zod';

/** The vocabulary of a service ticket (SPEC section 1.1). */
export const CHANNELS = ['phone', 'web', 'app', 'email', 'wechat', 'marketplace', 'other'] as const;
export const CATEGORIES = ['fault', 'consultation', 'complaint', 'suggestion'] as const;
export const PRIORITIES = ['normal', 'urgent', 'critical'] as const;
export const SERVICE_TYPES = ['repair', 'installation', 'return', 'exchange', 'remote_support'] as const;
export const MOODS = ['calm', 'anxious', 'angry'] as const;
export const TICKET_STATUSES = [
  'new',
  'acknowledged',
  'resolved',
  'follow_up',
  'closed',
  'cancelled',
] as const;
export const ROLES = [
  'client',
  'agent',
  'engineer',
  'supervisor',
  'qc',
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

const PHONE_PATTERN = /^\+?[0-9][0-9 -]{5,19}$/;

export const ticketIntakeSchema = z
  .object({
    channel: z.enum(CHANNELS),
    category: z.enum(CATEGORIES),
    priority: z.enum(PRIORITIES),
    serviceType: z.enum(SERVICE_TYPES).optional(),
    customer: z
      .object({
        name: z.string().trim().min(1).max(100),
        phone: z.string().regex(PHONE_PATTERN, 'must be a phone number of 6 to 20 digits'),
        email: z.email().max(254).optional(),
        address: z.string().trim().min(1).max(500).optional(),
        tier: z.string().trim().min(1).max(32).optional(),
        /** The service region dispatch matches engineers by, e.g. "shanghai-pudong". */
        region: z.string().trim().min(1).max(100).optional(),
        /** Where the service happens, for dispatch by distance. */
        location: z
          .object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) })
          .strict()
          .optional(),
      })
      .strict(),
    product: z
      .object({
        model: z.string().trim().min(1).max(100),
        /** The product line dispatch matches engineers' skills against, e.g. "air-conditioner". */
        line: z.string().trim().min(1).max(100).optional(),
        serialNumber: z.string().trim().min(1).max(100).optional(),
        purchaseDate: z.iso.date().optional(),
        purchaseChannel: z.string().trim().min(1).max(100).optional(),
      })
      .strict()
      .optional(),
    description: z.string().trim().min(1).max(5000),
    mood: z.enum(MOODS).optional(),
    attachments: z.array(z.url().max(2000)).max(20).default([]),
    externalRef: z.string().trim().min(1).max(100).optional(),
  })
  .strict();

export type TicketIntake = z.infer<typeof ticketIntakeSchema>;

export interface Actor {
  readonly id: string;
  readonly role: Role;
}

export type ClockName = 'firstResponse' | 'callback' | 'complaintFollowUp';

/** A running or finished SLA clock. Instants are ISO strings so the state stays plain JSON. */
export interface ClockState {
  /** How many times this clock has started on the ticket (a callback is due again after a follow-up). */
  cycle: number;
  duration: string;
  startedAt: string;
  dueAt: string;
  metAt: string | null;
  breachedAt: string | null;
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

export interface EscalationRecord {
  /** Deterministic: `<number>:<clock>:<cycle>`, so a retried write can never record it twice. */
  id: string;
  ticketNumber: string;
  clock: ClockName;
  level: Exclude<EscalationLevel, 0>;
  reason: string;
  missedDeadline: string;
  firedAt: string;
}

export interface NotificationRecord {
  /** Deterministic: `<number>:n<seq>`. */
  key: string;
  ticketNumber: string;
  kind: 'critical_ticket_created' | 'escalation' | 'sms_survey';
  recipientRole: Role | 'customer';
  channel: 'internal' | 'sms';
  at: string;
  data: Record<string, unknown>;
}

export interface CallbackRecord {
  at: string;
  actor: Actor;
  complaint: boolean;
  input: Record<string, unknown>;
}

/** The whole lifecycle state of one ticket: owned by its workflow, projected to Postgres. */
export interface TicketState {
  number: string;
  version: number;
  status: TicketStatus;
  intake: TicketIntake;
  /** Keyed hash of the customer's phone: the CustomerId operators search by, never the phone itself. */
  customerId: string;
  warranty: Warranty;
  escalationLevel: EscalationLevel;
  assignee: string | null;
  clocks: Partial<Record<ClockName, ClockState>>;
  callbacks: CallbackRecord[];
  complaints: number;
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
  notifications: NotificationRecord[];
}

export function emptyChange(): TicketChange {
  return { events: [], escalations: [], notifications: [] };
}

export function isFinished(status: TicketStatus): boolean {
  return status === 'closed' || status === 'cancelled';
}

export function workflowIdOf(ticketNumber: string): string {
  return `ticket-${ticketNumber}`;
}
