import cors from '@fastify/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import type { CodecSessionStore } from '../../db/codec-session-store';
import { mayUseCodec } from '../../domain/access';
import type { Actor } from '../../domain/ticket';
import { PayloadDecryptionError } from '../../temporal/codec';
import { Problem } from '../problem';
import { problemResponse, problems } from '../schemas';

/**
 * The codec endpoint of the Temporal codec-server protocol, so Temporal UI and the Temporal CLI can
 * show ticket payloads decrypted — to operators whose key may see personal data, and no one else.
 *
 * The CLI sends `Authorization: Bearer <key>`. A browser cannot, so an operator signs in once at
 * `/codec/login`: the API key is checked and a random session id (never the key) goes into an
 * HttpOnly cookie for `/codec`, valid for CODEC_SESSION_TTL and until signing out; with "Include
 * cross-origin credentials" on in Temporal UI's codec settings, the UI's requests carry it. A browser
 * request must come from a Temporal UI origin (CODEC_CORS_ORIGINS) or the sign-in page itself.
 *
 * `/decode` without credentials answers with the payloads as they came: what is encrypted stays
 * encrypted, and the readable summaries and timer names still show in the UI. A session cookie that
 * is unknown or expired is a 401, so the operator learns to sign in again.
 */
export const CODEC_COOKIE = 'aftercare_codec_session';

const payloadsBody = z
  .object({
    payloads: z
      .array(
        // Strict: a Temporal payload is its metadata and data, and a list of them stays small.
        z
          .object({
            // JSON bodies refuse a `__proto__` key (prototype poisoning): the document says so. Its
            // OpenAPI 3.0 has no `propertyNames` (the key's pattern is dropped): "not required" does it.
            metadata: z
              .record(z.string().regex(/^(?!__proto__$)/u), z.string())
              .meta({ not: { required: ['__proto__'] } })
              .optional(),
            data: z.string().optional(),
          })
          .strict(),
      )
      .max(1000),
  })
  // Strict: a codec request is its payloads (anything else, `__proto__` included, is a 400).
  .strict();
type JsonPayload = z.infer<typeof payloadsBody>['payloads'][number];

const fromJson = (payload: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
  ),
  data: Buffer.from(payload.data ?? '', 'base64'),
});

const toJson = (payload: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value).toString('base64'),
    ]),
  ),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});

/** The raw value of the session cookie: an id is base64url, so nothing is decoded. */
function sessionCookie(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CODEC_COOKIE) return value.join('=');
  }
  return undefined;
}

/** Browsers keep `Secure` cookies only over HTTPS — except from a loopback host, during development. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

function cookieHeader(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const attributes = [
    `${CODEC_COOKIE}=${value}`,
    'Path=/codec',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${maxAgeSeconds}`,
  ];
  if (!isLoopback(request.hostname)) attributes.push('Secure');
  return attributes.join('; ');
}

const LOGIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Aftercare codec sign-in</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 3rem auto">
<h1>Aftercare codec</h1>
<p>Sign in with an operator API key to let Temporal UI decrypt ticket payloads in this browser.
Then turn on <em>Include cross-origin credentials</em> in Temporal UI's codec server settings.</p>
<form id="login"><label>API key <input id="key" type="password" autocomplete="off" required></label>
<button type="submit">Sign in</button></form>
<p><button id="logout" type="button">Sign out</button></p><p id="result" role="status"></p>
<script src="login.js"></script></body></html>`;

// A script file of our own origin, so the page runs under the default Content-Security-Policy.
const LOGIN_SCRIPT = `document.getElementById('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await fetch('session', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: document.getElementById('key').value }) });
  document.getElementById('result').textContent = response.ok
    ? 'Signed in: Temporal UI can now decode payloads in this browser.'
    : (await response.json()).detail;
});
document.getElementById('logout').addEventListener('click', async () => {
  const response = await fetch('session', { method: 'DELETE' });
  document.getElementById('result').textContent = response.ok
    ? 'Signed out: this browser can no longer decode payloads.'
    : (await response.json()).detail;
});
`;

export interface CodecRoutesOptions {
  readonly codec: PayloadCodec;
  readonly corsOrigins: readonly string[];
  readonly actorForKey: (key: string) => Actor | undefined;
  readonly sessions: CodecSessionStore;
  readonly sessionTtlMs: number;
  /** Whether API_KEYS still holds a key of this actor: a removed key ends its sessions too. */
  readonly isConfiguredActor: (actor: Actor) => boolean;
}

/** The CLI's bearer key or a browser's session cookie; `/decode` also answers without either. */
const OPERATOR: Record<string, string[]>[] = [{ bearer: [] }, { codecSession: [] }];

const codecProblems = {
  400: problemResponse('invalid input: every bad field is named in `errors`'),
  401: problemResponse('no operator key, or the session cookie is unknown or has expired'),
  403: problemResponse('the origin is not allowed, or a session cookie came without an Origin'),
  ...problems(413, 415, 429, 503),
};

const SESSION_EXPIRED = 'the codec session is unknown or has expired: sign in again at /codec/login';

