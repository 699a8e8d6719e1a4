import { describe, expect, it } from 'vitest';
import {
  addBusinessMs,
  addBusinessTime,
  businessMsBetween,
  localDate,
  type BusinessCalendar,
} from '../../domain/calendar';

const shanghai: BusinessCalendar = {
  timeZone: 'Asia/Shanghai',
  workingDays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  workingHours: [
    ['09:00', '12:00'],
    ['13:00', '18:00'],
  ],
  holidays: ['2026-10-01', '2026-10-02'],
  extraWorkingDays: ['2026-10-11'],
};

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('business calendar', () => {
  it('counts only working hours, skipping the lunch break', () => {
    // Mon 2026-11-23 11:00 +08:00, 2bh: 11-12 then 13-14.
    expect(iso(addBusinessTime(at('2026-11-23T11:00:00+08:00'), 2, 'bh', shanghai))).toBe(
      '2026-11-23T06:00:00.000Z',
    );
  });

  it('carries business hours over the weekend', () => {
    // Fri 2026-11-27 17:00 +08:00, 2bh: 17-18 Friday, 09-10 Monday 2026-11-30.
    expect(iso(addBusinessTime(at('2026-11-27T17:00:00+08:00'), 2, 'bh', shanghai))).toBe(
      '2026-11-30T02:00:00.000Z',
    );
  });

  it('makes 5 business days from Monday 10:00 the next Monday 10:00', () => {
    expect(iso(addBusinessTime(at('2026-11-23T10:00:00+08:00'), 5, 'bd', shanghai))).toBe(
      '2026-11-30T02:00:00.000Z',
    );
  });

  it('starts counting at the next opening when created out of hours', () => {
    // Sat 2026-11-28 22:00 +08:00, 1bh: Monday 09-10.
    expect(iso(addBusinessTime(at('2026-11-28T22:00:00+08:00'), 1, 'bh', shanghai))).toBe(
      '2026-11-30T02:00:00.000Z',
    );
  });

  it('skips holidays and works make-up days (调休)', () => {
    // Wed 2026-09-30 17:00 +08:00; Oct 1-2 are holidays, Oct 3-4 a weekend, Mon Oct 5 works.
    expect(iso(addBusinessTime(at('2026-09-30T17:00:00+08:00'), 2, 'bh', shanghai))).toBe(
      '2026-10-05T02:00:00.000Z',
    );
    // Sat 2026-10-10 17:00 is not worked, Sun 2026-10-11 is a make-up working day.
    expect(iso(addBusinessTime(at('2026-10-10T17:00:00+08:00'), 1, 'bh', shanghai))).toBe(
      '2026-10-11T02:00:00.000Z',
    );
  });

  it('keeps calendars apart: a day remembered for one calendar is not used for another', () => {
    const start = at('2026-09-30T17:00:00+08:00');
    const noHolidays: BusinessCalendar = { ...shanghai, holidays: [] };
    // Oct 1 worked under one calendar, a holiday under the other, asked in turn on the same days.
    expect(iso(addBusinessTime(start, 2, 'bh', noHolidays))).toBe('2026-10-01T02:00:00.000Z');
    expect(iso(addBusinessTime(start, 2, 'bh', shanghai))).toBe('2026-10-05T02:00:00.000Z');
    expect(iso(addBusinessTime(start, 2, 'bh', noHolidays))).toBe('2026-10-01T02:00:00.000Z');
    expect(businessMsBetween(start, at('2026-10-05T10:00:00+08:00'), shanghai)).toBe(2 * 3_600_000);
  });

  it('ends exactly at closing time when the work fills the day', () => {
    expect(iso(addBusinessTime(at('2026-11-23T09:00:00+08:00'), 8, 'bh', shanghai))).toBe(
      '2026-11-23T10:00:00.000Z',
    );
  });

  it('keeps local opening hours across the spring DST change (America/New_York)', () => {
    const newYork: BusinessCalendar = {
      ...shanghai,
      timeZone: 'America/New_York',
      workingHours: [['09:00', '17:00']],
      holidays: [],
      extraWorkingDays: [],
    };
    // Fri 2026-03-06 16:00 EST (-05:00); clocks go forward Sun 2026-03-08; Mon 09:00 is EDT (-04:00).
    expect(iso(addBusinessTime(at('2026-03-06T16:00:00-05:00'), 2, 'bh', newYork))).toBe(
      '2026-03-09T14:00:00.000Z',
    );
  });

  it('counts the real length of a 23-hour DST day (Europe/Berlin, round the clock)', () => {
    const berlin: BusinessCalendar = {
      timeZone: 'Europe/Berlin',
      workingDays: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      workingHours: [['00:00', '24:00']],
      holidays: [],
      extraWorkingDays: [],
    };
    // Sun 2026-03-29 00:00 CET (23:00Z the day before) lasts 23 hours; 24bh ends Mon 01:00 CEST = 23:00Z.
    expect(iso(addBusinessTime(at('2026-03-28T23:00:00Z'), 24, 'bh', berlin))).toBe(
      '2026-03-29T23:00:00.000Z',
    );
  });

  it('gives the business date in the calendar time zone', () => {
    expect(localDate(at('2026-11-23T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-24');
    expect(localDate(at('2026-11-23T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-11-23');
  });

  it('gives each instant its own date, whichever day it asked for last', () => {
    const shanghaiDay = (instant: string) => localDate(at(instant), 'Asia/Shanghai');
    // Around Shanghai's midnight (16:00Z), forwards and backwards.
    expect(shanghaiDay('2026-11-23T15:59:59.999Z')).toBe('2026-11-23');
    expect(shanghaiDay('2026-11-23T16:00:00.000Z')).toBe('2026-11-24');
    expect(shanghaiDay('2026-11-24T15:59:59.999Z')).toBe('2026-11-24');
    expect(shanghaiDay('2026-11-23T15:59:59.999Z')).toBe('2026-11-23');
    // An instant of the Shanghai day it answered last, asked for in another zone: another date.
    expect(localDate(at('2026-11-22T20:00:00.000Z'), 'Europe/Berlin')).toBe('2026-11-22');
    // Berlin's 23-hour day (2026-03-29, 23:00Z → 22:00Z) and the 25-hour one (2026-10-25, 22:00Z → 23:00Z).
    const berlinDay = (instant: string) => localDate(at(instant), 'Europe/Berlin');
    expect(berlinDay('2026-03-28T23:00:00.000Z')).toBe('2026-03-29');
    expect(berlinDay('2026-03-29T21:59:59.999Z')).toBe('2026-03-29');
    expect(berlinDay('2026-03-29T22:00:00.000Z')).toBe('2026-03-30');
    expect(berlinDay('2026-10-24T22:00:00.000Z')).toBe('2026-10-25');
    expect(berlinDay('2026-10-25T22:59:59.999Z')).toBe('2026-10-25');
    expect(berlinDay('2026-10-25T23:00:00.000Z')).toBe('2026-10-26');
  });

  it('refuses a calendar with no working time instead of looping forever', () => {
    const never: BusinessCalendar = { ...shanghai, workingDays: [], extraWorkingDays: [] };
    expect(() => addBusinessTime(at('2026-11-23T09:00:00Z'), 1, 'bh', never)).toThrow(/no working time/);
  });

  it('measures the working time between two instants (what a held clock has left)', () => {
    const HOUR = 3_600_000;
    // Fri 17:00 → Mon 10:00: 1h on Friday, 1h on Monday.
    expect(
      businessMsBetween(at('2026-11-27T17:00:00+08:00'), at('2026-11-30T10:00:00+08:00'), shanghai),
    ).toBe(2 * HOUR);
    // Across the lunch break: 11:00 → 14:00 is 2h of work.
    expect(
      businessMsBetween(at('2026-11-23T11:00:00+08:00'), at('2026-11-23T14:00:00+08:00'), shanghai),
    ).toBe(2 * HOUR);
    // Across the October holidays: Wed 30 Sep 17:00 → Mon 5 Oct 10:00 is 1h + 1h.
    expect(
      businessMsBetween(at('2026-09-30T17:00:00+08:00'), at('2026-10-05T10:00:00+08:00'), shanghai),
    ).toBe(2 * HOUR);
    expect(
      businessMsBetween(at('2026-11-23T14:00:00+08:00'), at('2026-11-23T11:00:00+08:00'), shanghai),
    ).toBe(0);
  });

  it('adds working milliseconds, the inverse of measuring them', () => {
    const start = at('2026-11-27T17:00:00+08:00');
    const end = addBusinessMs(start, 2 * 3_600_000, shanghai);
    expect(iso(end)).toBe('2026-11-30T02:00:00.000Z');
    expect(businessMsBetween(start, end, shanghai)).toBe(2 * 3_600_000);
  });
});
