import { createHmac } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { webhookUrlRefusal, type WebhookTargetPolicy } from '../domain/webhook-target';
import { AddressNotAllowedError } from './webhook-dispatcher';

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

/** How webhooks leave: through the address-checking dispatcher, within a time limit. */
export interface WebhookTransport {
  /** From `createWebhookDispatcher`: refuses connections to addresses the policy does not allow. */
  readonly dispatcher: Dispatcher;
  readonly policy: WebhookTargetPolicy;
  readonly timeoutMs: number;
}

/** A webhook the relay will not send: its URL or address is not allowed. Retrying cannot change that. */
export class WebhookRefusedError extends Error {
  override name = 'WebhookRefusedError';
}

/** TLS failures: handshake, protocol and certificate errors (OpenSSL's and Node's codes). */
const TLS_CODE =
  /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;

/**
 * Why a request got no answer, in a few coarse classes: never the socket's own wording or code
 * (addresses, ports, refused against unreachable), which would make subscriptions a port scanner.
 */
function describeFailure(error: unknown, timedOut: boolean, timeoutMs: number): Error {
  if (error instanceof AddressNotAllowedError) return new WebhookRefusedError('refused: address not allowed');
  if (timedOut) return new Error(`no answer within ${timeoutMs / 1000} s`);
  const code = (error as { code?: unknown } | undefined)?.code;
  return new Error(typeof code === 'string' && TLS_CODE.test(code) ? 'TLS error' : 'could not connect');
}

/**
 * POSTs one delivery; resolves with the HTTP status (the caller decides what counts as delivered),
 * rejects when there was no answer within the time limit, and with a `WebhookRefusedError` when the
 * URL (e.g. a subscription written before the address rule, or plain http in production) or an
 * address its host resolves to is not allowed. undici's `request`, not `fetch`: the relay sends
 * every webhook through it, and fetch's WHATWG layers cost about twice the CPU per request (see
 * bench/http.ts). Redirects are not followed (a 3xx is the receiver's answer).
 */
export async function postWebhook(
  webhook: WebhookRequest,
  transport: WebhookTransport,
  nowMs = Date.now(),
): Promise<number> {
  if (transport.policy.requireHttps && new URL(webhook.url).protocol !== 'https:') {
    throw new WebhookRefusedError('refused: https required');
  }
  if (webhookUrlRefusal(webhook.url, transport.policy)) {
    throw new WebhookRefusedError('refused: address not allowed');
  }
  const signal = AbortSignal.timeout(transport.timeoutMs);
  const response = await request(webhook.url, {
    method: 'POST',
    dispatcher: transport.dispatcher,
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
    throw describeFailure(error, signal.aborted, transport.timeoutMs);
  });
  await response.body.dump();
  return response.statusCode;
}
