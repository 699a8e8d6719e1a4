import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  ParentClosePolicy,
  startChild,
  WorkflowIdReusePolicy,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { TicketActivities } from '../activities';
import { deliveryWorkflow } from './delivery';
import { ticketSearchAttributes } from '../temporal/search-attributes';
import { nextDeadline } from '../domain/clocks';
import {
  ACTION_NAMES,
  actionInputSchemas,
  applyAction,
  applyDispatchResult,
  assertTransition,
  dispatchNeeds,
  excludedEngineers,
  fireDue,
  IllegalTransitionError,
  needsDispatch,
  recordOpening,
  type ActionName,
} from '../domain/lifecycle';
import { isFinished, ROLES, type TicketChange, type TicketState } from '../domain/ticket';
import {
  actionUpdates,
  FAILURE_ILLEGAL_TRANSITION,
  FAILURE_INVALID_INPUT,
  ticketStateQuery,
  type ActionRequest,
  type TicketWorkflowInput,
} from './messages';

const ACTIVITY_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const;
const { recordTicketChange, findEngineer } = proxyActivities<TicketActivities>(ACTIVITY_OPTIONS);

function snapshot(state: TicketState): TicketState {
  return JSON.parse(JSON.stringify(state)) as TicketState;
}

function describe(state: TicketState): string {
  const next = nextDeadline(state);
  const level = state.escalationLevel > 0 ? ` · escalated L${state.escalationLevel}` : '';
  const deadline = next ? ` · next: ${next.summary} due ${new Date(next.dueAtMs).toISOString()}` : '';
  return `${state.number} · ${state.status}${level}${deadline}`;
}

/**
 * One service ticket, from intake to close. Its SLA clocks are durable timers: the loop below sleeps
 * until the nearest deadline, and any change to the ticket wakes it to re-plan.
 */
export async function ticketWorkflow(input: TicketWorkflowInput): Promise<TicketState> {
  const { policy } = input;
  const state = input.ticket;

  /** Versions whose change queued deliveries; the main loop starts a delivery workflow for each. */
  const deliveryQueue: number[] = [];

  async function persist(ticket: TicketState, change: TicketChange): Promise<void> {
    setCurrentDetails(describe(state));
    upsertSearchAttributes(ticketSearchAttributes(state));
    const summary = `record ${change.events.map((event) => event.type).join(', ')}`;
    const queued = await recordTicketChange.executeWithOptions({ ...ACTIVITY_OPTIONS, summary }, [
      { ticket, change },
    ]);
    if (queued > 0) deliveryQueue.push(ticket.version);
  }

  /** Each change's deliveries go out in a workflow of their own that outlives this one if need be. */
  async function startDeliveries(): Promise<void> {
    while (deliveryQueue.length > 0) {
      const version = deliveryQueue.shift() ?? 0;
      await startChild(deliveryWorkflow, {
        workflowId: `deliver-${state.number}-v${version}`,
        args: [{ ticketNumber: state.number, version, timeZone: policy.calendar.timeZone }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: `${state.number} · deliveries of version ${version}`,
      });
    }
  }

  function validateRequest(action: ActionName, request: ActionRequest<ActionName>): void {
    if (!request?.actor?.id || !ROLES.includes(request.actor.role)) {
      throw ApplicationFailure.nonRetryable('the request names no valid actor', FAILURE_INVALID_INPUT);
    }
    const parsed = actionInputSchemas[action].safeParse(request.input);
    try {
      assertTransition(state, action, parsed.success ? parsed.data : undefined, Date.now());
    } catch (error) {
      if (!(error instanceof IllegalTransitionError)) throw error;
      throw ApplicationFailure.nonRetryable(error.message, FAILURE_ILLEGAL_TRANSITION, {
        status: state.status,
        action,
        allowedActions: error.allowed,
      });
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw ApplicationFailure.nonRetryable(
        `${issue?.path.join('.') || 'input'}: ${issue?.message}`,
        FAILURE_INVALID_INPUT,
      );
    }
  }

  // The opening is taken before any handler is set: an Update already waiting runs as soon as its
  // handler is, and must find (and bump) the opened version, not share it.
  const openingChange =
    workflowInfo().continuedFromExecutionRunId === undefined ? recordOpening(state) : undefined;
  const opening = openingChange && { ticket: snapshot(state), change: openingChange };

  for (const action of ACTION_NAMES) {
    setHandler(
      actionUpdates[action],
      async (request: ActionRequest<ActionName>) => {
        const parsedInput = actionInputSchemas[action].parse(request.input);
        const change = applyAction(state, action, parsedInput, {
          nowMs: Date.now(),
          actor: request.actor,
          policy,
        });
        const persisted = snapshot(state);
        await persist(persisted, change);
        return persisted;
      },
      { validator: (request: ActionRequest<ActionName>) => validateRequest(action, request) },
    );
  }
  setHandler(ticketStateQuery, () => state);

  if (opening) await persist(opening.ticket, opening.change);

  while (!isFinished(state)) {
    if (deliveryQueue.length > 0) {
      await startDeliveries();
    } else if (needsDispatch(state)) {
      await dispatch();
    } else {
      const next = nextDeadline(state);
      const seenVersion = state.version;
      const changed = () => state.version !== seenVersion || needsDispatch(state) || deliveryQueue.length > 0;
      if (!next) {
        await condition(changed);
      } else {
        const waitMs = next.dueAtMs - Date.now();
        const woken = waitMs > 0 && (await condition(changed, waitMs, { summary: next.summary }));
        if (!woken) await fireDueDeadlines();
      }
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await startDeliveries();
      await continueAsNew<typeof ticketWorkflow>({ ticket: state, policy });
    }
  }
  await condition(allHandlersFinished);
  await startDeliveries();
  return state;

  async function fireDueDeadlines(): Promise<void> {
    const change = fireDue(state, Date.now(), policy);
    if (change.events.length > 0) await persist(snapshot(state), change);
  }

  /** Automatic dispatch: the activity picks and reserves an engineer; the lifecycle decides what it means. */
  async function dispatch(): Promise<void> {
    state.dispatch.attempt += 1;
    const attempt = state.dispatch.attempt;
    const engineerId = await findEngineer.executeWithOptions(
      { ...ACTIVITY_OPTIONS, summary: `dispatch attempt ${attempt}` },
      [
        {
          ticketNumber: state.number,
          attempt,
          needs: dispatchNeeds(state),
          exclude: excludedEngineers(state),
        },
      ],
    );
    const change = applyDispatchResult(state, attempt, engineerId, Date.now(), policy);
    await persist(snapshot(state), change);
  }
}

export { deliveryWorkflow } from './delivery';
