import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Actor } from '../domain/ticket';
import type { Database } from './client';
import { codecSessions } from './schema';

/**
 * Codec sign-ins of browsers: a random id goes into the cookie, its hash and the operator into
 * PostgreSQL, with the time it stops working. Shared by every API instance; signing out deletes it.
 */
export interface CodecSessionStore {
  /** Starts a session for `actor` that lasts `ttlMs`; returns the id for the cookie. */
  readonly open: (actor: Actor, ttlMs: number) => Promise<string>;
  /** The operator of a session that has not expired. */
  readonly find: (id: string) => Promise<Actor | undefined>;
  readonly close: (id: string) => Promise<void>;
}

/** 32 random bytes, base64url: the shape of every id `open` hands out. */
export const CODEC_SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');

export function createCodecSessionStore(db: Database): CodecSessionStore {
  return {
    async open(actor, ttlMs) {
      const id = randomBytes(32).toString('base64url');
      // Sign-ins are rare: each one sweeps the sessions that have expired since.
      await db.delete(codecSessions).where(lt(codecSessions.expiresAt, sql`now()`));
      await db.insert(codecSessions).values({
        idHash: hashOf(id),
        actorId: actor.id,
        actorRole: actor.role,
        expiresAt: sql`now() + ${ttlMs} * interval '1 millisecond'`,
      });
      return id;
    },
    async find(id) {
      if (!CODEC_SESSION_ID.test(id)) return undefined;
      const [row] = await db
        .select({ id: codecSessions.actorId, role: codecSessions.actorRole })
        .from(codecSessions)
        .where(and(eq(codecSessions.idHash, hashOf(id)), gt(codecSessions.expiresAt, sql`now()`)));
      return row;
    },
    async close(id) {
      await db.delete(codecSessions).where(eq(codecSessions.idHash, hashOf(id)));
    },
  };
}
