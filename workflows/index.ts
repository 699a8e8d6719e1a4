import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { Mutex } from 'async-mutex';
import type { TicketActivities } from '../activities';
import { ticketSearchAttributes } from '../temporal/search-attributes';
import { hasPendingWarning, nextDeadline, type DeadlineOptions } from '../domain/clocks';
import { assignRefusal, type AssignRefusal } from '../domain/dispatch';
import {
  ACTION_NAMES,
  actionInputSchema,
  applyAction,
  applyDispatchResult,
  applyPartsEvent,
  assertTransition,
  dispatchNeeds,
  excludedEngineers,
  fireDue,
  holdsEngineer,
  IllegalTransitionError,
  needsDispatch,
  partsEventRefusal,
  recordOpening,
  type ActionInput,
  type ActionName,
} from '../domain/lifecycle';
import { upgradeLegacyResolve } from '../domain/action-inputs';
import { authorizeAction } from '../domain/access';
import { endsWithoutSettlement, PARTS_EVENT_KINDS, type OldPartDisposition } from '../domain/parts';
import { nextReplacementRound } from '../domain/return-actions';
import { isFinished, type Actor, type TicketChange, type TicketState } from '../domain/ticket';
import {
  actionUpdates,
  FAILURE_AT_CAPACITY,
  FAILURE_FORBIDDEN,
  FAILURE_ILLEGAL_TRANSITION,
  FAILURE_INVALID_INPUT,
  partsUpdate,
  ticketStateQuery,
  type ActionRequest,
  type PartsEventRequest,
  type TicketWorkflowInput,
} from './messages';

export { monthlyReportWorkflow } from './monthly-report';
export { retentionWorkflow } from './retention';

/**
 * The ticket's writes are local activities: they run in the worker that holds the ticket, answer
 * within the same workflow task (an Update's answer waits for one worker round trip, not three) and
 * leave one marker in the history instead of three events and a workflow task. Retries back off
 * inside the worker up to a minute, then on a durable timer.
 */
const ACTIVITY_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const;
const {
  recordTicketChange,
  findEngineer,
  engineerLoad,
  reserveAssignee,
  releaseAssignee,
  settleTicketParts,
  releaseUnplannedParts,
  issueExchangeReplacement,
  bookExchangedUnit,
  restockRefusedReplacement,
  quotePrices,
} = proxyLocalActivities<TicketActivities>(ACTIVITY_OPTIONS);

/** Since this patch a manual assign checks its engineer; tickets whose assigns ran before replay without. */
const ASSIGN_CHECKS_ENGINEER = 'assign-checks-engineer';
/**
 * Since this patch a manual assign's check also reserves the engineer's place, under the dispatch
 * lock; assigns recorded between the two patches replay with the check alone.
 */
const ASSIGN_RESERVES_ENGINEER = 'assign-reserves-engineer';
/** Since this patch resolve and cancel settle the ticket's reserved parts; earlier ones replay without. */
const SETTLES_PARTS = 'settles-parts';
/** Since this patch a plan that names its parts releases the rest; no earlier plan named any. */
const PLAN_RELEASES_PARTS = 'plan-releases-parts';

/**
 * Since this patch the loop also sleeps towards each clock's warning before a breach (policy
 * `warnAt`) and sends it; a run that replays without the marker watches deadlines only.
 */
const CLOCK_WARNINGS = 'clock-warnings';

/**
 * Since this patch escalations name the person responsible and reach their superiors: the ticket's
 * state says so (`namesPeople`). A history from before replays without it, and keeps the role
 * notices it had, so its notification and event numbers go on as they were recorded.
 */
const ESCALATION_REACH = 'escalation-reach';

/** Since this patch a plan's own deadline is a clock (`planDeadline`), and must lie ahead. */
const PLAN_DEADLINE_CLOCK = 'plan-deadline-clock';

/** Since this patch a major complaint (a critical complaint) notifies the manager at once. */
const MAJOR_COMPLAINT_NOTICE = 'major-complaint-notice';

/** Since this patch the customer hears progress by SMS (unless the ticket opted out). */
const CUSTOMER_PROGRESS_SMS = 'customer-progress-sms';

