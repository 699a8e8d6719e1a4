import cors from '@fastify/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { mayUseCodec } from '../../domain/access';
import type { Actor } from '../../domain/ticket';
import { PayloadDecryptionError } from '../../temporal/codec';
import { Problem } from '../problem';

/**
 * The codec endpoint of the Temporal codec-server protocol, so Temporal UI and the Temporal CLI can
 * show ticket payloads decrypted — to operators whose key may see personal data, and no one else.
 *
 * The CLI sends `Authorization: Bearer <key>`. A browser cannot, so an operator signs in once at
 * `/codec/login`, which sets an HttpOnly cookie for `/codec`; with "Include cross-origin
 * credentials" on in Temporal UI's codec settings, the UI's requests carry it.
 *
 * `/decode` without an operator's key answers with the payloads as they came: what is encrypted
 * stays encrypted, and the readable summaries and timer names still show in the UI.
 */
export const CODEC_COOKIE = 'aftercare_codec_key';
const COOKIE_MAX_AGE_SECONDS = 8 * 60 * 60;

const payloadsBody = z.object({
  payloads: z
    .array(
      z.object({
        metadata: z.record(z.string(), z.string()).optional(),
        data: z.string().optional(),
      }),
    )
    .max(1000),
});
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

function cookieKey(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CODEC_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

const LOGIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Aftercare codec sign-in</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 3rem auto">
<h1>Aftercare codec</h1>
<p>Sign in with an operator API key to let Temporal UI decrypt ticket payloads in this browser.
Then turn on <em>Include cross-origin credentials</em> in Temporal UI's codec server settings.</p>
<form id="login"><label>API key <input id="key" type="password" autocomplete="off" required></label>
<button type="submit">Sign in</button></form><p id="result" role="status"></p>
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
`;

export interface CodecRoutesOptions {
  readonly codec: PayloadCodec;
  readonly corsOrigins: readonly string[];
  readonly actorForKey: (key: string) => Actor | undefined;
}

export const codecRoutes: FastifyPluginAsyncZod<CodecRoutesOptions> = async (app, options) => {
  await app.register(cors, {
    origin: [...options.corsOrigins],
    credentials: true,
    methods: ['POST', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'x-namespace'],
  });

  function operatorOf(request: FastifyRequest): Actor | undefined {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const key = bearer ?? cookieKey(request);
    const actor = key ? options.actorForKey(key) : undefined;
    return actor && mayUseCodec(actor.role) ? actor : undefined;
  }

  async function transcode(
    request: FastifyRequest,
    body: z.infer<typeof payloadsBody>,
    direction: 'encode' | 'decode',
  ) {
    if (!operatorOf(request)) {
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
    { schema: { tags: ['codec'], summary: 'Decrypt payloads for Temporal UI / CLI', body: payloadsBody } },
    (request) => transcode(request, request.body, 'decode'),
  );
  app.post(
    '/encode',
    { schema: { tags: ['codec'], summary: 'Encrypt payloads for Temporal UI / CLI', body: payloadsBody } },
    (request) => transcode(request, request.body, 'encode'),
  );

  app.get('/login', { schema: { tags: ['codec'], summary: 'Operator sign-in page' } }, (_, reply) =>
    reply.type('text/html; charset=utf-8').send(LOGIN_PAGE),
  );
  app.get('/login.js', { schema: { hide: true } }, (_, reply) =>
    reply.type('text/javascript; charset=utf-8').send(LOGIN_SCRIPT),
  );
  app.post(
    '/session',
    {
      schema: {
        tags: ['codec'],
        summary: 'Sign a browser in to the codec (sets an HttpOnly cookie)',
        body: z.object({ key: z.string().min(1).max(512) }),
      },
    },
    async (request, reply) => {
      const actor = options.actorForKey(request.body.key);
      if (!actor) throw new Problem(401, 'Unauthorized', 'the API key is not valid');
      if (!mayUseCodec(actor.role)) {
        throw new Problem(403, 'Forbidden', `role ${actor.role} may not decode ticket payloads`);
      }
      const cookie = [
        `${CODEC_COOKIE}=${encodeURIComponent(request.body.key)}`,
        'Path=/codec',
        'HttpOnly',
        'SameSite=Lax',
        `Max-Age=${COOKIE_MAX_AGE_SECONDS}`,
      ];
      return reply.header('set-cookie', cookie.join('; ')).code(204).send();
    },
  );
};
