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
 * Bearer keys from API_KEYS. Every configured key is compared, each in constant time, so neither the
 * answer nor its timing says how close a guess came.
 */
export function createAuthenticator(apiKeys: readonly ApiKey[]) {
  const known = apiKeys.map((entry) => ({ digest: digest(entry.key), actor: entry.actor }));
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new Problem(401, 'Unauthorized', 'send an API key as "Authorization: Bearer <key>"');
    }
    const presented = digest(match[1]);
    let actor: Actor | undefined;
    for (const entry of known) {
      if (timingSafeEqual(entry.digest, presented)) actor = entry.actor;
    }
    if (!actor) throw new Problem(401, 'Unauthorized', 'the API key is not valid');
    request.actor = actor;
  };
}
