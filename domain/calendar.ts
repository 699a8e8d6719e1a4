import { DateTime } from 'luxon';

/**
 * The business calendar that `bh` / `bd` deadlines run on. Pure and deterministic: the same inputs
 * give the same instant, so workflow code may call it.
 */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface BusinessCalendar {
  readonly timeZone: string;
  readonly workingDays: readonly Weekday[];
  /** Local "HH:MM" intervals, ordered and not overlapping; several a day allow a lunch break. */
  readonly workingHours: readonly (readonly [string, string])[];
  /** Local dates (YYYY-MM-DD) that are not worked although their weekday is. */
  readonly holidays: readonly string[];
  /** Make-up working days (调休): local dates worked although their weekday is not. */
  readonly extraWorkingDays: readonly string[];
  /**
   * Set when `holidays` and `extraWorkingDays` include a country's statutory days, snapshotted when the
   * policy was loaded (config/statutory-calendar.ts) for the years `fromYear` to `throughYear`. Only
   * informs: the lists above are the whole calendar, so a policy without this field works the same.
   */
  readonly statutory?: StatutorySnapshot;
}

export interface StatutorySnapshot {
  readonly region: 'CN';
  readonly fromYear: number;
  /** The last year the statutory data knows; later years have only the policy's own entries. */
  readonly throughYear: number;
}

/** How far ahead a deadline may be searched before the calendar is declared to have no working time. */
const SEARCH_LIMIT_DAYS = 3_700;

