import type * as Zod from 'zod';
import { REMEDY_KINDS } from './money';
import { LOCATION_ID_PATTERN, OLD_PART_DISPOSITIONS, PART_NUMBER_PATTERN } from './parts';
import {
  INSPECTION_RESULTS,
  PAYMENT_METHODS,
  PROOF_KINDS,
  RETURN_REASONS,
  UNIT_DISPOSITIONS,
} from './returns';
import {
  COMPLAINT_TYPES,
  DISSATISFACTION_CATEGORIES,
  HANDLING_COST_ITEMS,
  LIABILITIES,
  PROBLEM_TYPES,
  QC_ASPECTS,
  SATISFACTION_LEVELS,
} from './complaint-analysis';
import { BLANK_MESSAGE, NOT_BLANK } from './text-rules';
import { CATEGORIES, PRIORITIES, ROLES, SERVICE_TYPES } from './ticket';

/**
 * What each lifecycle action takes (SPEC section 3). Each schema is built the first time it is
 * needed, and zod itself is loaded then: workflow code evaluates this module once per workflow, and
 * a ticket that only waits on its clocks should pay neither for building twenty schemas nor for
 * evaluating zod (measured: 7 ms of worker CPU per workflow, and its memory for as long as the
 * workflow is cached). A `require` on first use is what keeps it out of that evaluation; webpack
 * bundles it like an import.
 */
let zod: typeof Zod | undefined;
const z = new Proxy({} as typeof Zod.z, {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  get: (_, name) => (zod ??= require('zod') as typeof Zod).z[name as keyof typeof Zod.z],
});

const score = () => z.number().int().min(1).max(5);
/** Trimmed text: at most `max` characters as sent, and not blank. */
const text = (max: number) => z.string().max(max).trim().regex(NOT_BLANK, BLANK_MESSAGE);
/** Money is integer fen (分) everywhere: ¥180.00 is 18000. */
const fen = () => z.number().int().min(0).max(100_000_000);

const part = () =>
  z
    .object({
      partNumber: text(100),
      oldPartSerial: text(100).optional(),
      quantity: z.number().int().min(1).max(1000),
      unitPriceFen: fen().describe('integer fen (分): ¥180.00 is 18000'),
      /** What became of the part this one replaced (shown to the customer first, seed 004). */
      oldPartDisposition: z.enum(OLD_PART_DISPOSITIONS).optional(),
    })
    .strict();

/** A classification changes at least one of these. */
const CLASSIFIED_FIELDS = [
  'category',
  'priority',
  'serviceType',
  'progressSms',
  'complaintType',
  'problemType',
  'liability',
] as const;

/** A staff id (the staff directory's) or an engineer's id. */
const personId = () => z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a staff or engineer id');
const qcAspectScore = () => z.number().int().min(0).max(100);

