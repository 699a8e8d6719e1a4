import { isRunning, isSlaBreached, nextDeadline } from './clocks';
import { allowedActions, type ActionName } from './lifecycle';
import type { ClockName, EscalationLevel, TicketIntake, TicketState, TicketStatus, Warranty } from './ticket';

/** One SLA clock as API clients see it: live, so `remainingMs` and `breached` are as of the read. */
export interface SlaClockView {
  duration: string;
  startedAt: string;
  dueAt: string;
  metAt: string | null;
  breached: boolean;
  breachedAt: string | null;
  remainingMs: number | null;
}

export interface TicketView extends Omit<TicketIntake, 'attachments'> {
  number: string;
  status: TicketStatus;
  /** The CustomerId search attribute: find all of this customer's tickets in Temporal UI. */
  customerId: string;
  attachments: string[];
  escalationLevel: EscalationLevel;
  assignee: string | null;
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
    sla[name] = {
      duration: clock.duration,
      startedAt: clock.startedAt,
      dueAt: clock.dueAt,
      metAt: clock.metAt,
      breached: clock.breachedAt !== null || metLate || (isRunning(clock) && nowMs > dueAtMs),
      breachedAt: clock.breachedAt,
      remainingMs: isRunning(clock) ? Math.max(0, dueAtMs - nowMs) : null,
    };
  }
  const next = nextDeadline(state);
  return {
    number: state.number,
    status: state.status,
    ...state.intake,
    customerId: state.customerId,
    escalationLevel: state.escalationLevel,
    assignee: state.assignee,
    warranty: state.warranty,
    sla,
    slaBreached: isSlaBreached(state) || Object.values(sla).some((clock) => clock?.breached),
    nextDeadline: next ? new Date(next.dueAtMs).toISOString() : null,
    allowedActions: allowedActions(state.status),
    version: state.version,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}
