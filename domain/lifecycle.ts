import { z } from 'zod';
import { localDate } from './calendar';
import { meetClock, startClock } from './clocks';
import type { SlaPolicy } from './policy';
import {
  emptyChange,
  type Actor,
  type TicketChange,
  type TicketIntake,
  type TicketState,
  type TicketStatus,
} from './ticket';
import { appendEvent, appendNotification } from './timeline';
import { deriveWarranty } from './warranty';

/**
 * The ticket's lifecycle: which action is legal in which status, what each one records and which
 * clocks it starts or stops. Pure: the workflow applies it, the API and the tests read it.
 */
const score = z.number().int().min(1).max(5);

export const actionInputSchemas = {
  acknowledge: z.object({ note: z.string().trim().min(1).max(2000).optional() }).strict(),
  resolve: z.object({ summary: z.string().trim().min(1).max(5000) }).strict(),
  callback: z
    .object({
      channel: z.enum(['phone', 'sms', 'email', 'wechat', 'app']),
      scores: z
        .object({
          responsiveness: score,
          professionalism: score,
          attitude: score,
          resolution: score,
          overall: score,
          recommend: score,
        })
        .strict(),
      satisfaction: z.enum(['satisfied', 'average', 'dissatisfied']).optional(),
      comment: z.string().trim().max(2000).optional(),
    })
    .strict(),
  'follow-up': z
    .object({
      contactMade: z.boolean(),
      cause: z.string().trim().min(1).max(2000),
      improvementPlan: z.string().trim().min(1).max(5000),
    })
    .strict(),
  close: z
    .object({
      reason: z.enum(['customer_satisfied', 'customer_unreachable']),
      note: z.string().trim().min(1).max(2000).optional(),
    })
    .strict(),
} as const;

export type ActionName = keyof typeof actionInputSchemas;
export type ActionInput<A extends ActionName> = z.infer<(typeof actionInputSchemas)[A]>;
export const ACTION_NAMES = Object.keys(actionInputSchemas) as ActionName[];

const ALLOWED_FROM: Readonly<Record<ActionName, readonly TicketStatus[]>> = {
  acknowledge: ['new'],
  resolve: ['acknowledged'],
  callback: ['resolved'],
  'follow-up': ['follow_up'],
  close: ['resolved'],
};

export function allowedActions(status: TicketStatus): ActionName[] {
  return ACTION_NAMES.filter((action) => ALLOWED_FROM[action].includes(status));
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly action: ActionName,
    readonly status: TicketStatus,
  ) {
    const allowed = allowedActions(status);
    super(
      `cannot ${action} a ticket that is ${status}; allowed now: ${allowed.length ? allowed.join(', ') : 'none'}`,
    );
    this.name = 'IllegalTransitionError';
  }
}

export function assertTransition(state: TicketState, action: ActionName): void {
  if (!ALLOWED_FROM[action].includes(state.status)) throw new IllegalTransitionError(action, state.status);
}

export interface TransitionContext {
  readonly nowMs: number;
  readonly actor: Actor;
  readonly policy: SlaPolicy;
}

interface OpenTicketRequest {
  readonly number: string;
  readonly intake: TicketIntake;
  readonly customerId: string;
  readonly createdBy: Actor;
  readonly createdAtMs: number;
  readonly policy: SlaPolicy;
}

/** A new ticket with its first-response clock running. */
export function openTicket(request: OpenTicketRequest): TicketState {
  const createdAt = new Date(request.createdAtMs).toISOString();
  const state: TicketState = {
    number: request.number,
    version: 1,
    status: 'new',
    intake: request.intake,
    customerId: request.customerId,
    warranty: deriveWarranty(
      request.intake.product?.purchaseDate,
      request.policy.warrantyMonths,
      localDate(request.createdAtMs, request.policy.calendar.timeZone),
    ),
    escalationLevel: 0,
    assignee: null,
    clocks: {},
    callbacks: [],
    complaints: 0,
    createdBy: request.createdBy,
    createdAt,
    updatedAt: createdAt,
    eventSeq: 0,
    notificationSeq: 0,
  };
  startClock(state, 'firstResponse', request.createdAtMs, request.policy);
  return state;
}

