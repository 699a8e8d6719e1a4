import { addBusinessTime, type BusinessCalendar } from './calendar';
import type { SlaDuration, WallDuration } from './durations';
import type { Priority } from './ticket';

/**
 * The SLA policy after parsing (see config/policy-file.ts for the file format). Plain JSON, so a
 * ticket workflow carries the snapshot it was opened under through every continue-as-new.
 */
export interface SlaPolicy {
  readonly calendar: BusinessCalendar;
  readonly firstResponse: SlaDuration;
  readonly escalationStep: SlaDuration;
  readonly plan: Readonly<Record<Priority, SlaDuration>>;
  readonly dispatchAccept: SlaDuration;
  readonly customerContact: SlaDuration;
  /** How long before the slot the reminder goes out: counted back on the wall clock. */
  readonly appointmentReminder: WallDuration;
  readonly resolution: Readonly<Record<Priority, SlaDuration>>;
  readonly criticalTemporaryPlan: SlaDuration;
  readonly callback: SlaDuration;
  readonly complaintFollowUp: SlaDuration;
  readonly directorPlan: SlaDuration;
  readonly reopenWindow: SlaDuration;
  readonly warrantyMonths: number;
  readonly qcSampleRate: number;
}

/** The customer's own numbers (SPEC section 1), as the policy file would spell them. */
export const DEFAULT_POLICY_DOCUMENT = {
  timeZone: 'Asia/Shanghai',
  calendar: {
    workingDays: ['mon', 'tue', 'wed', 'thu', 'fri'],
    workingHours: [['09:00', '18:00']],
    holidays: [],
    extraWorkingDays: [],
  },
  firstResponse: '10m',
  escalationStep: '30m',
  plan: { normal: '2h', urgent: '30m', critical: '10m' },
  dispatchAccept: '15m',
  customerContact: '30m',
  appointmentReminder: '1h',
  resolution: { normal: '5bd', urgent: '3bd', critical: '7bd' },
  criticalTemporaryPlan: '24h',
  callback: '24h',
  complaintFollowUp: '1h',
  directorPlan: '48h',
  reopenWindow: '30d',
  warrantyMonths: 12,
  qcSampleRate: 0.3,
} as const;

/** The instant a clock started at `startMs` is due, on the wall clock or the business calendar. */
export function deadlineAfter(startMs: number, duration: SlaDuration, calendar: BusinessCalendar): number {
  if (duration.kind === 'wall') return startMs + duration.ms;
  return addBusinessTime(startMs, duration.amount, duration.unit, calendar);
}
