import { z } from 'zod';
import { ACTION_NAMES } from '../domain/lifecycle';
import {
  COMPLAINT_TYPES,
  HANDLING_COST_ITEMS,
  LIABILITIES,
  PROBLEM_TYPES,
  QC_ASPECTS,
} from '../domain/complaint-analysis';
import { REMEDY_KINDS } from '../domain/money';
import {
  INSPECTION_RESULTS,
  PAYMENT_METHODS,
  PROOF_KINDS,
  RETURN_KINDS,
  RETURN_REASONS,
  UNIT_DISPOSITIONS,
} from '../domain/returns';
import { commaSeparatedPattern } from '../domain/text-rules';
import { PROBLEM_MEDIA_TYPE } from './problem';
import {
  CATEGORIES,
  CHANNELS,
  CLOCK_NAMES,
  MOODS,
  PRIORITIES,
  ROLES,
  SERVICE_TYPES,
  TICKET_STATUSES,
} from '../domain/ticket';

/**
 * Response schemas: with the request schemas next to the routes they are the single source of the
 * OpenAPI document. Response fields are looser than request fields (a masked phone is no phone).
 */
const instant = z.string().describe('ISO 8601 instant');

/** The Idempotency-Key header of a write that may be repeated safely. */
export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('a repeat with the same key and body returns the first answer; another body is 422'),
});

/**
 * A whole number in a query string or path. `z.coerce.number()` read an empty value as 0
 * (`?escalationLevel=` listed level 0; Schemathesis found it): only a numeral becomes a number, and
 * anything else is refused as not an integer. The document still says integer.
 */
export const wholeNumber = (min: number, max: number) =>
  z
    .preprocess(
      (value) => (typeof value === 'string' && NUMERAL.test(value) ? Number(value) : value),
      z.number({ error: 'must be an integer' }).int({ error: 'must be an integer' }).min(min).max(max),
    )
    .meta({ type: 'integer', minimum: min, maximum: max });
const NUMERAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** A comma-separated list of allowed values in a query string: `status=new,acknowledged`. */
export const csv = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .regex(commaSeparatedPattern(values), `must be one or more of ${values.join(', ')}, separated by commas`)
    .transform((text) => text.split(',').map((value) => value.trim()))
    .pipe(z.array(z.enum(values)).min(1))
    .optional();

const slaClockSchema = z.object({
  duration: z.string().describe('the policy duration, e.g. "10m", "5bd"'),
  startedAt: instant,
  dueAt: instant,
  metAt: instant.nullable(),
  breached: z.boolean(),
  breachedAt: instant.nullable(),
  pausedAt: instant.nullable().describe('set while the ticket is on hold and this clock waits'),
  warnAt: instant
    .nullable()
    .describe(
      'when the warning before a breach goes to whoever holds the ticket (policy warnAt); null: none',
    ),
  warnedAt: instant.nullable().describe('when that warning went out (once per run of the clock)'),
  remainingMs: z.number().nullable().describe('time left while the clock runs, as of this answer'),
});

const actorSchema = z.object({ id: z.string(), role: z.enum(ROLES) });

const quoteSchema = z.object({
  round: z.number().int(),
  lines: z.array(
    z.object({
      kind: z.enum(['part', 'labor', 'visit']),
      partNumber: z.string().optional(),
      quantity: z.number().int(),
      unitPriceFen: z.number().int(),
      amountFen: z.number().int(),
    }),
  ),
  totalFen: z.number().int().describe('integer fen'),
  status: z.enum(['pending', 'accepted', 'declined', 'expired']),
  sentAt: z.string(),
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
  resumeTo: z.string(),
});

