/**
 * What a delivery attempt's result means, as webhook senders are expected to treat their receivers:
 * a 2xx is delivered; a timeout, a refused connection, a 5xx, 408 or 429 is retried with exponential
 * backoff until the retry window closes; any other answer (3xx, 4xx) is final, since sending the
 * same request again cannot change it. A subscription whose receiver fails every attempt for long
 * enough is paused. Pure: the relay, the API and the tests share it.
 */
export interface DeliveryRules {
  /** How long after it was queued a delivery is still tried (25 h by default). */
  readonly retryWindowMs: number;
  readonly firstRetryMs: number;
  readonly maxRetryIntervalMs: number;
  /** A subscription is paused after this many failed attempts in a row… */
  readonly disableAfterFailures: number;
  /** …that have gone on for at least this long. */
  readonly disableAfterMs: number;
}

export const DEFAULT_DELIVERY_RULES: DeliveryRules = {
  retryWindowMs: 25 * 3_600_000,
  firstRetryMs: 1_000,
  maxRetryIntervalMs: 30 * 60_000,
  disableAfterFailures: 20,
  disableAfterMs: 3_600_000,
};

/** An attempt: handed to the provider, the receiver's HTTP status, or why neither. */
export type AttemptResult =
  | { readonly sent: true }
  | { readonly statusCode: number }
  | {
      readonly error: string;
      /** Nothing a retry could change (e.g. no address on file). */ readonly final: boolean;
    };

export type Verdict =
  | { readonly outcome: 'delivered' }
  | { readonly outcome: 'retry'; readonly nextAttemptAtMs: number; readonly error: string }
  | { readonly outcome: 'failed'; readonly error: string };

/** Statuses worth another try: the receiver is down, overloaded, or asked to be called again. */
export function isRetryableStatus(statusCode: number): boolean {
  return statusCode >= 500 || statusCode === 408 || statusCode === 429;
}

/** The pause before attempt `attempt + 1`: 1 s, 2 s, 4 s, … up to the maximum interval. */
export function retryDelayMs(attempt: number, rules: DeliveryRules): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 40));
  return Math.min(rules.firstRetryMs * 2 ** exponent, rules.maxRetryIntervalMs);
}

export function judgeAttempt(
  result: AttemptResult,
  attempt: number,
  queuedAtMs: number,
  nowMs: number,
  rules: DeliveryRules,
): Verdict {
  let error: string;
  if ('sent' in result) return { outcome: 'delivered' };
  if ('statusCode' in result) {
    if (result.statusCode >= 200 && result.statusCode <= 299) return { outcome: 'delivered' };
    error = `the receiver answered HTTP ${result.statusCode}`;
    if (!isRetryableStatus(result.statusCode)) return { outcome: 'failed', error: `${error} (final)` };
  } else {
    error = result.error;
    if (result.final) return { outcome: 'failed', error };
  }
  const nextAttemptAtMs = nowMs + retryDelayMs(attempt, rules);
  if (nextAttemptAtMs > queuedAtMs + rules.retryWindowMs) {
    return { outcome: 'failed', error: `${error}; gave up after ${attempt} attempts` };
  }
  return { outcome: 'retry', nextAttemptAtMs, error };
}

/** The receiver has failed every attempt, often enough and for long enough, to pause its subscription. */
export function shouldPauseSubscription(
  consecutiveFailures: number,
  failingSinceMs: number,
  nowMs: number,
  rules: DeliveryRules,
): boolean {
  return consecutiveFailures >= rules.disableAfterFailures && nowMs - failingSinceMs >= rules.disableAfterMs;
}