const builders = {
  acknowledge: () => z.object({ note: text(2000).optional() }).strict(),
  classify: () =>
    z
      .object({
        category: z.enum(CATEGORIES).optional(),
        priority: z.enum(PRIORITIES).optional(),
        serviceType: z.enum(SERVICE_TYPES).optional(),
        /** The customer's progress SMS for this ticket: false opts out, true opts back in. */
        progressSms: z.boolean().optional(),
        /** The complaint or fault sub-type (seed 000: 零部件损坏, 服务态度差, 处理不及时, 重复故障 …). */
        complaintType: z.enum(COMPLAINT_TYPES).optional(),
        /** Seed 002's problem type: quality (Q 质量), service (S 服务), product (P 产品). */
        problemType: z.enum(PROBLEM_TYPES).optional(),
        /** Who is liable (seed 000: 产品质量, 客户使用, 运输损坏 …). */
        liability: z.enum(LIABILITIES).optional(),
        reason: text(2000).optional(),
      })
      .strict()
      .refine((input) => CLASSIFIED_FIELDS.some((field) => input[field] !== undefined), {
        message: `name at least one of ${CLASSIFIED_FIELDS.join(', ')}`,
      })
      // What the refinement checks, in terms JSON Schema (and so the OpenAPI document) can state.
      .meta({ anyOf: CLASSIFIED_FIELDS.map((field) => ({ required: [field] })) }),
  plan: () =>
    z
      .object({
        measures: text(5000),
        department: text(200),
        deadline: z.iso.datetime({ offset: true }).optional(),
        /** Who carries the plan out (a staff id): told when its deadline passes. */
        owner: z
          .string()
          .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a staff id')
          .optional(),
        customerConfirmed: z.boolean(),
        /**
         * `temporary`: a critical ticket's stop-gap plan; `director`: the plan a second complaint owes;
         * `meeting`: the plan of the manager's meeting on a major complaint (seed 003), with its owner
         * and deadline.
         */
        kind: z.enum(['service', 'temporary', 'director', 'meeting']).default('service'),
        /** False when the plan needs no engineer (advice given, remote fix by the agent). */
        dispatch: z.boolean().default(true),
        parts: z
          .array(
            z
              .object({
                partNumber: z.string().regex(PART_NUMBER_PATTERN, 'must be a part number'),
                quantity: z.number().int().min(1).max(1000),
              })
              .strict(),
          )
          .max(50)
          .optional()
          .describe(
            'the parts this plan needs: reservations and awaited parts beyond these quantities (all of a part not named) are released; absent, nothing changes',
          ),
      })
      .strict()
      .superRefine((input, context) => {
        if (input.kind !== 'meeting') return;
        for (const field of ['owner', 'deadline'] as const) {
          if (input[field] === undefined) {
            context.addIssue({ code: 'custom', path: [field], message: `a meeting plan names its ${field}` });
          }
        }
      })
      // What the refinement checks, in terms JSON Schema (and so the OpenAPI document) can state.
      .meta({
        anyOf: [
          { properties: { kind: { not: { enum: ['meeting'] } } } },
          { required: ['owner', 'deadline'] },
        ],
      }),
  assign: () =>
    z
      .object({
        engineerId: text(64),
        note: text(2000).optional(),
        /** Assign even though the engineer already holds its capacity of open tickets. */
        overCapacity: z.boolean().optional(),
      })
      .strict(),
  accept: () => z.object({ note: text(2000).optional() }).strict(),
  decline: () => z.object({ reason: text(2000) }).strict(),
  schedule: () =>
    z
      .object({
        slotStart: z.iso.datetime({ offset: true }),
        slotEnd: z.iso.datetime({ offset: true }).optional().describe('after slotStart'),
        note: text(2000).optional(),
      })
      .strict()
      .refine((input) => !input.slotEnd || Date.parse(input.slotEnd) > Date.parse(input.slotStart), {
        message: 'slotEnd must be after slotStart',
        path: ['slotEnd'],
      }),
  start: () => z.object({ mode: z.enum(['onsite', 'remote']), note: text(2000).optional() }).strict(),
  /** A remote service that could not fix it becomes an on-site visit on the same ticket (seed 004). */
  'go-onsite': () => z.object({ reason: text(2000) }).strict(),
  resolve: () =>
    z
      .object({
        diagnosis: text(5000),
        rootCause: text(2000).optional(),
        fix: text(5000),
        parts: z.array(part()).max(50).default([]),
        fees: z
          .object({ laborFen: fen().default(0), visitFen: fen().default(0) })
          .strict()
          .prefault({}),
        functionalTest: z.enum(['passed', 'failed', 'not_applicable']),
        customerConfirmation: z
          .object({ signatureRef: text(500) })
          .strict()
          .optional(),
      })
      .strict(),
  'qc-review': () =>
    z
      .object({
        score: z
          .number()
          .int()
          .min(0)
          .max(100)
          .optional()
          .describe('one overall score, when aspects are not'),
        /** Seed 000's three aspects, each 0–100: the review's score is their mean, rounded. */
        aspects: z
          .object(
            Object.fromEntries(QC_ASPECTS.map((aspect) => [aspect, qcAspectScore()])) as Record<
              (typeof QC_ASPECTS)[number],
              ReturnType<typeof qcAspectScore>
            >,
          )
          .strict()
          .optional(),
        /** A failed review: who rectifies (a staff member or an engineer, with their role). */
        responsible: z
          .object({ id: personId(), role: z.enum(ROLES).exclude(['client']) })
          .strict()
          .optional(),
        /** A failed review: the rectification deadline (absent: the policy's `rectification` from now). */
        rectifyBy: z.iso.datetime({ offset: true }).optional(),
        comment: text(2000).optional(),
      })
      .strict()
      .refine((input) => (input.score === undefined) !== (input.aspects === undefined), {
        message: 'send score or aspects (compliance, effectiveness, communication), not both',
      })
      // What the refinement checks, in terms JSON Schema (and so the OpenAPI document) can state.
      .meta({ oneOf: [{ required: ['score'] }, { required: ['aspects'] }] }),
  'record-rectification': () => z.object({ note: text(2000) }).strict(),
  'record-handling-cost': () =>
    z
      .object({
        /** What handling the complaint cost, item by item, each in integer fen (¥120.50 is 12050). */
        items: z
          .array(
            z
              .object({
                kind: z.enum(HANDLING_COST_ITEMS),
                amountFen: z.number().int().min(0).max(100_000_000),
              })
              .strict(),
          )
          .min(1)
          .max(20),
        note: text(2000).optional(),
      })
      .strict(),
  callback: () =>
    z
      .object({
        channel: z.enum(['phone', 'sms', 'email', 'wechat', 'app']),
        scores: z
          .object({
            responsiveness: score(),
            professionalism: score(),
            attitude: score(),
            resolution: score(),
            overall: score(),
            recommend: score(),
          })
          .strict(),
        /** Seed 000's four levels: 非常满意, 满意, 一般, 不满意. */
        satisfaction: z.enum(SATISFACTION_LEVELS).optional(),
        /** Required when a score is 3 or less (seed 004: 响应慢, 专业不足, 态度差, 费用争议, 其他). */
        dissatisfaction: z.enum(DISSATISFACTION_CATEGORIES).optional(),
        comment: z.string().max(2000).trim().optional(),
      })
      .strict(),
  'follow-up': () =>
    z
      .object({
        contactMade: z.boolean(),
        cause: text(2000),
        improvementPlan: text(5000),
      })
      .strict(),
  'request-return': () =>
    z
      .object({
        returnReason: z.enum(RETURN_REASONS),
        /** What the customer has shown; the policy says which are required. */
        proofs: z
          .array(z.enum(PROOF_KINDS))
          .max(PROOF_KINDS.length)
          .refine((proofs) => new Set(proofs).size === proofs.length, 'lists a proof twice')
          .meta({ uniqueItems: true })
          .default([]),
        /** Send an ineligible request to the manager anyway, saying why (else it is refused). */
        exception: text(2000).optional(),
        /**
         * How the customer paid for the product (from the purchase proof): a refund goes back the
         * same way and no other.
         */
        paidWith: z.enum(PAYMENT_METHODS).optional(),
        note: text(2000).optional(),
      })
      .strict(),
  approve: () => z.object({ note: text(2000).optional() }).strict(),
  reject: () => z.object({ reason: text(2000) }).strict(),
  'ship-back': () => z.object({ carrier: text(100), trackingNumber: text(100) }).strict(),
  'receive-return': () =>
    z
      .object({
        /** Who signed for the parcel at the warehouse (a staff name or id, not the customer's). */
        signedBy: text(100),
        note: text(2000).optional(),
      })
      .strict(),
  'inspect-return': () =>
    z
      .object({
        appearance: z.enum(INSPECTION_RESULTS),
        function: z.enum(INSPECTION_RESULTS),
        note: text(2000).optional(),
      })
      .strict(),
  refund: () =>
    z
      .object({
        /** Integer minor units (fen): ¥1,299.00 is 129900. */
        amountFen: z.number().int().min(1).max(100_000_000),
        /** The way the customer paid for the product (`paidWith` when the request named it). */
        method: z.enum(PAYMENT_METHODS),
        reference: text(100),
      })
      .strict(),
  'ship-replacement': () =>
    z
      .object({
        /** The replacement's part number in the catalogue, reserved for the ticket by `parts-request`. */
        partNumber: z.string().regex(PART_NUMBER_PATTERN, 'must be a part number (letters, digits, . _ -)'),
        carrier: text(100),
        trackingNumber: text(100),
      })
      .strict(),
  'confirm-replacement': () => z.object({ accepted: z.boolean(), note: text(2000).optional() }).strict(),
  'receive-unit': () =>
    z
      .object({
        partNumber: z.string().regex(PART_NUMBER_PATTERN, 'must be a part number (letters, digits, . _ -)'),
        locationId: z.string().regex(LOCATION_ID_PATTERN, 'must be a stock location id'),
        disposition: z.enum(UNIT_DISPOSITIONS),
        note: text(2000).optional(),
      })
      .strict(),
  quote: () =>
    z
      .object({
        /** The parts the work needs, priced from the catalogue; labour and visit come from the policy. */
        parts: z
          .array(
            z
              .object({
                partNumber: z
                  .string()
                  .regex(PART_NUMBER_PATTERN, 'must be a part number (letters, digits, . _ -)'),
                quantity: z.number().int().min(1).max(1000),
              })
              .strict(),
          )
          .max(50)
          .default([]),
        note: text(2000).optional(),
      })
      .strict(),
  consent: () => z.object({ accepted: z.boolean(), note: text(2000).optional() }).strict(),
  'record-payment': () =>
    z
      .object({
        /** Integer fen: the consented quote's total. */
        amountFen: z.number().int().min(1).max(100_000_000),
        method: z.enum(PAYMENT_METHODS),
        reference: text(100),
      })
      .strict(),
  'send-invoice': () => z.object({ invoiceNumber: text(100) }).strict(),
  'offer-remedy': () =>
    z
      .object({
        kind: z.enum(REMEDY_KINDS),
        /** What it costs the company, in integer fen (a voucher's face value, a gifted part's price). */
        valueFen: z.number().int().min(0).max(100_000_000),
        partNumber: z
          .string()
          .regex(PART_NUMBER_PATTERN, 'must be a part number (letters, digits, . _ -)')
          .optional()
          .describe('the gifted part (gifted_part only)'),
        months: z.number().int().min(1).max(60).optional().describe('the extension (extended_warranty only)'),
        note: text(2000).optional(),
      })
      .strict()
      .refine((input) => (input.kind === 'gifted_part') === (input.partNumber !== undefined), {
        message: 'partNumber names the gifted part: required for gifted_part, and only for it',
        path: ['partNumber'],
      })
      .refine((input) => (input.kind === 'extended_warranty') === (input.months !== undefined), {
        message: 'months is required for extended_warranty, and only for it',
        path: ['months'],
      })
      // What the refinements check, in terms JSON Schema (and so the OpenAPI document) can state.
      .meta({
        allOf: [
          ['gifted_part', 'partNumber'],
          ['extended_warranty', 'months'],
        ].map(([kind, field]) => ({
          anyOf: [
            { properties: { kind: { enum: [kind] } }, required: [field] },
            { properties: { kind: { not: { enum: [kind] } } }, not: { required: [field] } },
          ],
        })),
      }),
  'decide-remedy': () => z.object({ approved: z.boolean(), reason: text(2000).optional() }).strict(),
  'settle-return': () =>
    z
      .object({
        /** What was agreed after a failed inspection: refund after all, or send the product back. */
        outcome: z.enum(['refund', 'returned_to_customer']),
        note: text(2000),
      })
      .strict(),
  hold: () => z.object({ reason: text(2000) }).strict(),
  resume: () => z.object({ note: text(2000).optional() }).strict(),
  reopen: () => z.object({ reason: text(2000) }).strict(),
  cancel: () => z.object({ reason: text(2000) }).strict(),
  close: () =>
    z
      .object({
        reason: z.enum(['customer_satisfied', 'customer_unreachable']),
        note: text(2000).optional(),
      })
      .strict(),
  'escalation-ack': () =>
    z.object({ escalationId: text(200).optional(), note: text(2000).optional() }).strict(),
  note: () => z.object({ text: text(5000) }).strict(),
} as const;

