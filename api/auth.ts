import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ApiKey } from '../config';
import type { Actor } from '../domain/ticket';
import { Problem } from './problem';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Finds the actor of an API key. Every configured key is compared, each in constant time, so
 * neither the answer nor its timing says how close a guess came.
 */
export function createKeyResolver(apiKeys: readonly ApiKey[]): (key: string) => Actor | undefined {
  const known = apiKeys.map((entry) => ({ digest: digest(entry.key), actor: entry.actor }));
  return (key) => {
    const presented = digest(key);
    let actor: Actor | undefined;
    for (const entry of known) {
      if (timingSafeEqual(entry.digest, presented)) actor = entry.actor;
    }
    return actor;
  };
}

/** The `onRequest` hook of `/v1`: a bearer key from API_KEYS, or 401. */
export function createAuthenticator(actorForKey: (key: string) => Actor | undefined) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match?.[1]) {
      throw new Problem(401, 'Unauthorized', 'send an API key as "Authorization: Bearer <key>"');
    }
    const actor = actorForKey(match[1]);
    if (!actor) throw new Problem(401, 'Unauthorized', 'the API key is not valid');
    request.actor = actor;
  };
}
