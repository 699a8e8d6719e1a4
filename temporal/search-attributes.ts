import {
  defineSearchAttributeKey,
  type SearchAttributePair,
  type SearchAttributeUpdatePair,
} from '@temporalio/common';
import { isSlaBreached, nextDeadline } from '../domain/clocks';
import type { TicketState } from '../domain/ticket';

/** The custom search attributes operators filter tickets by in Temporal UI (SPEC section 5). */
export const TicketStatus = defineSearchAttributeKey('TicketStatus', 'KEYWORD');
export const TicketPriority = defineSearchAttributeKey('TicketPriority', 'KEYWORD');
export const TicketCategory = defineSearchAttributeKey('TicketCategory', 'KEYWORD');
export const EscalationLevel = defineSearchAttributeKey('EscalationLevel', 'INT');
export const SlaBreached = defineSearchAttributeKey('SlaBreached', 'BOOL');
export const AssigneeId = defineSearchAttributeKey('AssigneeId', 'KEYWORD');
export const CustomerId = defineSearchAttributeKey('CustomerId', 'KEYWORD');
export const NextDeadline = defineSearchAttributeKey('NextDeadline', 'DATETIME');

export const TICKET_SEARCH_ATTRIBUTES = [
  TicketStatus,
  TicketPriority,
  TicketCategory,
  EscalationLevel,
  SlaBreached,
  AssigneeId,
  CustomerId,
  NextDeadline,
];

/**
 * The search attributes of a ticket as it is now. Search attributes are never encrypted, so they
 * carry only codes and the keyed customer hash, never personal data. `null` clears an attribute.
 */
export function ticketSearchAttributes(state: TicketState): SearchAttributeUpdatePair[] {
  const next = nextDeadline(state);
  return [
    { key: TicketStatus, value: state.status },
    { key: TicketPriority, value: state.intake.priority },
    { key: TicketCategory, value: state.intake.category },
    { key: EscalationLevel, value: state.escalationLevel },
    { key: SlaBreached, value: isSlaBreached(state) },
    { key: AssigneeId, value: state.assignee },
    { key: CustomerId, value: state.customerId },
    { key: NextDeadline, value: next ? new Date(next.dueAtMs) : null },
  ];
}

/** The attributes a ticket workflow starts with (those that have a value). */
export function initialSearchAttributes(state: TicketState): SearchAttributePair[] {
  return ticketSearchAttributes(state).filter((pair): pair is SearchAttributePair => pair.value !== null);
}
