import { createHash, randomUUID } from 'node:crypto';
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { Mutex } from 'async-mutex';
import type { Database } from '../db/client';
import {
  claimActionKey,
  claimTicketNumber,
  findRecentTicketForProduct,
  findTicket,
  recordIdempotentCompletion,
  saveTicketChange,
} from '../db/ticket-store';
import { findEngineer, findEngineerLoad } from '../db/engineer-store';
import { findStaff } from '../db/staff-store';
import { authorizeAction, isInScope, ticketScope } from '../domain/access';
import { localDate } from '../domain/calendar';
import { assignRefusal, type AssignRefusal } from '../domain/dispatch';
import {
  allowedActions,
  assertTransition,
  IllegalTransitionError,
  openTicket,
  recordOpening,
  type ActionInput,
  type ActionName,
} from '../domain/lifecycle';
import type { SlaPolicy } from '../domain/policy';
import { formatTicketNumber, isTicketNumber } from '../domain/ticket-number';
import { isFinished, workflowIdOf, type Actor, type TicketIntake, type TicketState } from '../domain/ticket';
import type { ticketWorkflow } from '../workflows';
import {
  actionUpdates,
  FAILURE_AT_CAPACITY,
  FAILURE_FORBIDDEN,
  FAILURE_ILLEGAL_TRANSITION,
  FAILURE_INVALID_INPUT,
  type ActionRequest,
  type ActionUpdate,
  partsUpdate,
  type TicketWorkflowInput,
} from '../workflows/messages';
import type { PartsEvent } from '../domain/parts';
import { initialSearchAttributes } from '../temporal/search-attributes';
import { customerIdOf } from './customer-id';
import { Problem } from './problem';

export interface TicketServiceDependencies {
  readonly db: Database;
  readonly temporal: Client;
  readonly taskQueue: string;
  readonly policy: SlaPolicy;
  readonly customerIdSecret: string;
  /** An action waits this long for the ticket's workflow (no worker, a stuck workflow) before a 503. */
  readonly actionTimeoutMs: number;
  /** How long an Idempotency-Key holds (IDEMPOTENCY_KEY_TTL). */
  readonly idempotencyTtlMs: number;
}

export interface TicketAnswer {
  readonly ticket: TicketState;
  /** True when an earlier request with the same Idempotency-Key made the change (the ticket is as of now). */
  readonly replayed: boolean;
}

const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

function idempotencyConflict(key: string): Problem {
  return new Problem(
    422,
    'Idempotency-Key reused',
    `Idempotency-Key "${key}" was first used with a different request`,
  );
}

function illegalTransition(error: IllegalTransitionError): Problem {
  return new Problem(409, 'Illegal transition', error.message, {
    currentStatus: error.status,
    allowedActions: error.allowed,
  });
}

function assignProblem(refusal: AssignRefusal): Problem {
  if (refusal.kind === 'unknownEngineer') return new Problem(422, 'Unknown engineer', refusal.message);
  return new Problem(409, 'Engineer at capacity', refusal.message, {
    openLoad: refusal.openLoad,
    capacity: refusal.capacity,
  });
}

/**
 * How a ticket's workflow is started: its id from the ticket number (a repeat finds the running one),
 * the summary and search attributes operators see in Temporal UI. The benchmark's raw starts use it.
 */
export function ticketWorkflowStart(input: TicketWorkflowInput, taskQueue: string) {
  const { ticket } = input;
  return {
    workflowId: workflowIdOf(ticket.number),
    taskQueue,
    args: [input] as [TicketWorkflowInput],
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    staticSummary: `${ticket.number} · ${ticket.intake.category} · ${ticket.intake.priority}`,
    typedSearchAttributes: initialSearchAttributes(ticket),
  };
}

/** How often an Update the server gave back unprocessed is sent. */
const UNPROCESSED_UPDATE_ATTEMPTS = 5;

/** An Update the server gave back because no workflow task took it up (it may be sent again). */
const isUnprocessed = (cause: unknown) =>
  cause instanceof ApplicationFailure && cause.type === 'UnprocessedUpdate';