const returnCaseSchema = z
  .object({
    kind: z.enum(RETURN_KINDS),
    returnReason: z.enum(RETURN_REASONS),
    proofs: z.array(z.enum(PROOF_KINDS)),
    eligibility: z.object({
      eligible: z.boolean(),
      windowDays: z.number().int(),
      lastDay: z.string().nullable().describe('the last day of the window from the purchase date'),
      missingProofs: z.array(z.enum(PROOF_KINDS)),
      reasons: z.array(
        z.enum(['no_purchase_date', 'purchase_after_request', 'window_passed', 'missing_proofs']),
      ),
    }),
    exception: z.string().nullable().describe('why an ineligible request went to the manager anyway'),
    requestedAt: z.string(),
    requestedBy: z.object({ id: z.string(), role: z.enum(ROLES) }),
    decision: z
      .object({
        outcome: z.enum(['approved', 'rejected', 'refused']),
        at: z.string(),
        actor: z.object({ id: z.string(), role: z.enum(ROLES) }).nullable(),
        reason: z.string().optional(),
      })
      .nullable(),
    shipment: z
      .object({ carrier: z.string(), trackingNumber: z.string(), at: z.string() })
      .nullable()
      .optional()
      .describe('an approved return on its way back'),
    receipt: z
      .object({
        signedBy: z.string(),
        at: z.string(),
        actor: z.object({ id: z.string(), role: z.enum(ROLES) }),
      })
      .nullable()
      .optional(),
    inspections: z
      .array(
        z.object({
          appearance: z.enum(INSPECTION_RESULTS),
          function: z.enum(INSPECTION_RESULTS),
          passed: z.boolean(),
          at: z.string(),
          actor: z.object({ id: z.string(), role: z.enum(ROLES) }),
        }),
      )
      .optional(),
    refund: z
      .object({
        amountFen: z.number().int().describe('integer fen'),
        method: z.enum(PAYMENT_METHODS).describe('the original payment method'),
        reference: z.string(),
        at: z.string(),
        actor: z.object({ id: z.string(), role: z.enum(ROLES) }),
      })
      .nullable()
      .optional(),
    replacements: z
      .array(
        z.object({
          round: z.number().int(),
          partNumber: z.string(),
          carrier: z.string(),
          trackingNumber: z.string(),
          shippedAt: z.string(),
          accepted: z.boolean().nullable(),
        }),
      )
      .optional()
      .describe('an approved exchange’s replacements, one per round'),
    returnedUnit: z
      .object({
        partNumber: z.string(),
        locationId: z.string(),
        disposition: z.enum(UNIT_DISPOSITIONS),
        at: z.string(),
        actor: z.object({ id: z.string(), role: z.enum(ROLES) }),
      })
      .nullable()
      .optional(),
  })
  .nullable()
  .describe('a return or exchange request with its eligibility and decision; null until requested');

const recordedSchema = z.object({
  at: instant,
  actor: actorSchema,
  input: z.record(z.string(), z.unknown()),
});

