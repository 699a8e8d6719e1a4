import type { FastifyInstance } from 'fastify';
import type { OpenAPIV3 } from 'openapi-types';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { positionCursor, sequenceCursor } from '../../api/cursor';
import { instantFilter } from '../../api/instant-filter';
import { LOAD_SHEDDING_EXEMPT, RATE_LIMIT_EXEMPT } from '../../api/plugins/hardening';
import { loadConfig } from '../../config';
import { actionInputSchema } from '../../domain/action-inputs';
import { NOT_BLANK } from '../../domain/text-rules';

/**
 * What API clients generate SDKs from, checked without a running stack (`npm run conformance` runs
 * Schemathesis against the real one): each answer the API gives is documented as it is given.
 */
const ADMIN_KEY = 'unit-admin-key-0001';
let app: FastifyInstance;
let document: OpenAPIV3.Document;

beforeAll(async () => {
  app = await buildApp({
    // Not a test of load shedding: a busy machine must not turn its answers into 503s.
    config: loadConfig({ API_KEYS: `${ADMIN_KEY}:admin:ops-1`, MAX_EVENT_LOOP_DELAY_MS: '0' }),
    db: {} as never,
    temporal: {} as never,
    logger: pino({ level: 'silent' }),
  });
  document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
});

afterAll(async () => {
  await app?.close();
});

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function operations(): { name: string; operation: OpenAPIV3.OperationObject }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = item?.[method];
      return operation ? [{ name: `${method.toUpperCase()} ${path}`, operation }] : [];
    }),
  );
}

const operation = (method: (typeof METHODS)[number], path: string) => {
  const found = document.paths[path]?.[method];
  if (!found) throw new Error(`${method} ${path} is not in the document`);
  return found;
};

const response = (method: (typeof METHODS)[number], path: string, status: string) =>
  operation(method, path).responses[status] as OpenAPIV3.ResponseObject;

const queryParameter = (path: string, name: string) =>
  (operation('get', path).parameters as OpenAPIV3.ParameterObject[]).find(
    (parameter) => parameter.name === name,
  );

