import { deadlineAfter, type SlaPolicy } from './policy';
import {
  ESCALATION_ROLES,
  type ClockName,
  type ClockState,
  type EscalationLevel,
  type TicketChange,
  type TicketState,
} from './ticket';
import { appendEvent, appendNotification } from './timeline';
import type { SlaDuration } from './durations';

/**
 * The SLA clocks and what a missed one does. This is where "not acknowledged within 10 minutes →
 * supervisor" is decided; the workflow only waits for the next deadline and calls `breachDueClocks`.
 */
interface ClockRule {
  /** The name of the durable timer in Temporal UI, before its duration: "first-response SLA 10m". */
  readonly label: string;
  readonly duration: (policy: SlaPolicy) => SlaDuration;
  readonly escalateTo: Exclude<EscalationLevel, 0>;
  readonly reason: string;
  /** A missed phone callback falls back to a survey by SMS. */
  readonly smsSurveyOnBreach: boolean;
}

export const CLOCK_RULES: Readonly<Record<ClockName, ClockRule>> = {
  firstResponse: {
    label: 'first-response SLA',
    duration: (policy) => policy.firstResponse,
    escalateTo: 1,
    reason: 'first_response_missed',
    smsSurveyOnBreach: false,
  },
  callback: {
    label: 'callback',
    duration: (policy) => policy.callback,
    escalateTo: 1,
    reason: 'callback_missed',
    smsSurveyOnBreach: true,
  },
  complaintFollowUp: {
    label: 'complaint follow-up',
    duration: (policy) => policy.complaintFollowUp,
    escalateTo: 2,
    reason: 'complaint_follow_up_missed',
    smsSurveyOnBreach: false,
  },
};

export function startClock(
  state: TicketState,
  name: ClockName,
  nowMs: number,
  policy: SlaPolicy,
): ClockState {
  const duration = CLOCK_RULES[name].duration(policy);
  const clock: ClockState = {
    cycle: (state.clocks[name]?.cycle ?? 0) + 1,
    duration: duration.text,
    startedAt: new Date(nowMs).toISOString(),
    dueAt: new Date(deadlineAfter(nowMs, duration, policy.calendar)).toISOString(),
    metAt: null,
    breachedAt: null,
  };
  state.clocks[name] = clock;
  return clock;
}

export function isRunning(clock: ClockState | undefined): clock is ClockState {
  return clock !== undefined && clock.metAt === null && clock.breachedAt === null;
}

/** Stops a running clock as met (late or not: a breach already fired stays recorded). */
export function meetClock(state: TicketState, name: ClockName, nowMs: number): void {
  const clock = state.clocks[name];
  if (clock && clock.metAt === null) clock.metAt = new Date(nowMs).toISOString();
}

export interface NextDeadline {
  readonly clock: ClockName;
  readonly dueAtMs: number;
  /** The timer's name in Temporal UI. */
  readonly summary: string;
}

export function nextDeadline(state: TicketState): NextDeadline | undefined {
  let next: NextDeadline | undefined;
  for (const [name, clock] of Object.entries(state.clocks) as [ClockName, ClockState | undefined][]) {
    if (!isRunning(clock)) continue;
    const dueAtMs = Date.parse(clock.dueAt);
    if (!next || dueAtMs < next.dueAtMs) {
      next = { clock: name, dueAtMs, summary: `${CLOCK_RULES[name].label} ${clock.duration}` };
    }
  }
  return next;
}

/** Fires every running clock whose deadline has passed: one escalation each, recorded once. */
export function breachDueClocks(state: TicketState, nowMs: number, change: TicketChange): boolean {
  let breached = false;
  const now = new Date(nowMs).toISOString();
  for (const [name, clock] of Object.entries(state.clocks) as [ClockName, ClockState | undefined][]) {
    if (!isRunning(clock) || Date.parse(clock.dueAt) > nowMs) continue;
    const rule = CLOCK_RULES[name];
    clock.breachedAt = now;
    breached = true;
    state.escalationLevel = Math.max(state.escalationLevel, rule.escalateTo) as EscalationLevel;
    const escalation = {
      id: `${state.number}:${name}:${clock.cycle}`,
      ticketNumber: state.number,
      clock: name,
      level: rule.escalateTo,
      reason: rule.reason,
      missedDeadline: clock.dueAt,
      firedAt: now,
    };
    change.escalations.push(escalation);
    appendEvent(state, change, 'escalated', nowMs, null, {
      escalationId: escalation.id,
      clock: name,
      level: rule.escalateTo,
      reason: rule.reason,
      missedDeadline: clock.dueAt,
    });
    appendNotification(state, change, {
      kind: 'escalation',
      recipientRole: ESCALATION_ROLES[rule.escalateTo],
      channel: 'internal',
      nowMs,
      data: { escalationId: escalation.id, level: rule.escalateTo, reason: rule.reason },
    });
    if (rule.smsSurveyOnBreach) {
      appendNotification(state, change, {
        kind: 'sms_survey',
        recipientRole: 'customer',
        channel: 'sms',
        nowMs,
        data: {},
      });
    }
  }
  return breached;
}

export function isSlaBreached(state: TicketState): boolean {
  return Object.values(state.clocks).some((clock) => clock?.breachedAt);
}