export const escalationSchema = z.object({
  id: z.string(),
  ticketNumber: z.string(),
  clock: z.string().describe('the missed clock, or secondComplaint'),
  level: z.number().int().min(1).max(3),
  reason: z.string(),
  missedDeadline: instant,
  firedAt: instant,
  stepDueAt: instant.nullable().describe('climbs one level then unless acknowledged'),
  acknowledgedAt: instant.nullable(),
  acknowledgedBy: z.string().nullable(),
  supersededBy: z.string().nullable(),
  responsible: z
    .object({ id: z.string(), role: z.enum(ROLES) })
    .optional()
    .describe(
      'the person whose work the missed clock was, told at once; each level reaches their superior of that level (absent: the role’s inbox)',
    ),
  open: z.boolean(),
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
      region: z.string().optional(),
      location: z.object({ latitude: z.number(), longitude: z.number() }).optional(),
    })
    .describe('masked (张*, 138****5678) for roles that may not see personal data'),
  product: z
    .object({
      model: z.string(),
      line: z.string().optional(),
      serialNumber: z.string().optional(),
      purchaseDate: z.string().optional(),
      purchaseChannel: z.string().optional(),
    })
    .optional(),
  description: z.string(),
  mood: z.enum(MOODS).optional(),
  attachments: z.array(z.string()),
  externalRef: z.string().optional(),
  progressSms: z
    .boolean()
    .optional()
    .describe('false: the customer gets no progress SMS for this ticket (opted out)'),
  escalationLevel: z.number().int().min(0).max(3),
  escalations: z.array(escalationSchema),
  assignee: z.string().nullable(),
  repeatOf: z.string().nullable().describe('the same customer’s ticket for the same product within 90 days'),
  dispatch: z.object({
    attempt: z.number().int(),
    manual: z.boolean().describe('nobody matched: waiting for `assign`'),
    declines: z.array(z.object({ engineerId: z.string(), reason: z.string(), at: instant })),
  }),
  plans: z.array(recordedSchema),
  appointment: z.object({ slotStart: instant, slotEnd: instant.nullable(), bookedAt: instant }).nullable(),
  serviceRecords: z.array(recordedSchema),
  approval: recordedSchema.nullable(),
  returnCase: returnCaseSchema,
  quote: quoteSchema
    .nullable()
    .describe(
      'the last quote from the price list (out of warranty, consented before work); null until one is sent',
    ),
  quotes: z
    .array(quoteSchema)
    .describe('every quote round, oldest first (the last is `quote`); the consented one has status accepted'),
  payment: z
    .object({
      amountFen: z.number().int().describe('integer fen'),
      method: z.enum(PAYMENT_METHODS),
      reference: z.string(),
      at: z.string(),
      actorId: z.string(),
    })
    .nullable()
    .describe('the payment of the consented quote'),
  invoice: z
    .object({ invoiceNumber: z.string(), at: z.string() })
    .nullable()
    .describe('the e-invoice sent to the customer’s e-mail'),
  remedies: z
    .array(
      z.object({
        id: z.number().int(),
        kind: z.enum(REMEDY_KINDS),
        valueFen: z.number().int().describe('what it costs the company, integer fen'),
        partNumber: z.string().optional(),
        months: z.number().int().optional(),
        status: z.enum(['awaiting_approval', 'granted', 'rejected']),
        offeredAt: z.string(),
        offeredBy: z.string(),
        decidedAt: z.string().nullable(),
        decidedBy: z.string().nullable(),
        reason: z.string().optional(),
      }),
    )
    .describe('remedies offered on a complaint’s follow-up'),
  analysis: z
    .object({
      complaintType: z.enum(COMPLAINT_TYPES).optional(),
      problemType: z.enum(PROBLEM_TYPES).optional(),
      liability: z.enum(LIABILITIES).optional(),
    })
    .describe('complaint sub-type, problem type (Q/S/P) and liability, as classified'),
  rectification: z
    .object({
      responsible: z.object({ id: z.string(), role: z.enum(ROLES) }),
      dueAt: instant,
      orderedAt: instant,
      doneAt: instant.nullable(),
      note: z.string().optional(),
    })
    .nullable()
    .describe('the last failed QC review’s rectification (its clock is `sla.rectification`)'),
  handlingCosts: z
    .array(
      z.object({
        at: instant,
        actorId: z.string(),
        items: z.array(z.object({ kind: z.enum(HANDLING_COST_ITEMS), amountFen: z.number().int() })),
        totalFen: z.number().int().describe('integer fen'),
        note: z.string().optional(),
      }),
    )
    .describe('what handling the complaint cost, one entry per `record-handling-cost`'),
  quality: z
    .object({
      required: z.boolean(),
      reason: z.enum(['complaint', 'repeat', 'sampled', 'not_sampled']),
      reviews: z.array(
        z.object({
          at: instant,
          actor: actorSchema,
          score: z.number(),
          band: z.enum(['excellent', 'pass', 'fail']),
          aspects: z
            .object(Object.fromEntries(QC_ASPECTS.map((aspect) => [aspect, z.number().int()])))
            .optional()
            .describe(
              'seed 000’s aspects (服务规范性, 处理有效性, 客户沟通), each 0–100; score is their mean',
            ),
          responsible: z.object({ id: z.string(), role: z.enum(ROLES) }).optional(),
          rectifyBy: z.string().optional(),
          comment: z.string().optional(),
        }),
      ),
    })
    .nullable(),
  hold: z.object({ since: instant, reason: z.string(), resumeTo: z.enum(TICKET_STATUSES) }).nullable(),
  callbacks: z.array(
    z.object({
      at: instant,
      actor: actorSchema,
      complaint: z.boolean(),
      input: z.record(z.string(), z.unknown()),
    }),
  ),
  complaints: z.number().int(),
  reservices: z.number().int().describe('reopens and failed quality reviews'),
  closure: z.object({ at: instant, reason: z.string() }).nullable(),
  archivedAt: instant.nullable().describe('the reopen window ran out; the ticket’s workflow has finished'),
  warranty: z.object({
    status: z.enum(['in_warranty', 'out_of_warranty', 'unknown']),
    expiresOn: z.string().nullable(),
  }),
  sla: z.object(Object.fromEntries(CLOCK_NAMES.map((name) => [name, slaClockSchema.optional()]))),
  slaBreached: z.boolean(),
  nextDeadline: instant.nullable(),
  allowedActions: z.array(z.enum(ACTION_NAMES as [string, ...string[]])),
  version: z.number().int(),
  createdAt: instant,
  updatedAt: instant,
});