/**
 * A resolve recorded before money was fen everywhere carried yuan (`parts[].unitPrice`,
 * `fees.labor`, `fees.visit`); the workflow replaying such a history reads it as the same record in
 * fen. Anything else is returned as it is (the API takes fen only, and refuses the old names).
 */
export function upgradeLegacyResolve(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const record = input as { parts?: unknown; fees?: unknown };
  const toFen = (yuan: unknown) => (typeof yuan === 'number' ? Math.round(yuan * 100) : yuan);
  const parts = Array.isArray(record.parts)
    ? record.parts.map((part: unknown) => {
        if (typeof part !== 'object' || part === null || !('unitPrice' in part)) return part;
        const { unitPrice, ...rest } = part as { unitPrice: unknown };
        return { ...rest, unitPriceFen: toFen(unitPrice) };
      })
    : record.parts;
  const fees = record.fees as { labor?: unknown; visit?: unknown } | undefined;
  const legacyFees = typeof fees === 'object' && fees !== null && ('labor' in fees || 'visit' in fees);
  return {
    ...record,
    ...(parts === undefined ? {} : { parts }),
    ...(legacyFees
      ? {
          fees: {
            ...(fees.labor === undefined ? {} : { laborFen: toFen(fees.labor) }),
            ...(fees.visit === undefined ? {} : { visitFen: toFen(fees.visit) }),
          },
        }
      : {}),
  };
}

export type ActionName = keyof typeof builders;
type SchemaOf<A extends ActionName> = ReturnType<(typeof builders)[A]>;
export type ActionInput<A extends ActionName> = Zod.infer<SchemaOf<A>>;
/** What a caller sends: defaults (a plan's `kind`, a service record's fees) may be left out. */
export type ActionPayload<A extends ActionName> = Zod.input<SchemaOf<A>>;
export const ACTION_NAMES = Object.keys(builders) as ActionName[];

const built = new Map<ActionName, SchemaOf<ActionName>>();

/** The action's input schema, built the first time it is asked for. */
export function actionInputSchema<A extends ActionName>(action: A): SchemaOf<A> {
  const schema = built.get(action) ?? builders[action]();
  built.set(action, schema);
  return schema as SchemaOf<A>;
}
