import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isValidTimeZone, minutesOfDay, WEEKDAYS } from '../domain/calendar';
import {
  DURATION_FORMAT_HINT,
  parseDuration,
  type SlaDuration,
  type WallDuration,
} from '../domain/durations';
import { MAX_DISPATCH_DISTANCE_KM } from '../domain/dispatch';
import { KPI_NAMES, type KpiName } from '../domain/kpi';
import { AGENT_SCOPES, DEFAULT_POLICY_DOCUMENT, type SlaPolicy } from '../domain/policy';
import { PRICED_SERVICE_TYPES, type PricedServiceType } from '../domain/money';
import { PROOF_KINDS } from '../domain/returns';

/** An amount of money in the policy: integer fen (¥50.00 is 5000), at most ¥1,000,000. */
const fen = z.number().int('must be whole fen (integer minor units)').min(0).max(100_000_000);
import { defaultStatutoryRegion, STATUTORY_REGIONS, withStatutoryDays } from './statutory-calendar';

/**
 * The `SLA_POLICY_FILE` format of SPEC section 4: every field optional, defaults are the customer's
 * numbers. A bad file stops start-up with the path of the bad field. `calendar.statutory` adds a
 * country's statutory holidays and make-up days to the calendar's own (see parsePolicy).
 */
const duration = z.string().transform((text, context): SlaDuration => {
  const parsed = parseDuration(text);
  if (parsed) return parsed;
  context.addIssue({ code: 'custom', message: `"${text}" is not a duration: use ${DURATION_FORMAT_HINT}` });
  return z.NEVER;
});

const byPriority = (defaults: { normal: string; urgent: string; critical: string }) =>
  z
    .object({
      normal: duration.prefault(defaults.normal),
      urgent: duration.prefault(defaults.urgent),
      critical: duration.prefault(defaults.critical),
    })
    .strict()
    .prefault({});

const firstResponseByPriority = (fallback: string) =>
  byPriority({ normal: fallback, urgent: fallback, critical: fallback });

/**
 * One duration for every priority ("10m"), or one per priority as `plan` writes it (seed 002's
 * table); a priority left out takes `fallback`. Errors name the bad field, as the others do.
 */
const durationOrByPriority = (fallback: string) =>
  z
    .union([z.string(), z.record(z.string(), z.unknown())], 'must be a duration or one per priority')
    .transform((value, context) => {
      const result = (typeof value === 'string' ? duration : firstResponseByPriority(fallback)).safeParse(
        value,
      );
      if (result.success) return result.data;
      for (const issue of result.error.issues) {
        context.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      }
      return z.NEVER;
    })
    .prefault(fallback);

const localTime = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be a local time "HH:MM"');
const isoDate = z.iso.date('must be a date "YYYY-MM-DD"');
const defaults = DEFAULT_POLICY_DOCUMENT;

const calendarSchema = z
  .object({
    workingDays: z.array(z.enum(WEEKDAYS)).default([...defaults.calendar.workingDays]),
    workingHours: z
      .array(z.tuple([localTime, localTime]))
      .min(1)
      .default(defaults.calendar.workingHours.map(([from, to]) => [from, to] as [string, string]))
      .superRefine((intervals, context) => {
        let previousEnd = -1;
        intervals.forEach(([from, to], index) => {
          if (minutesOfDay(from) >= minutesOfDay(to) || minutesOfDay(from) < previousEnd) {
            context.addIssue({
              code: 'custom',
              path: [index],
              message: 'working-hour intervals must be ordered, non-empty and not overlapping',
            });
          }
          previousEnd = minutesOfDay(to);
        });
      }),
    holidays: z.array(isoDate).default([]),
    extraWorkingDays: z.array(isoDate).default([]),
    statutory: z
      .enum([...STATUTORY_REGIONS, 'none'], 'must be "CN" (China\'s statutory holidays) or "none"')
      .optional(),
  })
  .strict()
  .prefault({})
  .refine((calendar) => calendar.workingDays.length > 0 || calendar.extraWorkingDays.length > 0, {
    message: 'the calendar needs at least one working day',
    path: ['workingDays'],
  });

/** The KPI targets: percentages, each defaulting to seed 004's figure. */
const targetsSchema = z
  .object(
    Object.fromEntries(
      KPI_NAMES.map((kpi) => [kpi, z.number().min(0).max(100).default(defaults.targets[kpi])]),
    ) as Record<KpiName, z.ZodDefault<z.ZodNumber>>,
  )
  .strict()
  .prefault({});

