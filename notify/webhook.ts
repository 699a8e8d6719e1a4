import { createHmac } from 'node:crypto';
import { request } from 'undici';

/**
 * Signed webhook requests. The signature header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>" with the subscription's secret>`: a receiver recomputes it, compares in constant
 * time, and refuses old timestamps to stop replays.
 */
export const SIGNATURE_HEADER = 'x-aftercare-signature';
export const DELIVERY_HEADER = 'x-aftercare-delivery';
export const EVENT_HEADER = 'x-aftercare-event';

export function signPayload(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

export interface WebhookRequest {
  readonly url: string;
  readonly secret: string;
  readonly deliveryId: string;
  readonly eventType: string;
  readonly body: string;
}

/** Why a request got no answer, without the socket's own wording (addresses, ports). */
function describeFailure(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${timeoutMs / 1000} s`;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `could not connect (${code})` : 'could not connect';
}

/**
 * POSTs one delivery; resolves with the HTTP status (the caller decides what counts as delivered),
 * rejects when there was no answer within `timeoutMs`. undici's `request`, not `fetch`: the relay
 * sends every webhook through it, and fetch's WHATWG layers cost about twice the CPU per request
 * (see bench/http.ts). Redirects are not followed (a 3xx is the receiver's answer).
 */
export async function postWebhook(
  webhook: WebhookRequest,
  timeoutMs: number,
  nowMs = Date.now(),
): Promise<number> {
  const signal = AbortSignal.timeout(timeoutMs);
  const response = await request(webhook.url, {
    method: 'POST',
    signal,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Aftercare-Webhooks/1',
      [DELIVERY_HEADER]: webhook.deliveryId,
      [EVENT_HEADER]: webhook.eventType,
      [SIGNATURE_HEADER]: signPayload(webhook.secret, webhook.body, Math.floor(nowMs / 1000)),
    },
    body: webhook.body,
  }).catch((error: unknown) => {
    throw new Error(describeFailure(error, signal.aborted, timeoutMs));
  });
  await response.body.dump();
  return response.statusCode;
}
