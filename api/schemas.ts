import { z } from 'zod';
import { ACTION_NAMES } from '../domain/lifecycle';
import { CATEGORIES, CHANNELS, MOODS, PRIORITIES, SERVICE_TYPES, TICKET_STATUSES } from '../domain/ticket';

/**
 * Response schemas: with the request schemas next to the routes they are the single source of the
 * OpenAPI document. Response fields are looser than request fields (a masked phone is no phone).
 */
const instant = z.string().describe('ISO 8601 instant');

const slaClockSchema = z.object({
  duration: z.string().describe('the policy duration, e.g. "10m", "5bd"'),
  startedAt: instant,
  dueAt: instant,
  metAt: instant.nullable(),
  breached: z.boolean(),
  breachedAt: instant.nullable(),
  remainingMs: z.number().nullable().describe('time left while the clock runs, as of this answer'),
});

export const ticketViewSchema = z.object({
  number: z.string().describe('WO<YYYYMMDD>-<NNN>'),
  status: z.enum(TICKET_STATUSES),
  customerId: z.string().describe('keyed hash of the phone: the CustomerId search attribute'),
  channel: z.enum(CHANNELS),
  category: z.enum(CATEGORIES),
  priority: z.enum(PRIORITIES),
  serviceType: z.enum(SERVICE_TYPES).optional(),
  customer: z
    .object({
      name: z.string(),
      phone: z.string(),
      email: z.string().optional(),
      address: z.string().optional(),
      tier: z.string().optional(),
    })
    .describe('masked (张*, 138****5678) for roles that may not see personal data'),
  product: z
    .object({
      model: z.string(),
      serialNumber: z.string().optional(),
      purchaseDate: z.string().optional(),
      purchaseChannel: z.string().optional(),
    })
    .optional(),
  description: z.string(),
  mood: z.enum(MOODS).optional(),
  attachments: z.array(z.string()),
  externalRef: z.string().optional(),
  escalationLevel: z.number().int().min(0).max(3),
  assignee: z.string().nullable(),
  warranty: z.object({
    status: z.enum(['in_warranty', 'out_of_warranty', 'unknown']),
    expiresOn: z.string().nullable(),
  }),
  sla: z.object({
    firstResponse: slaClockSchema.optional(),
    callback: slaClockSchema.optional(),
    complaintFollowUp: slaClockSchema.optional(),
  }),
  slaBreached: z.boolean(),
  nextDeadline: instant.nullable(),
  allowedActions: z.array(z.enum(ACTION_NAMES as [string, ...string[]])),
  version: z.number().int(),
  createdAt: instant,
  updatedAt: instant,
});

export const ticketPageSchema = z.object({
  items: z.array(ticketViewSchema),
  nextCursor: z.string().nullable().describe('pass as ?cursor= for the next page; null on the last page'),
});

export const timelineSchema = z.object({
  number: z.string(),
  events: z.array(
    z.object({
      seq: z.number().int(),
      type: z.string(),
      at: instant,
      actorId: z.string().nullable(),
      actorRole: z.string().nullable(),
      data: z.record(z.string(), z.unknown()),
    }),
  ),
});

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
  })
  .loose()
  .describe('RFC 9457 problem details');

const PROBLEM_DESCRIPTIONS = {
  400: 'invalid input: every bad field is named in `errors`',
  401: 'no valid API key',
  403: 'the key’s role may not do this',
  404: 'no such ticket (or not one this key may see)',
  409: 'illegal transition: `currentStatus` and `allowedActions` say what is possible',
  413: 'body larger than 256 KiB',
  415: 'body is not JSON',
  422: 'Idempotency-Key reused with a different body, or an action the workflow refused',
  429: 'rate limit for this key exceeded',
  503: 'overloaded, or PostgreSQL / Temporal unreachable',
} as const;

/** Documents the problem+json answers a route can give. */
export function problems(...statuses: (keyof typeof PROBLEM_DESCRIPTIONS)[]) {
  return Object.fromEntries(
    statuses.map((status) => [status, problemSchema.describe(PROBLEM_DESCRIPTIONS[status])]),
  );
}