export const policyFileSchema = z
  .object({
    timeZone: z
      .string()
      .refine(isValidTimeZone, 'must be an IANA time zone such as "Asia/Shanghai"')
      .default(defaults.timeZone),
    calendar: calendarSchema,
    firstResponse: durationOrByPriority(defaults.firstResponse),
    escalationStep: duration.prefault(defaults.escalationStep),
    plan: byPriority(defaults.plan),
    dispatchAccept: duration.prefault(defaults.dispatchAccept),
    customerContact: duration.prefault(defaults.customerContact),
    appointmentReminder: duration
      .refine(
        (value): value is WallDuration => value.kind === 'wall',
        'the reminder lead counts back from the slot on the wall clock: use s, m, h or d',
      )
      .prefault(defaults.appointmentReminder),
    resolution: byPriority(defaults.resolution),
    criticalTemporaryPlan: duration.prefault(defaults.criticalTemporaryPlan),
    callback: duration.prefault(defaults.callback),
    complaintFollowUp: duration.prefault(defaults.complaintFollowUp),
    directorPlan: duration.prefault(defaults.directorPlan),
    reopenWindow: duration.prefault(defaults.reopenWindow),
    partsWait: duration.prefault(defaults.partsWait),
    partsApproval: duration.prefault(defaults.partsApproval),
    partsWaitPausesResolution: z.boolean().default(defaults.partsWaitPausesResolution),
    returnWindowDays: z.number().int().min(0).max(365).default(defaults.returnWindowDays),
    exchangeWindowDays: z.number().int().min(0).max(365).default(defaults.exchangeWindowDays),
    returnProofs: z
      .array(z.enum(PROOF_KINDS))
      .max(PROOF_KINDS.length)
      .refine((proofs) => new Set(proofs).size === proofs.length, 'lists a proof twice')
      .default([...defaults.returnProofs]),
    returnApproval: duration.prefault(defaults.returnApproval),
    returnShipBack: duration.prefault(defaults.returnShipBack),
    serviceFees: z
      .object(
        Object.fromEntries(
          PRICED_SERVICE_TYPES.map((type) => [
            type,
            z
              .object({ laborFen: fen, visitFen: fen })
              .strict()
              .default({ ...defaults.serviceFees[type] }),
          ]),
        ) as Record<
          PricedServiceType,
          z.ZodDefault<z.ZodObject<{ laborFen: typeof fen; visitFen: typeof fen }>>
        >,
      )
      .strict()
      .prefault({}),
    quoteExpiry: duration.prefault(defaults.quoteExpiry),
    quoteBeforeWork: z.boolean().default(defaults.quoteBeforeWork),
    warrantyCoversFees: z.boolean().default(defaults.warrantyCoversFees),
    remedyApprovalFen: fen.default(defaults.remedyApprovalFen),
    remedyApproval: duration.prefault(defaults.remedyApproval),
    rectification: duration.prefault(defaults.rectification),
    refund: duration.prefault(defaults.refund),
    replacementShipment: duration.prefault(defaults.replacementShipment),
    replacementConfirmation: duration.prefault(defaults.replacementConfirmation),
    unitReturn: duration.prefault(defaults.unitReturn),
    returnInspection: duration.prefault(defaults.returnInspection),
    returnNegotiation: duration.prefault(defaults.returnNegotiation),
    payment: duration.prefault(defaults.payment),
    warrantyMonths: z.number().int().min(0).max(240).default(defaults.warrantyMonths),
    qcSampleRate: z.number().min(0).max(1).default(defaults.qcSampleRate),
    targets: targetsSchema,
    warnAt: z
      .number('must be a fraction of the clock’s length (e.g. 0.8), or null for no warnings')
      .gt(0, 'must be above 0 (a fraction of the clock’s length)')
      .lt(1, 'must be below 1: the warning comes before the deadline')
      .nullable()
      .default(defaults.warnAt),
    dispatch: z
      .object({
        radiusKm: z
          .number('must be a distance in kilometres (e.g. 5)')
          .min(0, 'must be 0 or more kilometres')
          .max(
            MAX_DISPATCH_DISTANCE_KM,
            `must be at most ${MAX_DISPATCH_DISTANCE_KM} km (the farthest dispatch sends anyone)`,
          )
          .default(defaults.dispatch.radiusKm),
      })
      .strict()
      .prefault({}),
    agentScope: z
      .enum(AGENT_SCOPES, 'must be "all" (agents act on every ticket) or "own" (only their own)')
      .default(defaults.agentScope),
  })
  .strict()
  .transform(({ timeZone, calendar: { statutory, ...calendar }, ...clocks }) => ({
    policy: { ...clocks, calendar: { timeZone, ...calendar } } satisfies SlaPolicy,
    statutory: statutory ?? defaultStatutoryRegion(timeZone),
  }));

export class PolicyFileError extends Error {
  override name = 'PolicyFileError';
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

/**
 * The policy a document describes, its calendar holding the statutory days from `nowMs`'s year on:
 * the snapshot every ticket opened under it carries.
 */
export function parsePolicy(document: unknown, source = 'SLA policy', nowMs = Date.now()): SlaPolicy {
  const result = policyFileSchema.safeParse(document);
  if (!result.success) throw new PolicyFileError(`${source} is invalid: ${describeIssues(result.error)}`);
  const { policy, statutory } = result.data;
  if (statutory === 'none') return policy;
  return { ...policy, calendar: withStatutoryDays(policy.calendar, statutory, nowMs) };
}

/** Reads the policy file, or the defaults when no file is configured. */
export function loadPolicy(path: string | undefined, nowMs = Date.now()): SlaPolicy {
  if (!path) return parsePolicy({}, 'SLA policy', nowMs);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PolicyFileError(`SLA_POLICY_FILE ${path} cannot be read: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PolicyFileError(`SLA_POLICY_FILE ${path} is not JSON: ${(error as Error).message}`);
  }
  return parsePolicy(document, `SLA_POLICY_FILE ${path}`, nowMs);
}