/**
 * Since this patch a callback scoring 3 or less names its dissatisfaction category and a failed QC
 * review names the person responsible for a rectification, whose deadline is a clock.
 */
const COMPLAINT_ANALYSIS = 'complaint-analysis';

/** Since this patch an urgent ticket's opening notifies the supervisor, as a critical one's does. */
const URGENT_SUPERVISOR_NOTICE = 'urgent-supervisor-notice';
/** Since this patch an exchange's stock moves (replacement out, unit in) before its action applies. */
const EXCHANGE_MOVES_STOCK = 'exchange-moves-stock';
/** Since this patch a replacement the customer refuses is booked back into stock after the answer applies. */
const EXCHANGE_RESTOCKS_REFUSED = 'exchange-restocks-refused';
/** Since this patch a quote reads its parts' prices from the catalogue before it applies. */
const QUOTE_READS_PRICES = 'quote-reads-prices';
/**
 * Since this patch a ticket whose work ends without a resolve or cancel (a declined or expired quote,
 * a refused, rejected or lapsed return or exchange) releases the parts it holds; before, they stayed
 * reserved.
 */
const CLOSING_RELEASES_PARTS = 'closing-releases-parts';
/**
 * Since this patch the waits of a return, an exchange and a payment have clocks and the steps that
 * hand work on tell the staff who take it (`TicketState.returnWaitClocks`).
 */
const RETURN_WAIT_CLOCKS = 'return-wait-clocks';

/**
 * Every patch above, for tickets started since: one marker in their history instead of one per patch.
 * Each marker comes with an upsert of the `TemporalChangeVersion` search attribute that the server
 * indexes; a new ticket's first workflow task carried seven of each and its warning task one more.
 * Measured with the escalation storm under `npm run dev` (10 tickets/s, one healthy receiver): the dev
 * server used 65 % of a core with eight markers, 55 % with this one (lateness p99 0.80 s, 0.63 s). Runs
 * started before this patch replay with their own markers. A patch added later gets a marker of its
 * own until the next such generation takes it in.
 */
const PATCHES_UP_TO_2026_12 = 'patches-up-to-2026-12';