/** What opening a ticket records: its creation, and for a critical one the supervisor's notice. */
export function recordOpening(state: TicketState): TicketChange {
  const change = emptyChange();
  const createdAtMs = Date.parse(state.createdAt);
  appendEvent(state, change, 'created', createdAtMs, state.createdBy, {
    channel: state.intake.channel,
    category: state.intake.category,
    priority: state.intake.priority,
  });
  if (state.intake.priority === 'critical') {
    appendNotification(state, change, {
      kind: 'critical_ticket_created',
      recipientRole: 'supervisor',
      channel: 'internal',
      nowMs: createdAtMs,
      data: { priority: 'critical' },
    });
  }
  return change;
}

function isComplaint(input: ActionInput<'callback'>): boolean {
  return (
    Object.values(input.scores).some((value) => value <= 3) ||
    input.satisfaction === 'average' ||
    input.satisfaction === 'dissatisfied'
  );
}

type Apply<A extends ActionName> = (
  state: TicketState,
  input: ActionInput<A>,
  context: TransitionContext,
  change: TicketChange,
) => void;

const APPLY: { readonly [A in ActionName]: Apply<A> } = {
  acknowledge(state, input, { nowMs, actor }, change) {
    state.status = 'acknowledged';
    meetClock(state, 'firstResponse', nowMs);
    appendEvent(state, change, 'acknowledged', nowMs, actor, { ...input });
  },
  resolve(state, input, { nowMs, actor, policy }, change) {
    state.status = 'resolved';
    const callback = startClock(state, 'callback', nowMs, policy);
    appendEvent(state, change, 'resolved', nowMs, actor, { ...input, callbackDueAt: callback.dueAt });
  },
  callback(state, input, { nowMs, actor, policy }, change) {
    const complaint = isComplaint(input);
    meetClock(state, 'callback', nowMs);
    state.callbacks.push({ at: new Date(nowMs).toISOString(), actor, complaint, input: { ...input } });
    appendEvent(state, change, 'callback_recorded', nowMs, actor, { ...input, complaint });
    if (complaint) {
      state.complaints += 1;
      state.status = 'follow_up';
      const followUp = startClock(state, 'complaintFollowUp', nowMs, policy);
      appendEvent(state, change, 'complaint_opened', nowMs, actor, { followUpDueAt: followUp.dueAt });
    } else {
      state.status = 'closed';
      appendEvent(state, change, 'closed', nowMs, actor, { reason: 'customer_satisfied' });
    }
  },
  'follow-up'(state, input, { nowMs, actor, policy }, change) {
    meetClock(state, 'complaintFollowUp', nowMs);
    state.status = 'resolved';
    const callback = startClock(state, 'callback', nowMs, policy);
    appendEvent(state, change, 'follow_up_recorded', nowMs, actor, {
      ...input,
      callbackDueAt: callback.dueAt,
    });
  },
  close(state, input, { nowMs, actor }, change) {
    state.status = 'closed';
    meetClock(state, 'callback', nowMs);
    appendEvent(state, change, 'closed', nowMs, actor, { ...input });
  },
};

/**
 * Applies a legal action to the state in place and returns what it records. The caller has checked
 * `assertTransition` and parsed the input with `actionInputSchemas`.
 */
export function applyAction<A extends ActionName>(
  state: TicketState,
  action: A,
  input: ActionInput<A>,
  context: TransitionContext,
): TicketChange {
  assertTransition(state, action);
  const change = emptyChange();
  (APPLY[action] as Apply<A>)(state, input, context, change);
  touch(state, context.nowMs);
  return change;
}

/** Every change bumps the version: the projection keeps only the newest. */
export function touch(state: TicketState, nowMs: number): void {
  state.version += 1;
  state.updatedAt = new Date(nowMs).toISOString();
}
