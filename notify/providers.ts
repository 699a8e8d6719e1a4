import { writeOutbox, type OutboxMessage } from '../db/delivery-store';
import type { Database } from '../db/client';

/**
 * Where notifications leave the system. The development provider records each message in the
 * outbox table (visible at `GET /v1/tickets/{number}/notifications`), so the whole flow runs
 * offline; a real SMS or e-mail gateway implements the same `send`.
 */
export interface NotificationProvider {
  readonly name: string;
  send(message: OutboxMessage): Promise<void>;
}

export function developmentProvider(db: Database): NotificationProvider {
  return { name: 'development', send: (message) => writeOutbox(db, message) };
}
