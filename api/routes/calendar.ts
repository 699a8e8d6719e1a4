import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { calendarDays, WEEKDAYS, type BusinessCalendar } from '../../domain/calendar';
import { problems } from '../schemas';

const MAX_DAYS = 366;
const DAY_MS = 86_400_000;

const isoDate = z.iso.date('must be a date "YYYY-MM-DD"');

const rangeQuery = z
  .object({
    from: isoDate.describe('first day, in the business time zone'),
    to: isoDate.describe(`last day, included; at most ${MAX_DAYS} days from the first`),
  })
  .strict()
  .superRefine(({ from, to }, context) => {
    // A malformed date is reported as such, and zod refines the object all the same.
    if (!isoDate.safeParse(from).success || !isoDate.safeParse(to).success) return;
    // Whole days between two dates: both parse as UTC midnights.
    const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
    if (days < 1) context.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    if (days > MAX_DAYS) {
      context.addIssue({ code: 'custom', path: ['to'], message: `a range spans at most ${MAX_DAYS} days` });
    }
  });

const localInstant = z.string().describe('ISO 8601 instant with the business time zone offset');

const calendarDaySchema = z.object({
  date: z.string().describe('local date YYYY-MM-DD'),
  weekday: z.enum(WEEKDAYS),
  working: z.boolean().describe('business-time clocks (bh, bd) count time on this day'),
  holiday: z.boolean().describe('a statutory holiday or one of the policy file holidays'),
  makeUpDay: z
    .boolean()
    .describe(
      'worked although its weekday is not: a make-up working day (调休) or a policy extra working day',
    ),
  workingHours: z
    .array(z.object({ from: localInstant, to: localInstant }))
    .describe('the working intervals, lunch break excluded; empty when the day is not worked'),
});

const workingDaysSchema = z.object({
  timeZone: z.string().describe('the business time zone of the dates'),
  statutory: z
    .object({
      region: z.literal('CN'),
      fromYear: z.number().int().describe('the year the API started'),
      throughYear: z.number().int().describe('the last year the installed chinese-days package knows'),
    })
    .nullable()
    .describe(
      'the years whose statutory holidays and make-up days are included (days outside them have only ' +
        'the policy file entries); null when the policy uses no statutory calendar',
    ),
  days: z.array(calendarDaySchema),
});

/**
 * `GET /v1/calendar/working-days`: the business days the SLA clocks of tickets opened now run on
 * (the API's policy, as snapshotted into each new ticket), so clients can show the same days.
 */
export const calendarRoutes: FastifyPluginAsyncZod<{ readonly calendar: BusinessCalendar }> = async (
  app,
  { calendar },
) => {
  const local = (ms: number) =>
    DateTime.fromMillis(ms, { zone: calendar.timeZone }).toISO({ suppressMilliseconds: true }) ?? '';

  app.get(
    '/calendar/working-days',
    {
      schema: {
        tags: ['calendar'],
        summary: 'Working days, holidays and make-up days of the business calendar, with working hours',
        description:
          'Any authenticated role. The calendar of the SLA policy new tickets get: weekdays and hours, ' +
          'the policy file holidays and extra working days, and (calendar.statutory) China statutory ' +
          `holidays and make-up days. At most ${MAX_DAYS} days per request.`,
        querystring: rangeQuery,
        response: { 200: workingDaysSchema, ...problems(400, 401, 429, 503) },
      },
    },
    async (request) => ({
      timeZone: calendar.timeZone,
      statutory: calendar.statutory ?? null,
      days: calendarDays(request.query.from, request.query.to, calendar).map(
        ({ workingIntervals, ...day }) => ({
          ...day,
          workingHours: workingIntervals.map(([from, to]) => ({ from: local(from), to: local(to) })),
        }),
      ),
    }),
  );
};
