import { describe, expect, it } from 'vitest';
import {
  keepsDeadline,
  monthlyReportDueAtMs,
  monthlyReportLinks,
  monthOf,
  monthOfWebhookDelivery,
  monthPeriod,
  nominalTimeOf,
  previousMonth,
} from '../../domain/monthly-report';
import { renderMonthlyReportOverdue, renderMonthlyReportReady } from '../../domain/templates';

/** Seed 004: 每月5日前完成上月数据统计 — the month before, by the end of the 5th, business time. */
const SHANGHAI = 'Asia/Shanghai';

describe('which month the report is for', () => {
  it('is the month before the 1st at 08:00 Shanghai time (00:00Z), across a year end too', () => {
    expect(previousMonth(Date.parse('2026-12-01T00:00:00Z'), SHANGHAI)).toBe('2026-11');
    expect(previousMonth(Date.parse('2027-01-01T00:00:00Z'), SHANGHAI)).toBe('2026-12');
  });

  it('counts months in the business time zone, not UTC', () => {
    // 2026-11-30T20:00Z is already 1 December 04:00 in Shanghai.
    expect(monthOf(Date.parse('2026-11-30T20:00:00Z'), SHANGHAI)).toBe('2026-12');
    expect(previousMonth(Date.parse('2026-11-30T20:00:00Z'), SHANGHAI)).toBe('2026-11');
    expect(monthOf(Date.parse('2026-11-30T20:00:00Z'), 'UTC')).toBe('2026-11');
  });

  it("reads a Schedule run's nominal time from its id, not when a backfill started it", () => {
    expect(nominalTimeOf('aftercare-monthly-report-2026-09-01T00:00:00Z')).toBe(
      Date.parse('2026-09-01T00:00:00Z'),
    );
    expect(nominalTimeOf('monthly-report-2026-09')).toBeUndefined();
  });
});

describe("the month's period and deadline", () => {
  it('covers the first to the last day of the month, February of a leap year included', () => {
    expect(monthPeriod('2028-02', SHANGHAI)).toEqual({
      from: '2028-02-01',
      to: '2028-02-29',
      fromInstant: '2028-01-31T16:00:00.000Z',
      toInstant: '2028-02-29T16:00:00.000Z',
      timeZone: SHANGHAI,
    });
    expect(monthPeriod('2026-12', SHANGHAI)).toMatchObject({ from: '2026-12-01', to: '2026-12-31' });
  });

  it('is due by the end of the 5th of the following month, a calendar day, weekend or not', () => {
    // 5 December 2026 is a Saturday: the seed counts calendar days (5日), so it is still the 5th.
    expect(new Date(monthlyReportDueAtMs('2026-11', SHANGHAI)).toISOString()).toBe(
      '2026-12-05T16:00:00.000Z',
    );
    expect(new Date(monthlyReportDueAtMs('2026-12', SHANGHAI)).toISOString()).toBe(
      '2027-01-05T16:00:00.000Z',
    );
  });

  it('is kept only by a run that starts before it: a backfill of an older month escalates no one', () => {
    expect(keepsDeadline('2026-11', SHANGHAI, Date.parse('2026-12-01T00:00:00Z'))).toBe(true);
    expect(keepsDeadline('2026-11', SHANGHAI, Date.parse('2026-12-05T15:59:59Z'))).toBe(true);
    expect(keepsDeadline('2026-11', SHANGHAI, Date.parse('2026-12-05T16:00:00Z'))).toBe(false);
  });

  it('refuses a month that is not one', () => {
    expect(() => monthPeriod('2026-13', SHANGHAI)).toThrow('month: "2026-13" is not a month "YYYY-MM"');
    expect(() => monthlyReportDueAtMs('2026-1', SHANGHAI)).toThrow(RangeError);
  });

  it('links the stored report as JSON, CSV and SVG', () => {
    expect(monthlyReportLinks('2026-11')).toEqual({
      json: '/v1/reports/monthly/2026-11',
      csv: '/v1/reports/monthly/2026-11?format=csv',
      svg: '/v1/reports/monthly/2026-11?format=svg',
    });
  });
});

describe('what the managers and the director read', () => {
  it("gives the managers the month and the report's three links", () => {
    const links = monthlyReportLinks('2026-11');
    const message = renderMonthlyReportReady({ month: '2026-11', links }, 'zh-CN');
    expect(message.subject).toBe('2026-11 售后数据统计分析表');
    for (const link of Object.values(links)) expect(message.body).toContain(link);
  });

  it('tells the director which 5th was missed (business time), and whether the report exists at all', () => {
    const dueAt = new Date(monthlyReportDueAtMs('2026-11', SHANGHAI)).toISOString();
    const late = renderMonthlyReportOverdue({ month: '2026-11', dueAt, produced: true }, 'zh-CN', SHANGHAI);
    expect(late.body).toBe(
      '2026-11 售后数据统计分析表已生成但未送达（应于 2026-12-05 前完成），请督促售后经理处理。',
    );
    const missing = renderMonthlyReportOverdue({ month: '2026-11', dueAt, produced: false }, 'en', SHANGHAI);
    expect(missing.body).toContain('was not produced by 2026-12-05');
  });
});

describe('the monthly_report_ready webhook', () => {
  it("reads its month from the delivery id, and nothing from a ticket event's", () => {
    expect(monthOfWebhookDelivery('wh:0b9e7c1a-6f3e-4f4b-9d55-3d1c2f6a7b80:monthly-report:2026-11')).toBe(
      '2026-11',
    );
    expect(
      monthOfWebhookDelivery('wh:0b9e7c1a-6f3e-4f4b-9d55-3d1c2f6a7b80:WO20261203-001:4'),
    ).toBeUndefined();
    expect(monthOfWebhookDelivery('wh:x:monthly-report:2026-13')).toBeUndefined();
  });
});