const nextCursor = z
  .string()
  .nullable()
  .describe('pass as ?cursor= for the next page; null on the last page');

export const ticketPageSchema = z.object({
  items: z.array(ticketViewSchema),
  nextCursor,
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
  nextCursor,
});

export const notificationsSchema = z.object({
  number: z.string(),
  items: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      recipientRole: z.string(),
      channel: z.string(),
      status: z.enum(['pending', 'delivered', 'failed']),
      attempts: z.number().int(),
      createdAt: instant,
      deliveredAt: instant.nullable(),
      recipient: z.string().nullable().describe('masked for roles that may not see personal data'),
      language: z.string().nullable(),
      subject: z.string().nullable(),
      body: z.string().nullable(),
    }),
  ),
  nextCursor,
});

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('on a 400: each bad field, e.g. `body.customer.phone`, and what is wrong with it'),
  })
  .loose()
  .describe('RFC 9457 problem details');

const PROBLEM_DESCRIPTIONS = {
  400: 'invalid input: every bad field is named in `errors`',
  401: 'no valid API key',
  403: 'the key’s role may not do this, or not on this ticket (e.g. an engineer it is no longer assigned to)',
  404: 'no such ticket (or not one this key may see)',
  409: 'illegal transition: `currentStatus` and `allowedActions` say what is possible; or a manual assign to an engineer at capacity: `openLoad` and `capacity` say how full (`overCapacity: true` overrides)',
  413: 'body larger than 256 KiB',
  415: 'body is not JSON',
  422: 'Idempotency-Key reused with a different body, or an action the workflow refused',
  429: 'rate limit for this key exceeded',
  503: 'overloaded, or PostgreSQL / Temporal unreachable',
} as const;

/**
 * A response documented as problem details under their own media type, as `sendProblem` serves
 * them: clients (and SDKs generated from the document) see the schema an error actually has.
 */
export function problemResponse(description: string) {
  return { description, content: { [PROBLEM_MEDIA_TYPE]: { schema: problemSchema } } };
}

/** Documents the problem+json answers a route can give. */
export function problems(...statuses: (keyof typeof PROBLEM_DESCRIPTIONS)[]) {
  return Object.fromEntries(
    statuses.map((status) => [status, problemResponse(PROBLEM_DESCRIPTIONS[status])]),
  );
}
