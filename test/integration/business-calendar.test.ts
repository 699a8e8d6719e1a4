import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CN_STATUTORY_YEARS } from '../../config/statutory-calendar';
import { ADMIN_KEY, startApi, type ApiStack } from '../support/stack';

/**
 * A client shows its users the business days the SLA clocks run on: the default Shanghai calendar
 * with China's statutory days, and the policy file's own entries, over HTTP against the real API.
 */
const CLIENT_KEY = 'test-client-key-0031';
let stack: ApiStack;

beforeAll(async () => {
  stack = await startApi({
    taskQueue: `business-calendar-${process.pid}`,
    // The policy works 2026-10-02 although it is part of 国庆, and keeps 2026-10-12 free.
    policy: { calendar: { extraWorkingDays: ['2026-10-02'], holidays: ['2026-10-12'] } },
    env: { API_KEYS: `${ADMIN_KEY}:admin:ops-1,${CLIENT_KEY}:client:crm-31` },
    startedAtMs: Date.parse('2026-06-01T09:00:00+08:00'),
  });
});

afterAll(async () => {
  await stack?.close();
});

const workingDays = (query: string, key = CLIENT_KEY) =>
  stack.app.inject({
    method: 'GET',
    url: `/v1/calendar/working-days${query}`,
    headers: { authorization: `Bearer ${key}` },
  });

const workingHours = (date: string) => [{ from: `${date}T09:00:00+08:00`, to: `${date}T18:00:00+08:00` }];

describe('GET /v1/calendar/working-days', () => {
  it('lists 国庆 2026 as the SLA clocks see it, for any role', async () => {
    const response = await workingDays('?from=2026-09-30&to=2026-10-12');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.timeZone).toBe('Asia/Shanghai');
    expect(body.statutory).toEqual({ region: 'CN', fromYear: 2026, throughYear: CN_STATUTORY_YEARS.last });
    expect(body.days).toHaveLength(13);
    const day = (date: string) => body.days.find((entry: { date: string }) => entry.date === date);
    expect(day('2026-09-30')).toEqual({
      date: '2026-09-30',
      weekday: 'wed',
      working: true,
      holiday: false,
      makeUpDay: false,
      workingHours: workingHours('2026-09-30'),
    });
    expect(day('2026-10-01')).toMatchObject({ working: false, holiday: true, workingHours: [] });
    expect(day('2026-10-03')).toMatchObject({ weekday: 'sat', working: false, holiday: true });
    // The policy's own entries win over the package's.
    expect(day('2026-10-02')).toMatchObject({
      working: true,
      holiday: false,
      workingHours: workingHours('2026-10-02'),
    });
    expect(day('2026-10-12')).toMatchObject({ weekday: 'mon', working: false, holiday: true });
    expect(day('2026-10-10')).toEqual({
      date: '2026-10-10',
      weekday: 'sat',
      working: true,
      holiday: false,
      makeUpDay: true,
      workingHours: workingHours('2026-10-10'),
    });
    expect(day('2026-10-11')).toMatchObject({
      weekday: 'sun',
      working: false,
      holiday: false,
      makeUpDay: false,
    });
    expect((await workingDays('?from=2026-10-01&to=2026-10-01', ADMIN_KEY)).statusCode).toBe(200);
  });

  it('answers a whole leap year, and no more', async () => {
    const leapYear = await workingDays('?from=2028-01-01&to=2028-12-31');
    expect(leapYear.statusCode).toBe(200);
    expect(leapYear.json().days).toHaveLength(366);
    const tooLong = await workingDays('?from=2026-01-01&to=2027-01-02');
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().detail).toBe('querystring.to: a range spans at most 366 days');
  });

  it.each([
    ['?from=2026-10-12&to=2026-10-01', 'querystring.to: must not be before from'],
    ['?from=2026-02-30&to=2026-03-01', 'querystring.from: must be a date "YYYY-MM-DD"'],
    ['?from=2026-10-01', 'querystring.to:'],
    ['?from=2026-10-01&to=2026-10-02&zone=UTC', 'querystring:'],
  ])('refuses %s with a 400 naming the problem', async (query, detail) => {
    const response = await workingDays(query);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.json().detail).toContain(detail);
  });

  it('needs an API key', async () => {
    const response = await stack.app.inject({
      method: 'GET',
      url: '/v1/calendar/working-days?from=2026-10-01&to=2026-10-07',
    });
    expect(response.statusCode).toBe(401);
  });

  it('is in the OpenAPI document with its answer', async () => {
    const document = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const route = document.paths['/v1/calendar/working-days'].get;
    expect(route.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(['from', 'to']);
    expect(Object.keys(route.responses['200'].content['application/json'].schema.properties)).toEqual([
      'timeZone',
      'statutory',
      'days',
    ]);
  });
});
