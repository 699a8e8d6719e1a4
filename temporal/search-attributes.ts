import { defineSearchAttributeKey } from '@temporalio/common';

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
