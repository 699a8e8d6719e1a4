import { randomUUID } from 'node:crypto';
import { desc, eq } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { listSubscriptionDeliveries } from '../../db/delivery-store';
import { webhookSubscriptions } from '../../db/schema';
import { createSubscription, OVER_CAP, updateSubscription, type Subscription } from '../../db/webhook-store';
import { webhookUrlRefusal, type WebhookTargetPolicy } from '../../domain/webhook-target';
import { authorize } from '../authorize';
import { Problem } from '../problem';
import { problemResponse, problems, wholeNumber } from '../schemas';

const instant = z.string().describe('ISO 8601 instant');

const subscriptionBody = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).max(2000),
    eventTypes: z
      .array(
        z.string().regex(/^(\*|[a-z_]{1,60})$/, 'must be a timeline event type such as "escalated", or "*"'),
      )
      .min(1)
      .max(50)
      .describe('timeline event types to deliver, or ["*"] for all'),
    secret: z.string().min(16, 'must be at least 16 characters').max(200).describe('signs every delivery'),
    active: z.boolean().default(true),
  })
  .strict();

const subscriptionView = z.object({
  id: z.string(),
  url: z.string(),
  eventTypes: z.array(z.string()),
  active: z.boolean(),
  consecutiveFailures: z.number().int().describe('failed attempts since the last success'),
  failingSince: instant.nullable().describe('when the current run of failures began'),
  pausedAt: instant.nullable().describe('when the relay paused it because its receiver kept failing'),
  pauseReason: z.string().nullable(),
  createdAt: instant,
  updatedAt: instant,
});

const overCap = problemResponse(
  'the cap on active subscriptions (WEBHOOK_MAX_SUBSCRIPTIONS) is reached: pause one first',
);

const urlRefused = problemResponse(
  'the URL may not receive webhooks: an internal address or name (loopback, private, link-local, ULA, CGNAT, …), or plain http in production',
);

const deliveryView = z.object({
  id: z.string(),
  ticketNumber: z.string(),
  eventSeq: z.number().nullable(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: instant,
  deliveredAt: instant.nullable(),
  attemptLog: z.array(
    z.object({
      attempt: z.number().int(),
      at: instant,
      ok: z.boolean(),
      statusCode: z.number().int().nullable(),
      error: z.string().nullable(),
      durationMs: z.number().int(),
    }),
  ),
});

const iso = (value: string | null) => (value === null ? null : new Date(value).toISOString());

function present(row: Subscription) {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.eventTypes,
    active: row.active,
    consecutiveFailures: row.consecutiveFailures,
    failingSince: iso(row.failingSince),
    pausedAt: iso(row.disabledAt),
    pauseReason: row.disabledReason,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

const idParams = z.object({ id: z.uuid() });

/** `/v1/webhooks`: subscriptions to ticket events, delivered signed and retried durably. */
export const webhookRoutes: FastifyPluginAsyncZod<{
  readonly db: Database;
  /** Active subscriptions at most. */
  readonly maxActive: number;
  /** Where webhooks may go (the relay checks the resolved addresses again when it connects). */
  readonly targets: WebhookTargetPolicy;
}> = async (app, { db, maxActive, targets }) => {
  /** A URL that names an internal target is refused before it is stored: 422 with the reason. */
  function requireAllowedUrl(url: string | undefined): void {
    const refusal = url === undefined ? undefined : webhookUrlRefusal(url, targets);
    if (refusal) throw new Problem(422, 'Webhook URL not allowed', `body.url: ${refusal}`);
  }

  const overCapProblem = () =>
    new Problem(
      409,
      'Too many webhook subscriptions',
      `at most ${maxActive} subscriptions may be active; pause one (active: false) before adding another`,
    );

  async function requireSubscription(id: string) {
    const [row] = await db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, id));
    if (!row) throw new Problem(404, 'Webhook not found', `no webhook subscription ${id}`);
    return row;
  }

  app.post(
    '/webhooks',
    {
      onRequest: authorize('webhook.manage'),
      schema: {
        tags: ['webhooks'],
        summary: 'Subscribe a URL to ticket events (the secret is never shown again)',
        body: subscriptionBody,
        response: {
          201: subscriptionView,
          409: overCap,
          422: urlRefused,
          ...problems(400, 401, 403, 413, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      requireAllowedUrl(request.body.url);
      const row = await createSubscription(db, randomUUID(), request.body, maxActive);
      if (row === OVER_CAP) throw overCapProblem();
      reply.code(201).header('location', `/v1/webhooks/${row.id}`);
      return present(row);
    },
  );

  app.get(
    '/webhooks',
    {
      onRequest: authorize('webhook.manage'),
      schema: {
        tags: ['webhooks'],
        summary: 'Webhook subscriptions',
        response: { 200: z.object({ items: z.array(subscriptionView) }), ...problems(401, 403, 429, 503) },
      },
    },
    async () => ({
      items: (await db.select().from(webhookSubscriptions).orderBy(desc(webhookSubscriptions.createdAt))).map(
        present,
      ),
    }),
  );

  app.post(
    '/webhooks/:id',
    {
      onRequest: authorize('webhook.manage'),
      schema: {
        tags: ['webhooks'],
        summary:
          'Change a subscription: url, event types, secret or active (false pauses it and holds its pending deliveries; true resumes them)',
        params: idParams,
        body: subscriptionBody.partial().strict(),
        response: {
          200: subscriptionView,
          409: overCap,
          422: urlRefused,
          ...problems(400, 401, 403, 404, 413, 415, 429, 503),
        },
      },
    },
    async (request) => {
      requireAllowedUrl(request.body.url);
      const row = await updateSubscription(db, request.params.id, request.body, maxActive);
      if (row === OVER_CAP) throw overCapProblem();
      if (!row) throw new Problem(404, 'Webhook not found', `no webhook subscription ${request.params.id}`);
      return present(row);
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      onRequest: authorize('webhook.manage'),
      schema: {
        tags: ['webhooks'],
        summary: 'A subscription’s deliveries, newest first, with every attempt',
        params: idParams,
        querystring: z.object({ limit: wholeNumber(1, 200).default(50) }).strict(),
        response: {
          200: z.object({ items: z.array(deliveryView) }),
          ...problems(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request) => {
      await requireSubscription(request.params.id);
      const rows = await listSubscriptionDeliveries(db, request.params.id, request.query.limit);
      return {
        items: rows.map((row) => ({
          id: row.id,
          ticketNumber: row.ticketNumber,
          eventSeq: row.eventSeq,
          status: row.status,
          attempts: row.attempts,
          lastError: row.lastError,
          createdAt: new Date(row.createdAt).toISOString(),
          deliveredAt: iso(row.deliveredAt),
          attemptLog: row.attemptLog.map((attempt) => ({
            attempt: attempt.attempt,
            at: new Date(attempt.at).toISOString(),
            ok: attempt.ok,
            statusCode: attempt.statusCode,
            error: attempt.error,
            durationMs: attempt.durationMs,
          })),
        })),
      };
    },
  );
};
