import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../config/policy-file';
import { CN_STATUTORY_YEARS } from '../../config/statutory-calendar';
import { calendarDays, type BusinessCalendar } from '../../domain/calendar';
import { deadlineAfter, statutoryCoverageWarning } from '../../domain/policy';

/** Policies are loaded as the API loads them at start-up; here, in mid-2026. */
const LOADED_AT = Date.parse('2026-06-01T09:00:00+08:00');
const load = (document: Record<string, unknown> = {}, nowMs = LOADED_AT) =>
  parsePolicy(document, 'SLA policy', nowMs);

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

function dayOf(calendar: BusinessCalendar, date: string) {
  const [day] = calendarDays(date, date, calendar);
  return day;
}
const isWorking = (calendar: BusinessCalendar, date: string) => dayOf(calendar, date)?.working;

describe('the statutory calendar (chinese-days)', () => {
  it('knows the years the installed package covers, from its data', () => {
    // chinese-days 1.5.7 as pinned: docs/configuration.md's coverage line says the same.
    expect(CN_STATUTORY_YEARS).toEqual({ first: 2004, last: 2026 });
  });

  it('makes 国庆 2026 (October 1–3) holidays under the default policy', () => {
    const { calendar } = load();
    for (const date of ['2026-10-01', '2026-10-02', '2026-10-03']) {
      expect(dayOf(calendar, date)).toMatchObject({
        date,
        working: false,
        holiday: true,
        workingIntervals: [],
      });
    }
    expect(calendar.statutory).toEqual({ region: 'CN', fromYear: 2026, throughYear: 2026 });
  });

  it('works the make-up days (调休) the package lists, with the usual hours', () => {
    const { calendar } = load();
    // Sunday 2026-09-20 and Saturday 2026-10-10 are worked for 国庆.
    expect(dayOf(calendar, '2026-10-10')).toMatchObject({
      weekday: 'sat',
      working: true,
      holiday: false,
      makeUpDay: true,
      workingIntervals: [[at('2026-10-10T09:00:00+08:00'), at('2026-10-10T18:00:00+08:00')]],
    });
    expect(isWorking(calendar, '2026-09-20')).toBe(true);
    // An ordinary Saturday is not.
    expect(isWorking(calendar, '2026-10-17')).toBe(false);
  });

  it("lets the policy's own entries win over the package's", () => {
    const { calendar } = load({
      calendar: { holidays: ['2026-10-10'], extraWorkingDays: ['2026-10-02'] },
    });
    expect(dayOf(calendar, '2026-10-02')).toMatchObject({ working: true, holiday: false });
    expect(dayOf(calendar, '2026-10-10')).toMatchObject({ working: false, holiday: true, makeUpDay: false });
    expect(isWorking(calendar, '2026-10-01')).toBe(false);
    expect(isWorking(calendar, '2026-09-20')).toBe(true);
  });

  it('lands a 5bd deadline opened on the last working day before 国庆 after the holiday', () => {
    const policy = load();
    // Wed 2026-09-30 10:00: 8 h that day, 9 h each on Thu 10-08, Fri 10-09, the make-up Sat 10-10
    // and Mon 10-12, 1 h on Tue 10-13.
    expect(
      iso(deadlineAfter(at('2026-09-30T10:00:00+08:00'), policy.resolution.normal, policy.calendar)),
    ).toBe('2026-10-13T02:00:00.000Z');
  });

  it('snapshots only the years from the loading year on', () => {
    const { calendar } = load();
    expect(calendar.holidays.every((date) => date >= '2026-01-01')).toBe(true);
    expect(calendar.holidays).toContain('2026-01-01');
    expect(calendar.extraWorkingDays).toContain('2026-01-04');
    expect(load({}, at('2027-03-01T00:00:00+08:00')).calendar).toMatchObject({
      holidays: [],
      extraWorkingDays: [],
      statutory: { region: 'CN', fromYear: 2027, throughYear: 2026 },
    });
  });

  it('defaults to no statutory days outside mainland China, and may be chosen or turned off', () => {
    expect(load({ timeZone: 'Europe/Berlin' }).calendar).toMatchObject({
      holidays: [],
      extraWorkingDays: [],
    });
    expect(load({ timeZone: 'Europe/Berlin' }).calendar.statutory).toBeUndefined();
    expect(load({ timeZone: 'Asia/Urumqi' }).calendar.statutory?.region).toBe('CN');
    expect(
      isWorking(load({ timeZone: 'Asia/Hong_Kong', calendar: { statutory: 'CN' } }).calendar, '2026-10-01'),
    ).toBe(false);
    const without = load({ calendar: { statutory: 'none', holidays: ['2026-10-01'] } }).calendar;
    expect(without).toMatchObject({ holidays: ['2026-10-01'], extraWorkingDays: [] });
    expect(isWorking(without, '2026-10-02')).toBe(true);
  });

  it('names a bad statutory setting', () => {
    expect(() => load({ calendar: { statutory: 'US' } })).toThrow(/calendar\.statutory: must be "CN"/);
  });
});

describe('the start-up warning about deadlines past the statutory years', () => {
  it('stays quiet while every business clock of a ticket opened now ends within them', () => {
    const policy = load({}, at('2026-12-03T10:00:00+08:00'));
    expect(statutoryCoverageWarning(policy, at('2026-12-03T10:00:00+08:00'))).toBeUndefined();
  });

  it('names the year, the clock and its due date when the longest clock runs past them', () => {
    const now = at('2026-12-24T10:00:00+08:00');
    // Thu 12-24 + 7bd (critical resolution) is Mon 2027-01-04: 2027 is not in chinese-days 1.5.7.
    expect(statutoryCoverageWarning(load({}, now), now)).toBe(
      "the statutory holidays (CN) known to chinese-days end with 2026, but resolution.critical (7bd) started now is due 2027-01-04: 2027's holidays would count as working days; upgrade chinese-days, or list 2027's holidays and make-up days in the SLA policy file (calendar.holidays, calendar.extraWorkingDays)",
    );
  });

  it('is not needed when the policy lists that year itself or uses no statutory calendar', () => {
    const now = at('2026-12-24T10:00:00+08:00');
    const listed = load({ calendar: { holidays: ['2027-01-01'] } }, now);
    expect(statutoryCoverageWarning(listed, now)).toBeUndefined();
    const none = load({ calendar: { statutory: 'none' } }, now);
    expect(statutoryCoverageWarning(none, now)).toBeUndefined();
    // Wall-clock durations do not use the calendar.
    const wallOnly = load({ resolution: { normal: '5d', urgent: '3d', critical: '7d' } }, now);
    expect(statutoryCoverageWarning(wallOnly, now)).toBeUndefined();
  });
});
