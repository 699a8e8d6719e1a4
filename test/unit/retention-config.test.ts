import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config';

describe('retention settings', () => {
  it('default to 3 years for finished tickets, 30 days for deliveries, 24 h claims, daily at 03:00', () => {
    expect(loadConfig({}).retention).toEqual({
      idempotencyTtlMs: 24 * 3_600_000,
      closedTicketsMs: 1095 * 86_400_000,
      deliveriesMs: 30 * 86_400_000,
      schedule: { cron: '0 3 * * *' },
    });
  });

  it('take an interval or a cron expression for RETENTION_SCHEDULE', () => {
    expect(loadConfig({ RETENTION_SCHEDULE: '6h' }).retention.schedule).toEqual({ everyMs: 6 * 3_600_000 });
    expect(loadConfig({ RETENTION_SCHEDULE: '*/15 1-5 * * 1,3' }).retention.schedule).toEqual({
      cron: '*/15 1-5 * * 1,3',
    });
  });

  it.each([
    ['RETENTION_SCHEDULE', 'nightly', /RETENTION_SCHEDULE: must be a cron expression of five fields/],
    ['RETENTION_CLOSED_TICKETS', '3y', /RETENTION_CLOSED_TICKETS: "3y" is not a wall-clock duration/],
    ['IDEMPOTENCY_KEY_TTL', '2bd', /IDEMPOTENCY_KEY_TTL: "2bd" is not a wall-clock duration/],
  ])('refuse a bad %s, naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});
