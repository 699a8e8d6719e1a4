import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DELIVERY_RULES as rules,
  judgeAttempt,
  retryDelayMs,
  shouldPauseSubscription,
} from '../../domain/delivery-rules';

const HOUR = 3_600_000;
const queuedAt = Date.parse('2026-12-03T08:00:00Z');

describe('what a delivery attempt means', () => {
  it('a 2xx or a message handed to the provider is delivered', () => {
    for (const statusCode of [200, 202, 204, 299]) {
      expect(judgeAttempt({ statusCode }, 1, queuedAt, queuedAt, rules)).toEqual({ outcome: 'delivered' });
    }
    expect(judgeAttempt({ sent: true }, 1, queuedAt, queuedAt, rules)).toEqual({ outcome: 'delivered' });
  });

  it('3xx and 4xx other than 408 and 429 are final', () => {
    for (const statusCode of [301, 400, 401, 403, 404, 410, 422]) {
      expect(judgeAttempt({ statusCode }, 1, queuedAt, queuedAt, rules)).toEqual({
        outcome: 'failed',
        error: `the receiver answered HTTP ${statusCode} (final)`,
      });
    }
  });

  it('408, 429, 5xx and no answer are retried one backoff later', () => {
    for (const statusCode of [408, 429, 500, 502, 503]) {
      expect(judgeAttempt({ statusCode }, 3, queuedAt, queuedAt, rules)).toEqual({
        outcome: 'retry',
        nextAttemptAtMs: queuedAt + 4_000,
        error: `the receiver answered HTTP ${statusCode}`,
      });
    }
    expect(
      judgeAttempt({ error: 'no answer within 10 s', final: false }, 1, queuedAt, queuedAt, rules),
    ).toEqual({ outcome: 'retry', nextAttemptAtMs: queuedAt + 1_000, error: 'no answer within 10 s' });
    expect(
      judgeAttempt({ error: 'the customer has no email address', final: true }, 1, queuedAt, queuedAt, rules),
    ).toEqual({ outcome: 'failed', error: 'the customer has no email address' });
  });

  it('backs off 1 s, 2 s, 4 s … up to 30 minutes', () => {
    expect([1, 2, 3, 4, 5, 11, 12, 100].map((attempt) => retryDelayMs(attempt, rules))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 1_024_000, 1_800_000, 1_800_000,
    ]);
  });

  it('gives up when the next attempt would fall after the 25-hour window', () => {
    const late = queuedAt + 25 * HOUR - 10 * 60_000;
    expect(judgeAttempt({ statusCode: 503 }, 40, queuedAt, late, rules)).toEqual({
      outcome: 'failed',
      error: 'the receiver answered HTTP 503; gave up after 40 attempts',
    });
    expect(judgeAttempt({ statusCode: 503 }, 40, queuedAt, late - 30 * 60_000, rules).outcome).toBe('retry');
  });
});

describe('pausing a subscription whose receiver keeps failing', () => {
  it('needs 20 failures in a row that have gone on for an hour', () => {
    const since = queuedAt;
    expect(shouldPauseSubscription(20, since, since + HOUR, rules)).toBe(true);
    expect(shouldPauseSubscription(19, since, since + 5 * HOUR, rules)).toBe(false);
    expect(shouldPauseSubscription(500, since, since + HOUR - 1, rules)).toBe(false);
  });
});
