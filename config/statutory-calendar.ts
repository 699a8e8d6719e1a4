import chineseDays from 'chinese-days/dist/chinese-days.json';
import { localDate, type BusinessCalendar, type StatutorySnapshot } from '../domain/calendar';

/**
 * Mainland China's statutory holidays and make-up working days (调休), as the State Council announces
 * them each year, from the `chinese-days` package's published JSON (dates keyed "YYYY-MM-DD"). Read
 * here, when the policy is loaded, never by workflow code: the policy a ticket carries holds the
 * days themselves, so its deadlines replay to the same instants whatever the package says later.
 */
export const STATUTORY_REGIONS = ['CN'] as const;
export type StatutoryRegion = (typeof STATUTORY_REGIONS)[number];

/** Mainland China's IANA zones: zone1970.tab's CN rows and the older names that link to them. */
const MAINLAND_CHINA_ZONES = new Set([
  'Asia/Shanghai',
  'Asia/Urumqi',
  'Asia/Chongqing',
  'Asia/Chungking',
  'Asia/Harbin',
  'Asia/Kashgar',
  'PRC',
]);

/** The statutory calendar a policy gets when it names none: China's in a mainland China zone. */
export function defaultStatutoryRegion(timeZone: string): StatutoryRegion | 'none' {
  return MAINLAND_CHINA_ZONES.has(timeZone) ? 'CN' : 'none';
}

const yearOf = (date: string) => Number(date.slice(0, 4));
const coveredYears = Object.keys(chineseDays.holidays).map(yearOf);

/** The years the installed package has China's arrangements for: every year has at least 元旦. */
export const CN_STATUTORY_YEARS = { first: Math.min(...coveredYears), last: Math.max(...coveredYears) };

const datesFrom = (days: Record<string, string>, fromYear: number) =>
  Object.keys(days).filter((date) => yearOf(date) >= fromYear);

/**
 * The calendar with the region's statutory days from `nowMs`'s year (in the calendar's time zone) on
 * merged in: earlier years no ticket opened from now on can reach. The policy's own entries win: a
 * date it lists as a working day is no statutory holiday, and one it lists as a holiday no make-up day.
 */
export function withStatutoryDays(
  calendar: BusinessCalendar,
  region: StatutoryRegion,
  nowMs: number,
): BusinessCalendar {
  const fromYear = yearOf(localDate(nowMs, calendar.timeZone));
  const listed = new Set([...calendar.holidays, ...calendar.extraWorkingDays]);
  const unlisted = (dates: string[]) => dates.filter((date) => !listed.has(date));
  const statutory: StatutorySnapshot = { region, fromYear, throughYear: CN_STATUTORY_YEARS.last };
  return {
    ...calendar,
    holidays: [...calendar.holidays, ...unlisted(datesFrom(chineseDays.holidays, fromYear))].sort(),
    extraWorkingDays: [
      ...calendar.extraWorkingDays,
      ...unlisted(datesFrom(chineseDays.workdays, fromYear)),
    ].sort(),
    statutory,
  };
}