export const codecRoutes: FastifyPluginAsyncZod<CodecRoutesOptions> = async (app, options) => {
  await app.register(cors, {
    origin: [...options.corsOrigins],
    credentials: true,
    methods: ['POST', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'x-namespace'],
  });

  /** A Temporal UI origin, or the sign-in page's own: the API's host and port. */
  function isAllowedOrigin(origin: string, request: FastifyRequest): boolean {
    if (options.corsOrigins.includes(origin)) return true;
    if (!URL.canParse(origin)) return false;
    const { hostname, port, protocol } = new URL(origin);
    const originPort = port || (protocol === 'https:' ? '443' : '80');
    return hostname === request.hostname && (request.port === null || String(request.port) === originPort);
  }

  // Cross-site request forgery: a browser names the page's origin on every POST and DELETE.
  app.addHook('onRequest', async (request) => {
    if (request.method !== 'POST' && request.method !== 'DELETE') return;
    const origin = request.headers.origin;
    if (origin === undefined) {
      if (sessionCookie(request) === undefined) return;
      throw new Problem(
        403,
        'Forbidden',
        'a codec session cookie is accepted only with the Origin header browsers send',
      );
    }
    if (!isAllowedOrigin(origin, request)) {
      throw new Problem(
        403,
        'Forbidden',
        `origin ${origin} may not call the codec endpoint (CODEC_CORS_ORIGINS lists the Temporal UI origins)`,
      );
    }
  });

  async function operatorOf(request: FastifyRequest): Promise<Actor | undefined> {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) {
      const actor = options.actorForKey(bearer);
      return actor && mayUseCodec(actor.role) ? actor : undefined;
    }
    const sessionId = sessionCookie(request);
    if (sessionId === undefined) return undefined;
    const actor = await options.sessions.find(sessionId);
    if (!actor || !options.isConfiguredActor(actor) || !mayUseCodec(actor.role)) {
      throw new Problem(401, 'Unauthorized', SESSION_EXPIRED);
    }
    return actor;
  }

  async function transcode(
    request: FastifyRequest,
    body: z.infer<typeof payloadsBody>,
    direction: 'encode' | 'decode',
  ) {
    if (!(await operatorOf(request))) {
      if (direction === 'decode') return body;
      throw new Problem(
        401,
        'Unauthorized',
        'sign in at /codec/login or send "Authorization: Bearer <key>" of an operator',
      );
    }
    try {
      const payloads = await options.codec[direction](body.payloads.map(fromJson));
      return { payloads: payloads.map(toJson) };
    } catch (error) {
      if (error instanceof PayloadDecryptionError) throw new Problem(422, 'Cannot decode', error.message);
      throw error;
    }
  }

  app.post(
    '/decode',
    {
      schema: {
        tags: ['codec'],
        summary: 'Decrypt payloads for Temporal UI / CLI (without credentials: the payloads as sent)',
        security: [...OPERATOR, {}],
        body: payloadsBody,
        response: {
          200: payloadsBody,
          422: problemResponse(
            'a payload cannot be decrypted (a key missing from PAYLOAD_KEYS, or tampered)',
          ),
          ...codecProblems,
        },
      },
    },
    (request) => transcode(request, request.body, 'decode'),
  );
  app.post(
    '/encode',
    {
      schema: {
        tags: ['codec'],
        summary: 'Encrypt payloads for Temporal UI / CLI',
        security: OPERATOR,
        body: payloadsBody,
        response: { 200: payloadsBody, ...codecProblems },
      },
    },
    (request) => transcode(request, request.body, 'encode'),
  );

  app.get(
    '/login',
    {
      schema: {
        tags: ['codec'],
        summary: 'Operator sign-in page',
        security: [],
        response: {
          200: { description: 'the sign-in page', content: { 'text/html': { schema: z.string() } } },
          ...problems(429, 503),
        },
      },
    },
    (_, reply) => {
      reply.type('text/html; charset=utf-8');
      return LOGIN_PAGE;
    },
  );
  app.get('/login.js', { schema: { hide: true } }, (_, reply) =>
    reply.type('text/javascript; charset=utf-8').send(LOGIN_SCRIPT),
  );
  app.post(
    '/session',
    {
      schema: {
        tags: ['codec'],
        summary: 'Sign a browser in to the codec (sets an HttpOnly session cookie)',
        security: [],
        body: z.object({ key: z.string().min(1).max(512) }).strict(),
        response: {
          204: z.undefined().describe('signed in: the session cookie is set'),
          400: problemResponse('no key in the body'),
          401: problemResponse('the API key is not valid'),
          403: problemResponse(`the key's role may not decode ticket payloads, or the origin is not allowed`),
          ...problems(413, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const actor = options.actorForKey(request.body.key);
      if (!actor) throw new Problem(401, 'Unauthorized', 'the API key is not valid');
      if (!mayUseCodec(actor.role)) {
        throw new Problem(403, 'Forbidden', `role ${actor.role} may not decode ticket payloads`);
      }
      const id = await options.sessions.open(actor, options.sessionTtlMs);
      const maxAge = Math.floor(options.sessionTtlMs / 1000);
      return reply
        .header('set-cookie', cookieHeader(request, id, maxAge))
        .code(204)
        .send();
    },
  );
  app.delete(
    '/session',
    {
      schema: {
        tags: ['codec'],
        summary: 'Sign the browser out of the codec (ends its session)',
        security: [],
        response: {
          204: z.undefined().describe('signed out: the session cookie is cleared'),
          403: problemResponse('the origin is not allowed, or a session cookie came without an Origin'),
          ...problems(429, 503),
        },
      },
    },
    async (request, reply) => {
      const id = sessionCookie(request);
      if (id !== undefined) await options.sessions.close(id);
      return reply
        .header('set-cookie', cookieHeader(request, '', 0))
        .code(204)
        .send();
    },
  );
};
