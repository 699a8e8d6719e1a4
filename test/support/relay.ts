import { randomInt } from 'node:crypto';
import pino from 'pino';
import postgres from 'postgres';
import { inject } from 'vitest';
import type { AppConfig } from '../../config';
import type { Database } from '../../db/client';
import { applyMigrations } from '../../db/migrate';
import type { HostResolver } from '../../notify/webhook-dispatcher';
import { startDeliveryRelay } from '../../relay/relay';
import { TEST_PAYLOAD_KEYS } from './fixtures';

/**
 * Runs a delivery relay with the configuration's settings until the answered `stop`; `resolve`
 * stands in for DNS (a receiver's name resolving to an address of the test's choosing).
 */
export async function runRelayFor(
  config: AppConfig,
  db: Database,
  resolve?: HostResolver,
): Promise<() => Promise<void>> {
  const relay = await startDeliveryRelay({
    db,
    timeZone: config.policy.calendar.timeZone,
    settings: config.delivery,
    logger: pino({ level: 'silent' }),
    resolve,
  });
  return relay.stop;
}

/**
 * A database of its own on the test PostgreSQL, migrated: for a test file whose relay runs with
 * rules of its own (webhook subscriptions are global, and any relay on a database sends for all).
 */
export async function createOwnDatabase(name: string): Promise<string> {
  const url = new URL(inject('databaseUrl'));
  const database = `${name}_${process.pid}_${randomInt(1e6)}`.replace(/[^a-z0-9_]/g, '_');
  const admin = postgres(url.toString(), { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database "${database}"`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${database}`;
  await applyMigrations(url.toString(), TEST_PAYLOAD_KEYS);
  return url.toString();
}