/** An actor's shape: an id and a role name; whether the role is one is `authorizeAction`'s to say. */
function isActor(value: unknown): value is Actor {
  const actor = value as Partial<Record<keyof Actor, unknown>> | null | undefined;
  return typeof actor?.id === 'string' && actor.id.length > 0 && typeof actor.role === 'string';
}

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
  const currentGeneration = patched(PATCHES_UP_TO_2026_12);
  /** Whether a patch's change applies: in a run of the current generation always, else by its marker. */
  const applies = (patchId: string) => currentGeneration || patched(patchId);
  if (applies(ESCALATION_REACH)) state.namesPeople = true;
  else delete state.namesPeople;
  if (applies(PLAN_DEADLINE_CLOCK)) state.planDeadlines = true;
  else delete state.planDeadlines;
  if (applies(MAJOR_COMPLAINT_NOTICE)) state.majorComplaints = true;
  else delete state.majorComplaints;
  if (applies(CUSTOMER_PROGRESS_SMS)) state.tellsProgress = true;
  else delete state.tellsProgress;
  if (applies(COMPLAINT_ANALYSIS)) state.analysesComplaints = true;
  else delete state.analysesComplaints;
  if (applies(RETURN_WAIT_CLOCKS)) state.returnWaitClocks = true;
  else delete state.returnWaitClocks;

  /**
   * One local activity at a time. Two running at once (an Update's write and the dispatch it
   * triggers) finish in separate workflow tasks when live but in one on replay, so what follows
   * them would be ordered differently: nondeterminism. The lifecycle itself is applied at once,
   * in the order the Updates were validated; only the I/O waits its turn. (A manual assign is the
   * exception: it applies after its engineer's place is reserved, see `reserveAssignment`.)
   */
  const io = new Mutex();

  /** Writes the change with what it queues to send; a delivery relay sends that apart from the ticket. */
  function persist(ticket: TicketState, change: TicketChange): Promise<void> {
    return io.runExclusive(async () => {
      setCurrentDetails(describe(state));
      upsertSearchAttributes(ticketSearchAttributes(state));
      const summary = `record ${change.events.map((event) => event.type).join(', ')}`;
      await recordTicketChange.executeWithOptions({ ...ACTIVITY_OPTIONS, summary }, [{ ticket, change }]);
    });
  }

  /**
   * Refuses before anything is written: who asks (the same rule as the API's, on the workflow's own
   * state, so a direct Temporal call obeys it too), then whether the transition is legal now, then
   * the input.
   */
  function validateRequest(action: ActionName, request: ActionRequest<ActionName>): void {
    const actor: unknown = request?.actor;
    if (!isActor(actor)) {
      throw ApplicationFailure.nonRetryable('the request names no valid actor', FAILURE_INVALID_INPUT);
    }
    const parsed = actionInputSchema(action).safeParse(request.input);
    const forbidden = authorizeAction(state, action, parsed.success ? parsed.data : undefined, actor);
    if (forbidden) throw ApplicationFailure.nonRetryable(forbidden, FAILURE_FORBIDDEN);
    assertLegal(action, parsed.success ? parsed.data : undefined);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw ApplicationFailure.nonRetryable(
        `${issue?.path.join('.') || 'input'}: ${issue?.message}`,
        FAILURE_INVALID_INPUT,
      );
    }
  }

  /** `assertTransition`, refusing the Update (not failing the workflow task) when it is illegal now. */
  function assertLegal<A extends ActionName>(action: A, input: ActionInput<A> | undefined): void {
    try {
      assertTransition(state, action, input, Date.now());
    } catch (error) {
      if (!(error instanceof IllegalTransitionError)) throw error;
      throw ApplicationFailure.nonRetryable(error.message, FAILURE_ILLEGAL_TRANSITION, {
        status: state.status,
        action,
        allowedActions: error.allowed,
      });
    }
  }

  /** A manual assign's engineer refused: unknown or inactive (422), or at capacity (409). */
  function refuseAssign(refusal: AssignRefusal | null): void {
    if (refusal?.kind === 'unknownEngineer') {
      throw ApplicationFailure.nonRetryable(refusal.message, FAILURE_INVALID_INPUT);
    }
    if (refusal) {
      const { openLoad, capacity } = refusal;
      throw ApplicationFailure.nonRetryable(refusal.message, FAILURE_AT_CAPACITY, { openLoad, capacity });
    }
  }

  /**
   * A manual assign's engineer must be active and below its capacity unless the input overrides it
   * (`assignRefusal`, the API's rule too). Only I/O can tell, so the handler asks before it applies;
   * Updates validated meanwhile apply first, and the assign is refused if one of them made it illegal.
   * Assigns recorded before `reserveAssignment` replay through this read alone.
   */
  async function checkAssignee(input: ActionInput<'assign'>): Promise<void> {
    const { engineerId } = input;
    const engineer = await io.runExclusive(() =>
      engineerLoad.executeWithOptions({ ...ACTIVITY_OPTIONS, summary: `check engineer ${engineerId}` }, [
        { engineerId, ticketNumber: state.number },
      ]),
    );
    refuseAssign(assignRefusal(engineerId, engineer, input.overCapacity === true));
    assertLegal('assign', input);
  }

  /**
   * A manual assign's check takes the engineer's place at once (in the transaction, under the lock
   * automatic dispatch takes), so two assigns of two tickets sent together cannot both take its last
   * place: the second counts the first. Updates validated meanwhile apply first; if one made the
   * assign illegal, the place goes back to what the ticket's state says before the refusal, within
   * the same turn at the ticket's I/O, so nothing of the ticket's writes can come between.
   */
  async function reserveAssignment(input: ActionInput<'assign'>): Promise<void> {
    const { engineerId } = input;
    await io.runExclusive(async () => {
      const reservation = {
        ticketNumber: state.number,
        engineerId,
        overCapacity: input.overCapacity === true,
        attempt: state.dispatch.attempt,
      };
      refuseAssign(
        await reserveAssignee.executeWithOptions(
          { ...ACTIVITY_OPTIONS, summary: `reserve engineer ${engineerId}` },
          [reservation],
        ),
      );
      try {
        assertLegal('assign', input);
      } catch (error) {
        const release = {
          ticketNumber: state.number,
          engineerId,
          assignee: state.assignee,
          holds: holdsEngineer(state),
        };
        await releaseAssignee.executeWithOptions(
          { ...ACTIVITY_OPTIONS, summary: `release engineer ${engineerId}` },
          [release],
        );
        throw error;
      }
    });
  }

  /**
   * An exchange's stock moves before its action applies, so a refusal writes nothing on the ticket:
   * the replacement leaves stock from the ticket's reservation (none reserved: refused, 409), the
   * unit taken back comes in (an unknown part or location: refused, 422). Each is keyed by its step,
   * so a retried activity moves nothing twice. Updates validated meanwhile apply first.
   */
  async function moveExchangeStock(
    action: 'ship-replacement' | 'receive-unit',
    input: ActionInput<'ship-replacement'> | ActionInput<'receive-unit'>,
    actor: Actor,
  ): Promise<void> {
    if (action === 'ship-replacement') {
      const round = nextReplacementRound(state);
      const issue = {
        ticketNumber: state.number,
        partNumber: input.partNumber,
        key: `exchange:${state.number}:replacement:${round}`,
        actorId: actor.id,
      };
      const issued = await io.runExclusive(() =>
        issueExchangeReplacement.executeWithOptions(
          { ...ACTIVITY_OPTIONS, summary: `issue replacement ${input.partNumber}` },
          [issue],
        ),
      );
      if (issued === 0) {
        throw ApplicationFailure.nonRetryable(
          `no ${input.partNumber} is reserved for this ticket: reserve the replacement with parts-request first (a shortage starts the partsWait clock)`,
          FAILURE_ILLEGAL_TRANSITION,
        );
      }
    } else {
      const { partNumber, locationId, disposition } = input as ActionInput<'receive-unit'>;
      const unit = {
        ticketNumber: state.number,
        partNumber,
        locationId,
        disposition,
        key: `exchange:${state.number}:unit`,
        actorId: actor.id,
      };
      const refusal = await io.runExclusive(() =>
        bookExchangedUnit.executeWithOptions({ ...ACTIVITY_OPTIONS, summary: `book unit ${disposition}` }, [
          unit,
        ]),
      );
      if (refusal) throw ApplicationFailure.nonRetryable(refusal, FAILURE_INVALID_INPUT);
    }
    assertLegal(action, input);
  }

  /**
   * The replacement of `round` the customer refused goes back into stock where it was issued from.
   * Its key names the round, so a retried activity (or a worker that died before it reported)
   * books it once; a replacement shipped before stock moved for exchanges left no issue: nothing.
   */
  async function restockRefused(round: number, actor: Actor): Promise<void> {
    const issueKey = `exchange:${state.number}:replacement:${round}`;
    const refused = { ticketNumber: state.number, issueKey, key: `${issueKey}:refused`, actorId: actor.id };
    await io.runExclusive(() =>
      restockRefusedReplacement.executeWithOptions(
        { ...ACTIVITY_OPTIONS, summary: `restock refused replacement ${round}` },
        [refused],
      ),
    );
  }

  /**
   * A quote's parts are priced from the catalogue (I/O, so before the quote applies); a part the
   * catalogue does not have refuses the quote (422) with nothing written.
   */
  async function priceQuotedParts(input: ActionInput<'quote'>): Promise<Record<string, number>> {
    const partNumbers = [...new Set(input.parts.map((part) => part.partNumber))].sort();
    if (partNumbers.length === 0) return {};
    const { prices, unknown } = await io.runExclusive(() =>
      quotePrices.executeWithOptions({ ...ACTIVITY_OPTIONS, summary: 'price the quote' }, [partNumbers]),
    );
    if (unknown.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `parts.partNumber: not in the catalogue: ${unknown.join(', ')}`,
        FAILURE_INVALID_INPUT,
      );
    }
    assertLegal('quote', input);
    return prices;
  }

  /**
   * After a resolve, what the service record used is issued from the ticket's reservations and the
   * rest released; after a cancel, all of it is released. The key names this step (the ticket's
   * version the action made), so a retried activity settles nothing twice.
   */
  async function settleParts(
    action: 'resolve' | 'cancel',
    input: unknown,
    actorId: string,
    version: number,
  ): Promise<void> {
    const used: Record<string, number> = {};
    const dispositions: Record<string, OldPartDisposition> = {};
    if (action === 'resolve') {
      for (const part of (input as ActionInput<'resolve'>).parts) {
        used[part.partNumber] = (used[part.partNumber] ?? 0) + part.quantity;
        if (part.oldPartDisposition) dispositions[part.partNumber] = part.oldPartDisposition;
      }
    }
    const outcome = action === 'resolve' ? 'issue' : 'release';
    const settlement = {
      ticketNumber: state.number,
      outcome,
      used,
      dispositions,
      key: `parts:${state.number}:v${version}`,
      actorId,
    } as const;
    await io.runExclusive(() =>
      settleTicketParts.executeWithOptions({ ...ACTIVITY_OPTIONS, summary: `${outcome} reserved parts` }, [
        settlement,
      ]),
    );
  }

  /**
   * A plan that names its parts: what the ticket holds or awaits beyond them is let go (the step's
   * key, the plan's version, makes a retried or replayed step write nothing twice), and the timeline
   * says what, stopping the parts clocks when nothing is awaited any more.
   */
  async function releaseUnplanned(
    planned: NonNullable<ActionInput<'plan'>['parts']>,
    actor: Actor,
    version: number,
  ): Promise<void> {
    const keep: Record<string, number> = {};
    for (const part of planned) keep[part.partNumber] = (keep[part.partNumber] ?? 0) + part.quantity;
    const release = { ticketNumber: state.number, keep, key: `parts:${state.number}:v${version}` };
    const answer = await io.runExclusive(() =>
      releaseUnplannedParts.executeWithOptions(
        { ...ACTIVITY_OPTIONS, summary: 'release parts the plan no longer needs' },
        [release],
      ),
    );
    if (answer.released.length === 0 && answer.withdrawn.length === 0) return;
    const change = applyPartsEvent(
      state,
      { kind: 'plan_released', ...answer },
      { nowMs: Date.now(), actor, policy },
    );
    await persist(snapshot(state), change);
  }

  // The opening is taken before any handler is set: an Update already waiting runs as soon as its
  // handler is, and must find (and bump) the opened version, not share it.
  const openingChange =
    workflowInfo().continuedFromExecutionRunId === undefined
      ? recordOpening(state, {
          urgentNotice: state.intake.priority === 'urgent' && applies(URGENT_SUPERVISOR_NOTICE),
        })
      : undefined;
  const opening = openingChange && { ticket: snapshot(state), change: openingChange };

  for (const action of ACTION_NAMES) {
    setHandler(
      actionUpdates[action],
      async (request: ActionRequest<ActionName>) => {
        // A resolve of a history recorded before fen everywhere replays as the same record in fen.
        const parsedInput = actionInputSchema(action).parse(
          action === 'resolve' ? upgradeLegacyResolve(request.input) : request.input,
        );
        if (action === 'assign') {
          const input = parsedInput as ActionInput<'assign'>;
          if (applies(ASSIGN_RESERVES_ENGINEER)) await reserveAssignment(input);
          else if (applies(ASSIGN_CHECKS_ENGINEER)) await checkAssignee(input);
        }
        if ((action === 'ship-replacement' || action === 'receive-unit') && applies(EXCHANGE_MOVES_STOCK)) {
          await moveExchangeStock(
            action,
            parsedInput as ActionInput<'ship-replacement'> | ActionInput<'receive-unit'>,
            request.actor,
          );
        }
        const prices =
          action === 'quote' && applies(QUOTE_READS_PRICES)
            ? await priceQuotedParts(parsedInput as ActionInput<'quote'>)
            : undefined;
        const refusedRound =
          action === 'confirm-replacement' && !(parsedInput as ActionInput<'confirm-replacement'>).accepted
            ? state.returnCase?.replacements?.at(-1)?.round
            : undefined;
        const statusBefore = state.status;
        const change = applyAction(state, action, parsedInput, {
          nowMs: Date.now(),
          actor: request.actor,
          policy,
          ...(prices ? { prices } : {}),
        });
        const persisted = snapshot(state);
        await persist(persisted, change);
        if (
          action !== 'cancel' &&
          endsWithoutSettlement(statusBefore, state) &&
          applies(CLOSING_RELEASES_PARTS)
        ) {
          await settleParts('cancel', parsedInput, request.actor.id, persisted.version);
        }
        if (refusedRound !== undefined && applies(EXCHANGE_RESTOCKS_REFUSED)) {
          await restockRefused(refusedRound, request.actor);
        }
        if ((action === 'resolve' || action === 'cancel') && applies(SETTLES_PARTS)) {
          await settleParts(action, parsedInput, request.actor.id, persisted.version);
        }
        const planned = action === 'plan' ? (parsedInput as ActionInput<'plan'>).parts : undefined;
        if (planned !== undefined && applies(PLAN_RELEASES_PARTS)) {
          await releaseUnplanned(planned, request.actor, persisted.version);
          return snapshot(state);
        }
        return persisted;
      },
      { validator: (request: ActionRequest<ActionName>) => validateRequest(action, request) },
    );
  }
  setHandler(
    partsUpdate,
    async (request: PartsEventRequest) => {
      const change = applyPartsEvent(state, request.event, {
        nowMs: Date.now(),
        actor: request.actor,
        policy,
      });
      const persisted = snapshot(state);
      await persist(persisted, change);
      return persisted;
    },
    {
      validator: (request: PartsEventRequest) => {
        if (!isActor(request?.actor)) {
          throw ApplicationFailure.nonRetryable('the request names no valid actor', FAILURE_INVALID_INPUT);
        }
        if (!(PARTS_EVENT_KINDS as readonly unknown[]).includes(request.event?.kind)) {
          throw ApplicationFailure.nonRetryable('the request names no parts event', FAILURE_INVALID_INPUT);
        }
        const refusal = partsEventRefusal(state);
        if (refusal) throw ApplicationFailure.nonRetryable(refusal, FAILURE_ILLEGAL_TRANSITION);
      },
    },
  );
  setHandler(ticketStateQuery, () => state);

  if (opening) await persist(opening.ticket, opening.change);

  while (!isFinished(state)) {
    if (needsDispatch(state)) {
      await dispatch();
    } else {
      // Asked only once a warning is owed: histories from before warnings never reach the patch.
      const deadlines = { warnings: hasPendingWarning(state) && applies(CLOCK_WARNINGS) };
      const next = nextDeadline(state, deadlines);
      const seenVersion = state.version;
      const changed = () => state.version !== seenVersion || needsDispatch(state);
      if (!next) {
        await condition(changed);
      } else {
        const waitMs = next.dueAtMs - Date.now();
        const woken = waitMs > 0 && (await condition(changed, waitMs, { summary: next.summary }));
        if (!woken) await fireDueDeadlines(deadlines);
      }
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof ticketWorkflow>({ ticket: state, policy });
    }
  }
  await condition(allHandlersFinished);
  return state;

  async function fireDueDeadlines(deadlines: DeadlineOptions): Promise<void> {
    const statusBefore = state.status;
    const change = fireDue(state, Date.now(), policy, deadlines);
    if (change.events.length === 0) return;
    const persisted = snapshot(state);
    await persist(persisted, change);
    if (endsWithoutSettlement(statusBefore, state) && applies(CLOSING_RELEASES_PARTS)) {
      // Nobody acted: the ticket's own clock ended it.
      await settleParts('cancel', undefined, 'workflow', persisted.version);
    }
  }

  /** Automatic dispatch: the activity picks and reserves an engineer; the lifecycle decides what it means. */
  async function dispatch(): Promise<void> {
    state.dispatch.attempt += 1;
    const attempt = state.dispatch.attempt;
    const search = {
      ticketNumber: state.number,
      attempt,
      needs: dispatchNeeds(state, policy),
      exclude: excludedEngineers(state),
    };
    const engineerId = await io.runExclusive(() =>
      findEngineer.executeWithOptions({ ...ACTIVITY_OPTIONS, summary: `dispatch attempt ${attempt}` }, [
        search,
      ]),
    );
    const change = applyDispatchResult(state, attempt, engineerId, Date.now(), policy);
    await persist(snapshot(state), change);
  }
}
