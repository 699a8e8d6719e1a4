import type { Logger } from 'pino';
import type { Role } from '../domain/ticket';
import { connectDatabase, type Database, type DatabaseHandle } from '../db/client';
import type { EncryptionKey } from '../temporal/codec';
import {
  claimDeliveries,
  DELIVERY_CHANNEL,
  nextDeliveryDue,
  pauseFailingSubscription,
  recordAttempt,
  type ClaimCapacity,
  type ClaimedDelivery,
} from '../db/delivery-store';
import {
  judgeAttempt,
  shouldPauseSubscription,
  type AttemptResult,
  type DeliveryRules,
} from '../domain/delivery-rules';
import { staffContact, superiorWithRole } from '../db/staff-store';
import type { WebhookTargetPolicy } from '../domain/webhook-target';
import { developmentProvider, type NotificationProvider } from '../notify/providers';
import { attemptDelivery } from '../notify/send';
import { createWebhookDispatcher, type HostResolver } from '../notify/webhook-dispatcher';

/**
 * The delivery relay: sends what ticket changes queued in the deliveries outbox, in a process of its
 * own, so nothing a receiver does (hang, refuse, answer 4xx/5xx, pile up retries) takes a slot,
 * connection or CPU second from the worker that runs tickets and fires their escalations.
 *
 * It LISTENs for the NOTIFY a queuing write sends and otherwise sleeps until the next retry falls
 * due. Notifications and notices have a lane of their own; each webhook subscription may have at most
 * `perSubscription` sends in flight, so one slow receiver holds a few sockets, not the relay. Several
 * relays may run side by side: rows are claimed with `FOR UPDATE SKIP LOCKED` and leased.
 */
/**
 * The relay's database connections. Its commits (leases, attempts, pauses) do not wait for the WAL
 * flush: losing the last of them in a database crash only repeats a send, and delivery is at least
 * once (receivers dedupe on `X-Aftercare-Delivery`). Waiting cost the escalations: under `npm run
 * dev` (fsync on), 70 settled webhooks a second queued the tickets' own commits behind the disk.
 */
export function connectRelayDatabase(url: string, payloadKeys: readonly EncryptionKey[]): DatabaseHandle {
  return connectDatabase(url, { payloadKeys, asyncCommit: true });
}

export interface RelaySettings {
  /** Notifications and notices in flight at once. */
  readonly notificationConcurrency: number;
  /** Webhook sends in flight per subscription. */
  readonly perSubscription: number;
  readonly webhookTimeoutMs: number;
  /** Which receivers webhooks may reach; checked on every address the relay connects to. */
  readonly webhookTargets: WebhookTargetPolicy;
  readonly rules: DeliveryRules;
}

export interface DeliveryRelayOptions {
  readonly db: Database;
  /** Sends SMS, e-mail and staff notices; the development provider (the outbox table) when not given. */
  readonly provider?: NotificationProvider;
  /** The business time zone local times in messages are written in. */
  readonly timeZone: string;
  readonly settings: RelaySettings;
  readonly logger: Logger;
  /** How receivers' host names are resolved; node:dns when not given. */
  readonly resolve?: HostResolver;
}

export interface DeliveryRelay {
  /** Takes nothing more, lets the sends in flight finish, stops listening. */
  readonly stop: () => Promise<void>;
}

/** A claimed row stays with its relay this much longer than a send can take. */
const LEASE_MARGIN_MS = 30_000;
/** Woken by nothing, a relay still looks this often (a NOTIFY lost while reconnecting). */
const IDLE_LOOK_MS = 60_000;
/** Never sooner than this after a sweep: a due row another relay holds is not worth spinning on. */
const MIN_SLEEP_MS = 100;

