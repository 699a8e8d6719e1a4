import { createHash } from 'node:crypto';
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Database } from '../db/client';
import { claimTicketNumber, findTicket, saveTicketChange } from '../db/ticket-store';
import { localDate } from '../domain/calendar';
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
import { workflowIdOf, type Actor, type TicketIntake, type TicketState } from '../domain/ticket';
import type { ticketWorkflow } from '../workflows';
import {
  actionUpdates,
  FAILURE_ILLEGAL_TRANSITION,
  FAILURE_INVALID_INPUT,
  type ActionRequest,
  type ActionUpdate,
} from '../workflows/messages';
import { initialSearchAttributes } from '../temporal/search-attributes';
import { customerIdOf } from './customer-id';
import { Problem } from './problem';

export interface TicketServiceDependencies {
  readonly db: Database;
  readonly temporal: Client;
  readonly taskQueue: string;
  readonly policy: SlaPolicy;
  readonly customerIdSecret: string;
}

export interface CreatedTicket {
  readonly ticket: TicketState;
  /** True when an earlier request with the same Idempotency-Key created it. */
  readonly replayed: boolean;
}

function hashRequest(intake: TicketIntake): string {
  return createHash('sha256').update(JSON.stringify(intake)).digest('hex');
}

function illegalTransition(error: IllegalTransitionError): Problem {
  return new Problem(409, 'Illegal transition', error.message, {
    currentStatus: error.status,
    allowedActions: allowedActions(error.status),
  });
}

/** Creating tickets and sending their workflows lifecycle actions. */
export function createTicketService({
  db,
  temporal,
  taskQueue,
  policy,
  customerIdSecret,
}: TicketServiceDependencies) {
  async function startTicketWorkflow(ticket: TicketState): Promise<void> {
    try {
      await temporal.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
        workflowId: workflowIdOf(ticket.number),
        taskQueue,
        args: [{ ticket, policy }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: `${ticket.number} · ${ticket.intake.category} · ${ticket.intake.priority}`,
        typedSearchAttributes: initialSearchAttributes(ticket),
      });
    } catch (error) {
      // A closed ticket's workflow is finished: a late repeat must not start it again.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  async function requireTicket(number: string): Promise<TicketState> {
    const ticket = isTicketNumber(number) ? await findTicket(db, number) : undefined;
    if (!ticket) throw new Problem(404, 'Ticket not found', `no ticket ${number}`);
    return ticket;
  }

  return {
    requireTicket,

    /**
     * Opens a ticket: number and Idempotency-Key claim in one transaction, then its workflow, then the
     * projection the answer is read from. Each step is idempotent, so a repeat of a request that died
     * half-way finishes it instead of making a second ticket.
     */
    async createTicket(intake: TicketIntake, actor: Actor, idempotencyKey?: string): Promise<CreatedTicket> {
      const nowMs = Date.now();
      const businessDate = localDate(nowMs, policy.calendar.timeZone);
      const requestHash = hashRequest(intake);
      const claim = await claimTicketNumber(db, {
        businessDate,
        createdAt: new Date(nowMs).toISOString(),
        formatNumber: (serial) => formatTicketNumber(businessDate, serial),
        idempotency: idempotencyKey
          ? { scope: `create:${actor.id}`, key: idempotencyKey, requestHash }
          : undefined,
      });
      if (claim.requestHash !== requestHash && idempotencyKey) {
        throw new Problem(
          422,
          'Idempotency-Key reused',
          `Idempotency-Key "${idempotencyKey}" was first used with a different request body`,
        );
      }
      if (!claim.fresh) {
        const existing = await findTicket(db, claim.ticketNumber);
        if (existing) return { ticket: existing, replayed: true };
      }
      const opened = openTicket({
        number: claim.ticketNumber,
        intake,
        customerId: customerIdOf(intake.customer.phone, customerIdSecret),
        createdBy: actor,
        createdAtMs: Date.parse(claim.createdAt),
        policy,
      });
      await startTicketWorkflow(structuredClone(opened));
      await saveTicketChange(db, opened, recordOpening(opened));
      return { ticket: (await findTicket(db, opened.number)) ?? opened, replayed: !claim.fresh };
    },

    /** Sends a lifecycle action as a Workflow Update; answers with the ticket as persisted. */
    async runAction<A extends ActionName>(
      number: string,
      action: A,
      input: ActionInput<A>,
      actor: Actor,
    ): Promise<TicketState> {
      const current = await requireTicket(number);
      try {
        assertTransition(current, action);
      } catch (error) {
        if (error instanceof IllegalTransitionError) throw illegalTransition(error);
        throw error;
      }
      const request: ActionRequest<A> = { actor, input };
      try {
        const handle = temporal.workflow.getHandle(workflowIdOf(number));
        const update: ActionUpdate<A> = actionUpdates[action];
        return await handle.executeUpdate(update, { args: [request] });
      } catch (error) {
        const failure = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
        if (failure instanceof ApplicationFailure && failure.type === FAILURE_ILLEGAL_TRANSITION) {
          const now = await requireTicket(number);
          throw illegalTransition(new IllegalTransitionError(action, now.status));
        }
        if (failure instanceof ApplicationFailure && failure.type === FAILURE_INVALID_INPUT) {
          throw new Problem(422, 'Invalid action', failure.message);
        }
        throw error;
      }
    },
  };
}

export type TicketService = ReturnType<typeof createTicketService>;
