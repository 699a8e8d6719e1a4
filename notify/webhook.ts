import { createHmac } from 'node:crypto';

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
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? `could not connect (${cause.code})` : 'could not connect';
}

/**
 * POSTs one delivery; resolves with the HTTP status (the caller decides what counts as delivered),
 * rejects when there was no answer within `timeoutMs`.
 */
export async function postWebhook(
  request: WebhookRequest,
  timeoutMs: number,
  nowMs = Date.now(),
): Promise<number> {
  const response = await fetch(request.url, {
    method: 'POST',
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Aftercare-Webhooks/1',
      [DELIVERY_HEADER]: request.deliveryId,
      [EVENT_HEADER]: request.eventType,
      [SIGNATURE_HEADER]: signPayload(request.secret, request.body, Math.floor(nowMs / 1000)),
    },
    body: request.body,
  }).catch((error: unknown) => {
    throw new Error(describeFailure(error, timeoutMs));
  });
  await response.body?.cancel();
  return response.status;
}