export async function startDeliveryRelay(options: DeliveryRelayOptions): Promise<DeliveryRelay> {
  const { db, settings, logger } = options;
  const dispatcher = createWebhookDispatcher(settings.webhookTargets, options.resolve);
  const context = {
    provider: options.provider ?? developmentProvider(db),
    timeZone: options.timeZone,
    webhooks: { dispatcher, policy: settings.webhookTargets, timeoutMs: settings.webhookTimeoutMs },
    staff: {
      contact: (id: string) => staffContact(db, id),
      superiorWithRole: (id: string, role: Role) => superiorWithRole(db, id, role),
    },
  };
  let stopping = false;
  let notificationsInFlight = 0;
  const webhooksInFlight = new Map<string, number>();
  const sending = new Set<Promise<void>>();
  let sweeping: Promise<void> | undefined;
  let wokenMeanwhile = false;
  let timer: NodeJS.Timeout | undefined;

  const capacity = (): ClaimCapacity => ({
    notificationSlots: settings.notificationConcurrency - notificationsInFlight,
    perSubscription: settings.perSubscription,
    busy: Object.fromEntries(webhooksInFlight),
    leaseMs: settings.webhookTimeoutMs + LEASE_MARGIN_MS,
  });

  function sleepUntil(dueMs: number | null): void {
    clearTimeout(timer);
    if (stopping) return;
    const delay =
      dueMs === null ? IDLE_LOOK_MS : Math.min(Math.max(dueMs - Date.now(), MIN_SLEEP_MS), IDLE_LOOK_MS);
    timer = setTimeout(wake, delay);
  }

  function wake(): void {
    if (stopping) return;
    if (sweeping) {
      wokenMeanwhile = true;
      return;
    }
    sweeping = sweep()
      .catch((error: unknown) => {
        logger.error({ err: error }, 'delivery relay could not claim deliveries; trying again in 1 s');
        sleepUntil(Date.now() + 1_000);
      })
      .finally(() => {
        sweeping = undefined;
        if (wokenMeanwhile) wake();
      });
  }

  /**
   * Claims until nothing wakes it meanwhile. Only a sweep that took nothing looks up the next due time:
   * one that took rows is followed by another when those sends finish, so every chain of sweeps ends
   * with that look-up, and a busy relay does not pay it once per send.
   */
  async function sweep(): Promise<void> {
    let claimed = 0;
    do {
      wokenMeanwhile = false;
      const batch = await claimDeliveries(db, capacity());
      for (const delivery of batch) begin(delivery);
      claimed = batch.length;
    } while (wokenMeanwhile && !stopping);
    if (claimed === 0) sleepUntil(await nextDeliveryDue(db, capacity()));
  }

  function begin(delivery: ClaimedDelivery): void {
    const lane = delivery.kind === 'webhook' ? delivery.subscriptionId : null;
    if (lane) webhooksInFlight.set(lane, (webhooksInFlight.get(lane) ?? 0) + 1);
    else notificationsInFlight += 1;
    const task = deliver(delivery)
      .catch((error: unknown) => {
        // The lease runs out and a relay tries again: at least once, never lost.
        logger.error({ err: error, deliveryId: delivery.id }, 'delivery attempt could not be recorded');
      })
      .finally(() => {
        if (lane) {
          const left = (webhooksInFlight.get(lane) ?? 1) - 1;
          if (left > 0) webhooksInFlight.set(lane, left);
          else webhooksInFlight.delete(lane);
        } else notificationsInFlight -= 1;
        sending.delete(task);
        wake();
      });
    sending.add(task);
  }

  async function deliver(delivery: ClaimedDelivery): Promise<void> {
    const startedAt = performance.now();
    const queuedAtMs = Date.parse(delivery.createdAt);
    // A paused subscription's deliveries wait; resumed after the retry window, they are not sent stale.
    const result: AttemptResult =
      Date.now() - queuedAtMs > settings.rules.retryWindowMs
        ? { error: 'not sent: queued longer ago than the retry window', final: true }
        : await attemptDelivery(delivery, context);
    const verdict = judgeAttempt(result, delivery.attempt, queuedAtMs, Date.now(), settings.rules);
    const health = await recordAttempt(db, delivery.id, {
      attempt: delivery.attempt,
      status: verdict.outcome === 'retry' ? 'pending' : verdict.outcome,
      statusCode: 'statusCode' in result ? result.statusCode : undefined,
      error: verdict.outcome === 'delivered' ? undefined : verdict.error,
      durationMs: performance.now() - startedAt,
      nextAttemptAtMs: verdict.outcome === 'retry' ? verdict.nextAttemptAtMs : undefined,
    });
    if (verdict.outcome !== 'delivered') {
      logger.info(
        {
          deliveryId: delivery.id,
          attempt: delivery.attempt,
          outcome: verdict.outcome,
          error: verdict.error,
        },
        'delivery attempt failed',
      );
    }
    if (
      health?.active &&
      health.failingSince &&
      shouldPauseSubscription(
        health.consecutiveFailures,
        Date.parse(health.failingSince),
        Date.now(),
        settings.rules,
      )
    ) {
      const reason = `${health.consecutiveFailures} failed attempts in a row since ${health.failingSince}`;
      if (await pauseFailingSubscription(db, health.id, reason)) {
        logger.warn({ subscriptionId: health.id, reason }, 'webhook subscription paused; managers notified');
      }
    }
  }

  const listener = await db.$client.listen(DELIVERY_CHANNEL, wake, wake);
  wake();
  return {
    stop: async () => {
      stopping = true;
      clearTimeout(timer);
      await listener.unlisten();
      await sweeping;
      await Promise.all(sending);
      await dispatcher.close();
    },
  };
}