describe('the OpenAPI document', () => {
  it('documents every error as RFC 9457 problem details under application/problem+json', () => {
    expect(operations().length).toBeGreaterThan(35);
    for (const { name, operation } of operations()) {
      const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
      for (const [status, answer] of errors) {
        const { content } = answer as OpenAPIV3.ResponseObject;
        expect(Object.keys(content ?? {}), `${name} ${status}`).toEqual(['application/problem+json']);
        const schema = content?.['application/problem+json']?.schema as OpenAPIV3.SchemaObject;
        expect(schema.required, `${name} ${status}`).toEqual(
          expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance']),
        );
      }
    }
  });

  it('documents 429 wherever the rate limit applies and 503 wherever load is shed', () => {
    for (const { name, operation } of operations()) {
      const path = name.split(' ')[1] ?? '';
      const routeUrl = path.replace(/\{(\w+)\}/g, ':$1');
      if (!RATE_LIMIT_EXEMPT.has(routeUrl)) expect(Object.keys(operation.responses), name).toContain('429');
      if (!LOAD_SHEDDING_EXEMPT.has(routeUrl))
        expect(Object.keys(operation.responses), name).toContain('503');
    }
  });

  it('states what a stock receipt and an adjustment must change, so generated valid bodies do', () => {
    const body = (path: string) =>
      (operation('post', path).requestBody as OpenAPIV3.RequestBodyObject).content['application/json']
        ?.schema as OpenAPIV3.SchemaObject;
    expect(body('/v1/stock/receipts').anyOf).toEqual([
      { properties: { accepted: { minimum: 1 } } },
      { properties: { rejected: { minimum: 1 } }, required: ['rejected'] },
    ]);
    expect((body('/v1/stock/adjustments').properties?.quantity as OpenAPIV3.SchemaObject).not).toEqual({
      enum: [0],
    });
  });

  it('states which remedy names a part or months, and that a return lists each proof once', () => {
    const body = (path: string) =>
      (operation('post', path).requestBody as OpenAPIV3.RequestBodyObject).content['application/json']
        ?.schema as OpenAPIV3.SchemaObject;
    expect(body('/v1/tickets/{number}/offer-remedy').allOf).toEqual([
      {
        anyOf: [
          { properties: { kind: { enum: ['gifted_part'] } }, required: ['partNumber'] },
          { properties: { kind: { not: { enum: ['gifted_part'] } } }, not: { required: ['partNumber'] } },
        ],
      },
      {
        anyOf: [
          { properties: { kind: { enum: ['extended_warranty'] } }, required: ['months'] },
          { properties: { kind: { not: { enum: ['extended_warranty'] } } }, not: { required: ['months'] } },
        ],
      },
    ]);
    const proofs = body('/v1/tickets/{number}/request-return').properties?.proofs as OpenAPIV3.SchemaObject;
    expect(proofs.uniqueItems).toBe(true);
  });

  it('states that a codec payload’s metadata has no __proto__ key (the JSON parser refuses one)', () => {
    for (const path of ['/codec/decode', '/codec/encode']) {
      const body = (operation('post', path).requestBody as OpenAPIV3.RequestBodyObject).content[
        'application/json'
      ]?.schema as OpenAPIV3.SchemaObject;
      const payload = (body.properties?.payloads as OpenAPIV3.ArraySchemaObject)
        .items as OpenAPIV3.SchemaObject;
      expect(payload.properties?.metadata, path).toMatchObject({ not: { required: ['__proto__'] } });
    }
    // No request body lets unknown keys through (a generated one could hold `__proto__` deep inside).
    for (const { name, operation } of operations()) {
      const body = (operation.requestBody as OpenAPIV3.RequestBodyObject | undefined)?.content[
        'application/json'
      ]?.schema as OpenAPIV3.SchemaObject | undefined;
      if (body?.type === 'object') expect(body.additionalProperties, name).toBe(false);
    }
  });

  it('documents a success answer for every operation, in the media type it is served in', () => {
    for (const { name, operation } of operations()) {
      expect(
        Object.keys(operation.responses).some((status) => status.startsWith('2')),
        name,
      ).toBe(true);
    }
    expect(Object.keys(response('get', '/v1/reports/summary.svg', '200').content ?? {})).toEqual([
      'image/svg+xml',
    ]);
    expect(Object.keys(response('get', '/v1/reports/summary', '200').content ?? {})).toEqual([
      'application/json',
      'text/csv',
    ]);
    expect(Object.keys(response('get', '/codec/login', '200').content ?? {})).toEqual(['text/html']);
    expect(response('post', '/codec/session', '204').content).toBeUndefined();
    // A scrap, adjustment or count above the approval threshold is accepted, not yet applied.
    for (const path of ['/v1/stock/scraps', '/v1/stock/adjustments', '/v1/stock/counts']) {
      expect(Object.keys(operation('post', path).responses), path).toEqual(
        expect.arrayContaining(['201', '202']),
      );
    }
  });

  it('declares the routes that need no key with an empty security requirement', () => {
    expect(document.security).toEqual([{ bearer: [] }]);
    for (const [method, path] of [
      ['get', '/healthz'],
      ['get', '/readyz'],
      ['get', '/codec/login'],
      ['post', '/codec/session'],
      ['delete', '/codec/session'],
    ] as const) {
      expect(operation(method, path).security, `${method} ${path}`).toEqual([]);
    }
    // Decoding without credentials answers the payloads as they came: authentication is optional.
    expect(operation('post', '/codec/decode').security).toEqual([{ bearer: [] }, { codecSession: [] }, {}]);
    expect(operation('post', '/codec/encode').security).toEqual([{ bearer: [] }, { codecSession: [] }]);
    for (const { name, operation } of operations().filter(({ name }) => name.includes(' /v1/'))) {
      expect(operation.security, name).toBeUndefined();
    }
  });

  it('gives cursors a pattern that every cursor the API issues matches', () => {
    const position = positionCursor.encode({ at: '2026-12-03T10:00:00.123456Z', key: 'WO20261203-001' });
    const sequence = sequenceCursor.encode(41);
    for (const [path, cursor] of [
      ['/v1/tickets', position],
      ['/v1/escalations', position],
      ['/v1/tickets/{number}/notifications', position],
      ['/v1/tickets/{number}/events', sequence],
      ['/v1/stock/movements', sequence],
    ] as const) {
      const schema = queryParameter(path, 'cursor')?.schema as OpenAPIV3.SchemaObject;
      expect(schema.type, path).toBe('string');
      expect(new RegExp(schema.pattern ?? '(?!)').test(cursor), path).toBe(true);
      expect(new RegExp(schema.pattern ?? '').test('not-a-cursor'), path).toBe(false);
    }
  });

  it('states that a meeting plan names its owner and deadline, as the API checks', () => {
    const body = operation('post', '/v1/tickets/{number}/plan').requestBody as OpenAPIV3.RequestBodyObject;
    const schema = body.content['application/json']?.schema as OpenAPIV3.SchemaObject;
    expect(schema.anyOf).toEqual([
      { properties: { kind: { not: { enum: ['meeting'] } } } },
      { required: ['owner', 'deadline'] },
    ]);
  });

  it('requires classify to name at least one of category, priority, serviceType, progressSms and the taxonomies, as the API does', async () => {
    const body = operation('post', '/v1/tickets/{number}/classify')
      .requestBody as OpenAPIV3.RequestBodyObject;
    const schema = body.content['application/json']?.schema as OpenAPIV3.SchemaObject;
    expect(schema.anyOf).toEqual([
      { required: ['category'] },
      { required: ['priority'] },
      { required: ['serviceType'] },
      { required: ['progressSms'] },
      { required: ['complaintType'] },
      { required: ['problemType'] },
      { required: ['liability'] },
    ]);
    const refused = await app.inject({
      method: 'POST',
      url: '/v1/tickets/WO20261203-001/classify',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      payload: { reason: 'looked again' },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().detail).toBe(
      'body: name at least one of category, priority, serviceType, progressSms, complaintType, problemType, liability',
    );
    // The workflow's update validator parses with the same schema.
    expect(actionInputSchema('classify').safeParse({}).success).toBe(false);
    expect(actionInputSchema('classify').safeParse({ serviceType: 'repair' }).success).toBe(true);
  });

  it('states the rules checked outside the schemas: no NUL in /v1 input, text not blank', async () => {
    const body = operation('post', '/v1/tickets/{number}/classify')
      .requestBody as OpenAPIV3.RequestBodyObject;
    const reason = (body.content['application/json']?.schema as OpenAPIV3.SchemaObject).properties
      ?.reason as OpenAPIV3.SchemaObject;
    expect(reason.not).toEqual({ pattern: '\\u0000' });
    expect(reason.pattern).toBe(NOT_BLANK.source);
    const status = queryParameter('/v1/tickets', 'status')?.schema as OpenAPIV3.SchemaObject;
    expect(new RegExp(status.pattern ?? '(?!)').test(' new,\tacknowledged ')).toBe(true);
    expect(new RegExp(status.pattern ?? '').test('new,,acknowledged')).toBe(false);
    // The codec stores nothing: a NUL character may pass through it.
    const decode = operation('post', '/codec/decode').requestBody as OpenAPIV3.RequestBodyObject;
    expect(JSON.stringify(decode.content['application/json']?.schema)).not.toContain('u0000');
    const blank = await app.inject({
      method: 'POST',
      url: '/v1/tickets/WO20261203-001/classify',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      payload: { priority: 'urgent', reason: ' \u3000\n' },
    });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().detail).toBe('body.reason: must not be blank');
  });

  it('answers a method a path does not have with 405 and the methods it has', async () => {
    for (const [method, url, allow] of [
      ['DELETE', '/v1/tickets', 'GET, HEAD, POST'],
      ['PUT', '/v1/tickets/WO20261203-001', 'GET, HEAD'],
      ['PATCH', '/healthz', 'GET, HEAD'],
    ] as const) {
      const response = await app.inject({ method, url });
      expect(response.statusCode, `${method} ${url}`).toBe(405);
      expect(response.headers.allow).toBe(allow);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect((await app.inject({ method: 'GET', url: '/v1/nothing-here' })).statusCode).toBe(404);
  });
});

describe('instant filters', () => {
  it('hand PostgreSQL UTC within the years it reads, whatever offset or year the document allows', () => {
    const filter = instantFilter();
    expect(filter.parse('2606-01-23T23:12:27.4039-19:10')).toBe('2606-01-24T18:22:27.403Z');
    expect(filter.parse('0000-01-01T00:00:00Z')).toBe('0001-01-01T00:00:00.000Z');
    expect(filter.parse('9999-12-31T23:59:59-23:59')).toBe('9999-12-31T23:59:59.999Z');
    expect(filter.safeParse('2026-02-29T00:00:00Z').success).toBe(false);
  });
});