/** Repeat faults: the same customer and product within this many days is always quality-checked. */
const REPEAT_WINDOW_DAYS = 90;

/** Creating tickets and sending their workflows lifecycle actions. */
export function createTicketService({
  db,
  temporal,
  taskQueue,
  policy,
  customerIdSecret,
  actionTimeoutMs,
  idempotencyTtlMs,
}: TicketServiceDependencies) {
  const expiresAt = () => new Date(Date.now() + idempotencyTtlMs).toISOString();

  /** A repeat of a request that succeeded: the ticket as it is now (the claim keeps no copy). */
  async function replay(number: string): Promise<TicketAnswer> {
    const ticket = await findTicket(db, number);
    if (!ticket) throw new Error(`ticket ${number} of a completed Idempotency-Key claim is missing`);
    return { ticket, replayed: true };
  }

  async function startTicketWorkflow(ticket: TicketState): Promise<void> {
    try {
      await temporal.workflow.start<typeof ticketWorkflow>(
        'ticketWorkflow',
        ticketWorkflowStart({ ticket, policy }, taskQueue),
      );
    } catch (error) {
      // A closed ticket's workflow is finished: a late repeat must not start it again.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  /** One queue per ticket with Updates in flight: see `sendUpdate`. */
  const ticketQueues = new Map<string, Mutex>();

  /**
   * Sends one Update to a ticket's workflow and waits for its result within the action timeout, its
   * wait in the ticket's queue included. This API sends one ticket's Updates one at a time: many at
   * once on one ticket made the worker's workflow tasks fail to complete ('Workflow task not found'),
   * so their local-activity writes were made again in other orders and the timeline lost and doubled
   * notes (40 concurrent notes: 5 to 7), and the server handed Updates back unprocessed. One still
   * handed back (another API instance or a direct Temporal caller raced it) was not applied, so it is
   * sent again under the same id, which stays one Update.
   */
  async function sendUpdate<Ret, Args extends [unknown]>(
    number: string,
    update: UpdateDefinition<Ret, Args>,
    args: Args,
    updateId: string = randomUUID(),
  ): Promise<Ret> {
    const deadline = Date.now() + actionTimeoutMs;
    const handle = temporal.workflow.getHandle(workflowIdOf(number));
    const queue = ticketQueues.get(number) ?? new Mutex();
    ticketQueues.set(number, queue);
    try {
      return await queue.runExclusive(() =>
        // The deadline bounds the whole wait: the queue, the polls and the repeats.
        temporal.connection.withDeadline(deadline, async () => {
          for (let attempt = 1; ; attempt += 1) {
            try {
              return await handle.executeUpdate(update, { args, updateId });
            } catch (error) {
              const unprocessed = error instanceof WorkflowUpdateFailedError && isUnprocessed(error.cause);
              if (!unprocessed || attempt === UNPROCESSED_UPDATE_ATTEMPTS) throw error;
            }
          }
        }),
      );
    } finally {
      if (!queue.isLocked()) ticketQueues.delete(number);
    }
  }

  /** The ticket, if it exists and the actor may see it; otherwise 404 (never a hint that it exists). */
  async function requireTicket(number: string, actor: Actor): Promise<TicketState> {
    const ticket = isTicketNumber(number) ? await findTicket(db, number) : undefined;
    if (!ticket || !isInScope(ticket, ticketScope(actor))) {
      throw new Problem(404, 'Ticket not found', `no ticket ${number}`);
    }
    return ticket;
  }

  async function executeAction<A extends ActionName>(
    number: string,
    action: A,
    request: ActionRequest<A>,
    updateId: string | undefined,
  ): Promise<TicketState> {
    try {
      const update: ActionUpdate<A> = actionUpdates[action];
      return await sendUpdate(number, update, [request], updateId);
    } catch (error) {
      if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
        throw new Problem(
          503,
          'Service Unavailable',
          `the ticket's workflow did not answer within ${actionTimeoutMs / 1000} s; the action may still apply — retry with the same Idempotency-Key`,
        );
      }
      const failure = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
      // The workflow's state is newer than the projection the API checked (an engineer reassigned
      // a moment ago): its refusal is the same rule's, with the same words.
      if (failure instanceof ApplicationFailure && failure.type === FAILURE_FORBIDDEN) {
        throw new Problem(403, 'Forbidden', failure.message);
      }
      if (failure instanceof ApplicationFailure && failure.type === FAILURE_ILLEGAL_TRANSITION) {
        const now = await findTicket(db, number);
        throw new Problem(409, 'Illegal transition', failure.message, {
          currentStatus: now?.status,
          allowedActions: now ? allowedActions(now) : [],
        });
      }
      // A finished ticket's workflow is gone, so every action on it is an illegal transition.
      if (error instanceof WorkflowNotFoundError) {
        const now = await findTicket(db, number);
        if (now && isFinished(now)) {
          throw illegalTransition(new IllegalTransitionError(action, now.status, allowedActions(now)));
        }
      }
      if (failure instanceof ApplicationFailure && failure.type === FAILURE_AT_CAPACITY) {
        const { openLoad, capacity } = failure.details?.[0] as { openLoad: number; capacity: number };
        throw assignProblem({ kind: 'atCapacity', message: failure.message, openLoad, capacity });
      }
      if (failure instanceof ApplicationFailure && failure.type === FAILURE_INVALID_INPUT) {
        throw new Problem(422, 'Invalid action', failure.message);
      }
      throw error;
    }
  }

  /**
   * A manual assign's engineer exists, works and has room (or the input overrides its capacity). The
   * workflow asks the same rule again before it applies the assign; this answers without the round trip.
   */
  async function checkActionRequest<A extends ActionName>(number: string, action: A, input: ActionInput<A>) {
    if (action === 'assign') {
      const { engineerId, overCapacity } = input as ActionInput<'assign'>;
      const refusal = assignRefusal(
        engineerId,
        await findEngineerLoad(db, engineerId, number),
        overCapacity === true,
      );
      if (refusal) throw assignProblem(refusal);
    }
    const responsible = action === 'qc-review' ? (input as ActionInput<'qc-review'>).responsible : undefined;
    if (responsible) await checkResponsible(responsible);
  }

  /**
   * A failed review's responsible person is on file with that role: a staff member (the staff
   * directory, whose superiors an escalation reaches) or, as `engineer`, an engineer.
   */
  async function checkResponsible({ id, role }: { id: string; role: string }): Promise<void> {
    const onFile =
      role === 'engineer'
        ? (await findEngineer(db, id)) !== undefined
        : (await findStaff(db, id))?.role === role;
    if (!onFile) {
      throw new Problem(
        422,
        'Unknown person',
        `responsible: no ${role} ${id} on file (${role === 'engineer' ? 'GET /v1/engineers' : 'GET /v1/staff'})`,
      );
    }
  }

  return {
    requireTicket,

    /**
     * Tells a ticket's workflow what its parts did (a shortfall, all there, an approval asked or
     * given): the parts clocks start or stop there. `updateId` makes a repeat one Update.
     */
    async recordPartsEvent(number: string, event: PartsEvent, actor: Actor, updateId: string): Promise<void> {
      try {
        await sendUpdate(number, partsUpdate, [{ actor, event }], updateId);
      } catch (error) {
        if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
          throw new Problem(
            503,
            'Service Unavailable',
            `the ticket's workflow did not answer within ${actionTimeoutMs / 1000} s; the parts are reserved — retry with the same Idempotency-Key to start its parts clock`,
          );
        }
        const failure = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
        if (failure instanceof ApplicationFailure && failure.type === FAILURE_ILLEGAL_TRANSITION) {
          throw new Problem(409, 'Illegal transition', failure.message);
        }
        throw error;
      }
    },

    /**
     * Opens a ticket: number and Idempotency-Key claim in one transaction, then its workflow, then the
     * projection the answer is read from. Each step is idempotent, so a repeat of a request that died
     * half-way finishes it instead of making a second ticket.
     */
    async createTicket(intake: TicketIntake, actor: Actor, idempotencyKey?: string): Promise<TicketAnswer> {
      const nowMs = Date.now();
      const businessDate = localDate(nowMs, policy.calendar.timeZone);
      const requestHash = sha256(intake);
      const scope = `create:${actor.id}`;
      const customerId = customerIdOf(intake.customer.phone, customerIdSecret);
      const earlierTicket = (createdAt: string) =>
        findRecentTicketForProduct(db, {
          customerId,
          model: intake.product?.model,
          serialNumber: intake.product?.serialNumber,
          sinceIso: new Date(Date.parse(createdAt) - REPEAT_WINDOW_DAYS * 86_400_000).toISOString(),
        });
      // The repeat-fault lookup runs beside the number claim; only a repeat of an earlier request,
      // whose creation time is the first request's, looks again from that time.
      const createdAt = new Date(nowMs).toISOString();
      const [claim, earlierNow] = await Promise.all([
        claimTicketNumber(db, {
          businessDate,
          createdAt,
          formatNumber: (serial) => formatTicketNumber(businessDate, serial),
          idempotency: idempotencyKey
            ? { scope, key: idempotencyKey, requestHash, expiresAt: expiresAt() }
            : undefined,
        }),
        earlierTicket(createdAt),
      ]);
      if (idempotencyKey && claim.requestHash !== requestHash) throw idempotencyConflict(idempotencyKey);
      if (claim.completed) return replay(claim.ticketNumber);
      const repeatOf = claim.fresh ? earlierNow : await earlierTicket(claim.createdAt);
      const opened = openTicket({
        number: claim.ticketNumber,
        intake,
        customerId,
        repeatOf: repeatOf && repeatOf !== claim.ticketNumber ? repeatOf : null,
        createdBy: actor,
        createdAtMs: Date.parse(claim.createdAt),
        policy,
      });
      await startTicketWorkflow(structuredClone(opened));
      await saveTicketChange(db, opened, recordOpening(opened));
      if (idempotencyKey) await recordIdempotentCompletion(db, scope, idempotencyKey, opened.version);
      return { ticket: opened, replayed: !claim.fresh };
    },

    /**
     * Sends a lifecycle action as a Workflow Update and answers with the ticket as persisted. With an
     * Idempotency-Key the Update id is derived from it, so concurrent repeats make one transition,
     * and the first answer is kept for every later repeat.
     */
    async runAction<A extends ActionName>(
      number: string,
      action: A,
      input: ActionInput<A>,
      actor: Actor,
      idempotencyKey?: string,
    ): Promise<TicketAnswer> {
      const current = await requireTicket(number, actor);
      const forbidden = authorizeAction(current, action, input, actor);
      if (forbidden) throw new Problem(403, 'Forbidden', forbidden);
      // Parsed output is valid input: the workflow parses it again, to the same value.
      const request = { actor, input } as ActionRequest<A>;
      if (!idempotencyKey) {
        try {
          assertTransition(current, action, input, Date.now());
        } catch (error) {
          if (error instanceof IllegalTransitionError) throw illegalTransition(error);
          throw error;
        }
        await checkActionRequest(number, action, input);
        return { ticket: await executeAction(number, action, request, undefined), replayed: false };
      }
      await checkActionRequest(number, action, input);
      const scope = `action:${actor.id}`;
      const requestHash = sha256({ number, action, input });
      const claim = await claimActionKey(db, {
        scope,
        key: idempotencyKey,
        requestHash,
        ticketNumber: number,
        expiresAt: expiresAt(),
      });
      if (claim.requestHash !== requestHash) throw idempotencyConflict(idempotencyKey);
      if (claim.completed) return replay(number);
      const updateId = `idempotency-${sha256([actor.id, idempotencyKey]).slice(0, 40)}`;
      const ticket = await executeAction(number, action, request, updateId);
      await recordIdempotentCompletion(db, scope, idempotencyKey, ticket.version);
      return { ticket, replayed: !claim.fresh };
    },
  };
}

export type TicketService = ReturnType<typeof createTicketService>;
