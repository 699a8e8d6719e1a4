import type { UpdateDefinition } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { ACTION_NAMES, type ActionName, type ActionPayload } from '../domain/lifecycle';
import type { PartsEvent } from '../domain/parts';
import type { SlaPolicy } from '../domain/policy';
import type { Actor, TicketState } from '../domain/ticket';

/**
 * The ticket workflow's messages, in their own module so the API imports names and types without
 * importing workflow code.
 */
export interface TicketWorkflowInput {
  readonly ticket: TicketState;
  /** The policy the ticket was opened under; it travels with the ticket through continue-as-new. */
  readonly policy: SlaPolicy;
}

export interface ActionRequest<A extends ActionName> {
  readonly actor: Actor;
  readonly input: ActionPayload<A>;
}

/** Every lifecycle action is an Update with a validator: an illegal one is refused before it is written. */
export type ActionUpdate<A extends ActionName> = UpdateDefinition<TicketState, [ActionRequest<A>], A>;

export const actionUpdates = Object.fromEntries(
  ACTION_NAMES.map((action) => [action, defineUpdate<TicketState, [ActionRequest<typeof action>]>(action)]),
) as { readonly [A in ActionName]: ActionUpdate<A> };

export const ticketStateQuery = defineQuery<TicketState>('ticketState');

export interface PartsEventRequest {
  readonly actor: Actor;
  readonly event: PartsEvent;
}

/**
 * What the parts routes tell a ticket (domain/lifecycle.ts `applyPartsEvent`): not a lifecycle
 * action a person takes, but what a parts request or a manager's decision started or stopped.
 */
export const partsUpdate = defineUpdate<TicketState, [PartsEventRequest]>('parts');

/** ApplicationFailure types the validators throw; the API maps them to HTTP statuses. */
export const FAILURE_ILLEGAL_TRANSITION = 'IllegalTransition';
export const FAILURE_INVALID_INPUT = 'InvalidInput';
/** A manual assign names an engineer already at its capacity (domain/dispatch.ts `assignRefusal`): 409. */
export const FAILURE_AT_CAPACITY = 'EngineerAtCapacity';
/** The actor may not take the action on this ticket (domain/access.ts `authorizeAction`): 403. */
export const FAILURE_FORBIDDEN = 'Forbidden';