export function minutesOfDay(hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

function workingMinutesPerDay(calendar: BusinessCalendar): number {
  return calendar.workingHours.reduce((sum, [from, to]) => sum + minutesOfDay(to) - minutesOfDay(from), 0);
}

/** What the calendar makes of a local day; a listed working day wins over a listed holiday. */
interface DayKind {
  readonly weekday: Weekday;
  readonly working: boolean;
  /** A listed holiday that is not also listed as a working day. */
  readonly holiday: boolean;
  /** Worked only because it is listed as a working day: its weekday is not a working one. */
  readonly makeUpDay: boolean;
}

function kindOfDay(day: DateTime, calendar: BusinessCalendar): DayKind {
  const date = day.toISODate() ?? '';
  const weekday = WEEKDAYS[day.weekday - 1] as Weekday;
  const listedWorking = calendar.extraWorkingDays.includes(date);
  const holiday = !listedWorking && calendar.holidays.includes(date);
  const weekdayWorks = calendar.workingDays.includes(weekday);
  return {
    weekday,
    working: listedWorking || (weekdayWorks && !holiday),
    holiday,
    makeUpDay: listedWorking && !weekdayWorks,
  };
}

/** The instant at which a local "HH:MM" (24:00 allowed) falls on a local day; DST gaps resolve forward. */
function instantOn(day: DateTime, hhmm: string): number {
  if (hhmm === '24:00') return day.plus({ days: 1 }).startOf('day').toMillis();
  const minutes = minutesOfDay(hhmm);
  return day
    .set({ hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0, millisecond: 0 })
    .toMillis();
}

/**
 * Adds business time to an instant: only time inside working intervals of working days counts.
 * `bd` counts whole working days of `workingMinutesPerDay` each, so 5bd from Monday 10:00 is the next
 * Monday 10:00 when nothing in between is a holiday.
 */
export function addBusinessTime(
  startMs: number,
  amount: number,
  unit: 'bh' | 'bd',
  calendar: BusinessCalendar,
): number {
  const minutes = unit === 'bh' ? amount * 60 : amount * workingMinutesPerDay(calendar);
  return addBusinessMs(startMs, Math.round(minutes * 60_000), calendar);
}

/** A local day's working intervals as instants, and the instant the next local day starts. */
interface WorkingDay {
  readonly startMs: number;
  readonly intervals: readonly (readonly [number, number])[];
  readonly nextDayStartMs: number;
}

interface DayCache {
  readonly days: Map<number, WorkingDay>;
  /** The day the last walk started in: most calls start where the previous one did. */
  recent?: WorkingDay;
}

/**
 * Each local day is worked out with luxon once per calendar, then read from here: a deadline days
 * ahead otherwise costs a dozen time-zone conversions, and clocks are recomputed on every change of
 * every ticket. The cache only remembers answers of pure functions, so workflow code gets the same
 * results with or without it (replay-safe). Keyed by the calendar object (a workflow's policy
 * snapshot, the API's policy), so it goes when the calendar does; bounded per calendar.
 */
const dayCaches = new WeakMap<BusinessCalendar, DayCache>();
const CACHED_DAYS_PER_CALENDAR = 1_000;

function dayCacheOf(calendar: BusinessCalendar): DayCache {
  let cache = dayCaches.get(calendar);
  if (!cache) {
    cache = { days: new Map() };
    dayCaches.set(calendar, cache);
  }
  return cache;
}

function workingDayStarting(dayStartMs: number, calendar: BusinessCalendar, cache: DayCache): WorkingDay {
  const cached = cache.days.get(dayStartMs);
  if (cached) return cached;
  const day = DateTime.fromMillis(dayStartMs, { zone: calendar.timeZone });
  const workingDay: WorkingDay = {
    startMs: dayStartMs,
    intervals: kindOfDay(day, calendar).working
      ? calendar.workingHours.map(([from, to]) => [instantOn(day, from), instantOn(day, to)] as const)
      : [],
    nextDayStartMs: day.plus({ days: 1 }).startOf('day').toMillis(),
  };
  if (cache.days.size >= CACHED_DAYS_PER_CALENDAR) cache.days.clear();
  cache.days.set(dayStartMs, workingDay);
  return workingDay;
}

/** The local day an instant falls on. */
function workingDayOf(ms: number, calendar: BusinessCalendar, cache: DayCache): WorkingDay {
  const { recent } = cache;
  if (recent && recent.startMs <= ms && ms < recent.nextDayStartMs) return recent;
  const dayStartMs = DateTime.fromMillis(ms, { zone: calendar.timeZone }).startOf('day').toMillis();
  cache.recent = workingDayStarting(dayStartMs, calendar, cache);
  return cache.recent;
}

/** Visits the working intervals from `startMs` on, clipped to start there, until `visit` says stop. */
function forEachWorkingInterval(
  startMs: number,
  calendar: BusinessCalendar,
  visit: (fromMs: number, toMs: number) => boolean,
): void {
  const cache = dayCacheOf(calendar);
  let day = workingDayOf(startMs, calendar, cache);
  for (let searched = 0; searched < SEARCH_LIMIT_DAYS; searched += 1) {
    for (const [from, to] of day.intervals) {
      const intervalStart = Math.max(from, startMs);
      if (intervalStart < to && visit(intervalStart, to)) return;
    }
    day = workingDayStarting(day.nextDayStartMs, calendar, cache);
  }
  throw new Error(`the business calendar has no working time within ${SEARCH_LIMIT_DAYS} days`);
}

/** The instant after `ms` milliseconds of working time from `startMs`. */
export function addBusinessMs(startMs: number, ms: number, calendar: BusinessCalendar): number {
  let remainingMs = ms;
  let result = startMs;
  forEachWorkingInterval(startMs, calendar, (from, to) => {
    if (remainingMs <= to - from) {
      result = from + remainingMs;
      return true;
    }
    remainingMs -= to - from;
    return false;
  });
  return result;
}

/** How much working time lies between two instants (0 when `toMs` is not after `fromMs`). */
export function businessMsBetween(fromMs: number, toMs: number, calendar: BusinessCalendar): number {
  if (toMs <= fromMs) return 0;
  let total = 0;
  forEachWorkingInterval(fromMs, calendar, (from, to) => {
    if (from >= toMs) return true;
    total += Math.min(to, toMs) - from;
    return to >= toMs;
  });
  return total;
}

/** One local day as the business calendar sees it. */
export interface CalendarDay extends DayKind {
  /** Local date, YYYY-MM-DD. */
  readonly date: string;
  /** The day's working intervals as instants (ms), in order; none when it is not worked. */
  readonly workingIntervals: readonly (readonly [number, number])[];
}

/**
 * The local days `from` to `to` (YYYY-MM-DD, both included) as the deadlines see them: the same
 * working intervals `addBusinessTime` counts.
 */
export function calendarDays(from: string, to: string, calendar: BusinessCalendar): CalendarDay[] {
  let day = DateTime.fromISO(from, { zone: calendar.timeZone }).startOf('day');
  if (!day.isValid || !DateTime.fromISO(to).isValid) {
    throw new RangeError(`calendar days run between two dates "YYYY-MM-DD", not ${from} and ${to}`);
  }
  const cache = dayCacheOf(calendar);
  const days: CalendarDay[] = [];
  for (let date = day.toISODate() ?? ''; date <= to; date = day.toISODate() ?? '') {
    const { intervals, nextDayStartMs } = workingDayStarting(day.toMillis(), calendar, cache);
    days.push({ date, ...kindOfDay(day, calendar), workingIntervals: intervals });
    day = DateTime.fromMillis(nextDayStartMs, { zone: calendar.timeZone });
  }
  return days;
}

/** The local day `localDate` answered last: every instant in [startMs, endMs) has its date. */
let lastDay: { timeZone: string; startMs: number; endMs: number; date: string } | undefined;

/**
 * The local calendar date (YYYY-MM-DD) of an instant in a time zone. Every create asks it for "now"
 * (twice), and luxon's zone arithmetic was 4 % of the API's CPU: the last day it found is kept, its
 * bounds from luxon, so a day of 23 or 25 hours ends where the zone's rules say.
 */
export function localDate(ms: number, timeZone: string): string {
  if (lastDay?.timeZone === timeZone && ms >= lastDay.startMs && ms < lastDay.endMs) return lastDay.date;
  const local = DateTime.fromMillis(ms, { zone: timeZone });
  const start = local.startOf('day');
  const date = local.toISODate() ?? '';
  lastDay = { timeZone, startMs: start.toMillis(), endMs: start.plus({ days: 1 }).toMillis(), date };
  return date;
}

export function isValidTimeZone(timeZone: string): boolean {
  return DateTime.local().setZone(timeZone).isValid;
}
