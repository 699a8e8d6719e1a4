import { type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { count, eq } from 'drizzle-orm';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { listen } from '../../api/app';
import { hardeningPlugin } from '../../api/plugins/hardening';
import { registerProblemHandlers } from '../../api/problem';
import { tickets } from '../../db/schema';
import { ADMIN_KEY, AGENT_KEY, startApi, untilNotShedding, type ApiStack } from '../support/stack';
import { runWorkerFor } from '../support/temporal';
import { startWorkerProcess } from '../support/worker-process';

/**
 * Hardening and observability of the HTTP API over inject, against the real PostgreSQL and Temporal:
 * security headers, per-key rate limits, body limit, load shedding, request ids, CORS for /v1 and
 * /metrics; what floods of scrapes and probes cost; /metrics on an internal listener; and the worker's
 * Temporal metrics endpoint in a child process.
 */
const ALLOWED_ORIGIN = 'https://crm.example.com';
const taskQueue = `hardening-${process.pid}`;
let stack: ApiStack;
let limited: ApiStack;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  [stack, limited] = await Promise.all([
    startApi({
      taskQueue,
      policy: { firstResponse: '2s' },
      // Counters read again after 1 s, so the tests below see their own tickets soon.
      // Load shedding as deployed (the other test stacks turn it off).
      env: { CORS_ORIGINS: ALLOWED_ORIGIN, METRICS_CACHE: '1s', MAX_EVENT_LOOP_DELAY_MS: '1000' },
    }),
    startApi({
      taskQueue: `${taskQueue}-limited`,
      policy: {},
      env: { RATE_LIMIT_PER_MINUTE: '5' },
    }),
  ]);
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
});

afterAll(async () => {
  await stopWorker?.();
  await Promise.all([stack?.close(), limited?.close()]);
});

// This stack sheds load as deployed: a second of event-loop delay (another test file busy on the
// same two cores) makes it answer 503 until the delay passes. Each test starts once it has.
beforeEach(() => untilNotShedding(stack.app));

const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const agent = { authorization: `Bearer ${AGENT_KEY}` };
const UNKNOWN_TICKET = '/v1/tickets/WO20990101-999';

const ticketBody = {
  channel: 'phone',
  category: 'fault',
  priority: 'critical',
  serviceType: 'repair',
  customer: { name: '赵六', phone: '13900002222', tier: 'vip' },
  product: { model: 'KFR-35GW/ABC123', serialNumber: 'SN-HARD-1', purchaseDate: '2026-03-15' },
  description: 'No cooling at all',
};

function expectProblem(response: { headers: Record<string, unknown>; json: () => unknown }, status: number) {
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = response.json() as { status: number; detail: string };
  expect(problem.status).toBe(status);
  return problem;
}

describe('security headers (helmet)', () => {
  it('are on /v1 responses, errors included, and on /healthz', async () => {
    const responses = await Promise.all([
      stack.app.inject({ method: 'GET', url: UNKNOWN_TICKET, headers: admin }),
      stack.app.inject({ method: 'GET', url: UNKNOWN_TICKET }),
      stack.app.inject({ method: 'GET', url: '/healthz' }),
    ]);
    expect(responses.map((response) => response.statusCode)).toEqual([404, 401, 200]);
    for (const { headers } of responses) {
      expect(headers['content-security-policy']).toContain("default-src 'self'");
      expect(headers['content-security-policy']).toContain("script-src 'self'");
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['x-powered-by']).toBeUndefined();
    }
  });

  it('/docs still serves its page and every script it loads, under a policy that allows them', async () => {
    const page = await stack.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    // No inline script: everything comes from 'self', which the policy allows.
    const tags = [...page.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(tags.length).toBeGreaterThanOrEqual(3);
    for (const [, attributes, inline] of tags) {
      expect(inline?.trim()).toBe('');
      const src = /src="([^"]+)"/.exec(attributes ?? '')?.[1];
      expect(src).toBeDefined();
      const script = await stack.app.inject({
        method: 'GET',
        url: new URL(src ?? '', 'http://api/docs/').pathname,
      });
      expect(script.statusCode).toBe(200);
      expect(script.headers['content-type']).toMatch(/javascript/);
      expect(script.body.length).toBeGreaterThan(0);
    }
  });

  it('the codec sign-in page runs under the default policy: its script is a file of our own origin', async () => {
    const page = await stack.app.inject({ method: 'GET', url: '/codec/login' });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toMatch(/<script>/);
    expect(page.body).toContain('<script src="login.js"></script>');
    const scriptSrc = String(page.headers['content-security-policy'])
      .split(';')
      .find((directive) => directive.startsWith('script-src '));
    expect(scriptSrc).toBe(`script-src 'self'`);
    const script = await stack.app.inject({ method: 'GET', url: '/codec/login.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('text/javascript');
  });
});

describe('rate limit per API key (RATE_LIMIT_PER_MINUTE=5)', () => {
  it('answers 429 problem+json past the limit for one key while another key is still served', async () => {
    for (let request = 1; request <= 5; request++) {
      const response = await limited.app.inject({ method: 'GET', url: UNKNOWN_TICKET, headers: admin });
      expect(response.statusCode).toBe(404);
      expect(response.headers['x-ratelimit-remaining']).toBe(String(5 - request));
    }
    const refused = await limited.app.inject({ method: 'GET', url: UNKNOWN_TICKET, headers: admin });
    expect(refused.statusCode).toBe(429);
    const problem = expectProblem(refused, 429);
    expect(problem).toMatchObject({ title: 'Too Many Requests', instance: UNKNOWN_TICKET });
    expect(problem.detail).toMatch(/^rate limit of 5 requests per minute exceeded; retry in \d+ s$/);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['x-request-id']).toBeDefined();
    expect(refused.headers['content-security-policy']).toBeDefined();

    const otherKey = await limited.app.inject({ method: 'GET', url: UNKNOWN_TICKET, headers: agent });
    expect(otherKey.statusCode).toBe(404);
    expect(otherKey.headers['x-ratelimit-remaining']).toBe('4');
  });

  it('never limits /healthz, /readyz or /metrics', async () => {
    for (let request = 0; request < 7; request++) {
      const responses = await Promise.all(
        ['/healthz', '/readyz', '/metrics'].map((url) =>
          limited.app.inject({ method: 'GET', url, headers: admin }),
        ),
      );
      expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200]);
    }
  });

  it('counts requests without a known key by client IP: inventing tokens buys no fresh limit', async () => {
    for (let request = 1; request <= 5; request++) {
      const response = await limited.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(response.statusCode).toBe(200);
    }
    const anonymous = await limited.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(anonymous.statusCode).toBe(429);
    const madeUp = await limited.app.inject({
      method: 'GET',
      url: '/openapi.json',
      headers: { authorization: 'Bearer made-up-token-12345' },
    });
    expect(madeUp.statusCode).toBe(429);
    expectProblem(madeUp, 429);
  });
});

describe('request limits and ids', () => {
  it('answers 413 problem+json for a body over 256 KiB, and creates nothing', async () => {
    const serialNumber = `SN-413-${process.pid}`;
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: JSON.stringify({
        ...ticketBody,
        product: { ...ticketBody.product, serialNumber },
        description: 'x'.repeat(256 * 1024),
      }),
    });
    expect(response.statusCode).toBe(413);
    const problem = expectProblem(response, 413);
    expect(problem).toMatchObject({ title: 'Content Too Large', instance: '/v1/tickets' });
    expect(problem.detail).toMatch(/too large/i);
    const [row] = await stack.database.db
      .select({ n: count() })
      .from(tickets)
      .where(eq(tickets.serialNumber, serialNumber));
    expect(row?.n).toBe(0);
  });

  it('echoes the x-request-id a client sends, and makes one up when it sends none', async () => {
    const sent = await stack.app.inject({
      method: 'GET',
      url: UNKNOWN_TICKET,
      headers: { ...admin, 'x-request-id': 'crm-trace-4711' },
    });
    expect(sent.headers['x-request-id']).toBe('crm-trace-4711');
    const [first, second] = await Promise.all([
      stack.app.inject({ method: 'GET', url: '/healthz' }),
      stack.app.inject({ method: 'GET', url: '/healthz' }),
    ]);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(first?.headers['x-request-id']).toMatch(uuid);
    expect(second?.headers['x-request-id']).toMatch(uuid);
    expect(first?.headers['x-request-id']).not.toBe(second?.headers['x-request-id']);
  });
});

describe('load shedding (under pressure)', () => {
  let shedding: FastifyInstance | undefined;
  afterEach(async () => {
    await shedding?.close();
    shedding = undefined;
  });

  async function appWithHealth(healthy: boolean): Promise<FastifyInstance> {
    const app = Fastify();
    registerProblemHandlers(app);
    await app.register(hardeningPlugin, {
      rateLimitPerMinute: 100,
      healthCheck: async () => healthy,
      healthCheckInterval: 60_000,
      retryAfterSeconds: 7,
    });
    app.get('/v1/ping', async () => ({ pong: true }));
    app.get('/healthz', async () => ({ status: 'ok' }));
    await app.ready();
    return app;
  }

  it('answers 503 problem+json with Retry-After while the server is under pressure', async () => {
    shedding = await appWithHealth(false);
    const response = await shedding.inject({ method: 'GET', url: '/v1/ping' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('7');
    expect(expectProblem(response, 503)).toMatchObject({
      title: 'Service Unavailable',
      detail: 'the server is overloaded; retry shortly',
    });
    // Liveness still answers: restarting an overloaded process would not help.
    expect((await shedding.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('serves normally when not under pressure', async () => {
    shedding = await appWithHealth(true);
    const response = await shedding.inject({ method: 'GET', url: '/v1/ping' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ pong: true });
  });

  it('is installed in the real app, which is not under pressure now', async () => {
    expect(stack.app.hasDecorator('isUnderPressure')).toBe(true);
    expect(stack.config.maxEventLoopDelayMs).toBe(1000);
    expect(stack.app.isUnderPressure()).toBe(false);
  });
});

describe('CORS (CORS_ORIGINS)', () => {
  it('allows a configured origin on /v1, preflight included, without a key', async () => {
    const actual = await stack.app.inject({
      method: 'GET',
      url: UNKNOWN_TICKET,
      headers: { ...admin, origin: ALLOWED_ORIGIN },
    });
    expect(actual.statusCode).toBe(404);
    expect(actual.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(actual.headers['access-control-expose-headers']).toContain('x-request-id');
    expect(actual.headers['access-control-allow-credentials']).toBeUndefined();

    const preflight = await stack.app.inject({
      method: 'OPTIONS',
      url: '/v1/tickets',
      headers: {
        origin: ALLOWED_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,idempotency-key',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toContain('idempotency-key');
  });

  it('sends no CORS headers for a foreign origin, nor outside /v1', async () => {
    const foreign = await stack.app.inject({
      method: 'GET',
      url: UNKNOWN_TICKET,
      headers: { ...admin, origin: 'https://evil.example.com' },
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    const health = await stack.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: ALLOWED_ORIGIN },
    });
    expect(health.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('leaves the codec endpoint its own CORS (Temporal UI origins, with credentials)', async () => {
    const temporalUi = 'http://localhost:8233';
    const codec = await stack.app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: temporalUi, 'access-control-request-method': 'POST' },
    });
    expect(codec.statusCode).toBe(204);
    expect(codec.headers['access-control-allow-origin']).toBe(temporalUi);
    expect(codec.headers['access-control-allow-credentials']).toBe('true');
    const v1 = await stack.app.inject({
      method: 'GET',
      url: UNKNOWN_TICKET,
      headers: { ...admin, origin: temporalUi },
    });
    expect(v1.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends no CORS headers on /v1 when CORS_ORIGINS is empty', async () => {
    const response = await limited.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: ALLOWED_ORIGIN },
    });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await limited.app.inject({
      method: 'OPTIONS',
      url: '/v1/tickets',
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** The value of one series in a Prometheus text exposition, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(): Promise<string> {
  const response = await stack.app.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain/);
  return response.body;
}

describe('/metrics', () => {
  it('serves request duration histograms per route and process metrics, with no key, outside the API doc', async () => {
    await stack.app.inject({ method: 'GET', url: UNKNOWN_TICKET, headers: admin });
    const text = await scrape();
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/v1\/tickets\/:number",status_code="404"\} \d+$/m,
    );
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",route="\/v1\/tickets\/:number",status_code="404"\} [1-9]\d*$/m,
    );
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    const document = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(document.paths)).not.toContain('/metrics');
    expect(Object.keys(document.paths)).toContain('/v1/tickets');
  });

  it('counts tickets created, by priority, from PostgreSQL', async () => {
    const before = await scrape();
    expect(before).toContain('# TYPE aftercare_tickets_created_total counter');
    for (const priority of ['normal', 'urgent', 'critical']) {
      expect(
        sample(before, `aftercare_tickets_created_total{priority="${priority}"}`),
      ).toBeGreaterThanOrEqual(0);
    }
    const critical = sample(before, 'aftercare_tickets_created_total{priority="critical"}') ?? NaN;
    const created = await stack.app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: admin,
      payload: ticketBody,
    });
    expect(created.statusCode).toBe(201);
    await vi.waitFor(
      async () => {
        const after = await scrape();
        expect(sample(after, 'aftercare_tickets_created_total{priority="critical"}')).toBeGreaterThanOrEqual(
          critical + 1,
        );
      },
      { timeout: 10_000, interval: 250 },
    );
  });

  it('counts escalations by level and SLA breaches by clock once the worker escalates', async () => {
    const before = await scrape();
    expect(before).toContain('# TYPE aftercare_escalations_total counter');
    expect(before).toContain('# TYPE aftercare_sla_breaches_total counter');
    const level1 = sample(before, 'aftercare_escalations_total{level="1"}') ?? NaN;
    const firstResponse = sample(before, 'aftercare_sla_breaches_total{clock="firstResponse"}') ?? NaN;
    expect(level1).toBeGreaterThanOrEqual(0);
    expect(firstResponse).toBeGreaterThanOrEqual(0);
    const created = await stack.app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: admin,
      payload: { ...ticketBody, priority: 'normal' },
    });
    expect(created.statusCode).toBe(201);
    // The policy's first response is 2 s: nobody acknowledges, the worker escalates to level 1.
    await vi.waitFor(
      async () => {
        const text = await scrape();
        expect(sample(text, 'aftercare_escalations_total{level="1"}')).toBeGreaterThanOrEqual(level1 + 1);
        expect(sample(text, 'aftercare_sla_breaches_total{clock="firstResponse"}')).toBeGreaterThanOrEqual(
          firstResponse + 1,
        );
      },
      { timeout: 15_000, interval: 250 },
    );
  });
});

/**
 * The statements one app sends to PostgreSQL while `during` runs (postgres.js calls its `debug`
 * option for every query it sends).
 */
async function statementsDuring(target: ApiStack, during: () => Promise<unknown>): Promise<string[]> {
  const statements: string[] = [];
  const options = target.database.db.$client.options as { debug: unknown };
  options.debug = (_connection: number, query: string) => statements.push(query);
  try {
    await during();
  } finally {
    options.debug = false;
  }
  return statements;
}

const COUNTER_SCAN = /select .*count\(\*\) from "(tickets|escalations)" group by/;

describe('floods of scrapes and probes', () => {
  it('50 concurrent scrapes of /metrics share one round of count(*) scans (METRICS_CACHE, 15 s)', async () => {
    const scrapes = () =>
      Promise.all(Array.from({ length: 50 }, () => limited.app.inject({ method: 'GET', url: '/metrics' })));
    let responses: Awaited<ReturnType<typeof scrapes>> = [];
    const first = await statementsDuring(limited, async () => {
      responses = await scrapes();
    });
    expect(responses.every((response) => response.statusCode === 200)).toBe(true);
    for (const response of responses) {
      expect(
        sample(response.body, 'aftercare_tickets_created_total{priority="normal"}'),
      ).toBeGreaterThanOrEqual(0);
    }
    // Three counters, one scan each, at most once (none when an earlier scrape's answer is still fresh).
    expect(first.filter((statement) => COUNTER_SCAN.test(statement)).length).toBeLessThanOrEqual(3);
    const second = await statementsDuring(limited, scrapes);
    expect(second.filter((statement) => COUNTER_SCAN.test(statement))).toEqual([]);
  });

  it('100 concurrent /readyz probes share one check of PostgreSQL and Temporal, renewed after 2 s', async () => {
    const systemInfo = vi.spyOn(limited.temporal.workflowService, 'getSystemInfo');
    try {
      const probes = () =>
        Promise.all(Array.from({ length: 100 }, () => limited.app.inject({ method: 'GET', url: '/readyz' })));
      let responses: Awaited<ReturnType<typeof probes>> = [];
      const statements = await statementsDuring(limited, async () => {
        responses = await probes();
      });
      expect(responses.map((response) => response.statusCode)).toEqual(Array(100).fill(200));
      expect(statements.filter((statement) => statement === 'select 1').length).toBeLessThanOrEqual(1);
      expect(systemInfo.mock.calls.length).toBeLessThanOrEqual(1);

      // After the 2 s interval the next probe checks again: the answer is not frozen.
      const before = systemInfo.mock.calls.length;
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const later = await statementsDuring(limited, () =>
        limited.app.inject({ method: 'GET', url: '/readyz' }),
      );
      expect(later).toContain('select 1');
      expect(systemInfo.mock.calls.length).toBe(before + 1);
    } finally {
      systemInfo.mockRestore();
    }
  });
});

describe('/metrics on an internal listener (API_METRICS_ADDRESS)', () => {
  let internal: ApiStack;
  let metricsAddress: string;
  beforeAll(async () => {
    metricsAddress = `127.0.0.1:${await freePort()}`;
    internal = await startApi({
      taskQueue: `${taskQueue}-internal`,
      policy: {},
      env: { HOST: '127.0.0.1', PORT: '0', API_METRICS_ADDRESS: metricsAddress },
    });
    await listen(internal.app, internal.config);
  });
  afterAll(async () => {
    await internal?.close();
  });

  it('serves the metrics there, business counters included, and not on the public port', async () => {
    const fromInside = await fetch(`http://${metricsAddress}/metrics`);
    expect(fromInside.status).toBe(200);
    const text = await fromInside.text();
    expect(text).toContain('# TYPE aftercare_tickets_created_total counter');
    expect(text).toContain('nodejs_eventloop_lag_seconds');

    const publicAddress = internal.app.server.address();
    const publicPort = typeof publicAddress === 'object' && publicAddress ? publicAddress.port : 0;
    const fromOutside = await fetch(`http://127.0.0.1:${publicPort}/metrics`);
    expect(fromOutside.status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${publicPort}/healthz`)).status).toBe(200);
  });
});

describe('worker metrics (WORKER_METRICS_ADDRESS)', () => {
  const children: ChildProcess[] = [];
  let blocker: Server | undefined;
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    blocker?.close();
  });

  async function startWorker(metricsAddress: string): Promise<string> {
    const { child, output } = await startWorkerProcess({
      TEMPORAL_TASK_QUEUE: `${taskQueue}-worker-metrics`,
      WORKER_METRICS_ADDRESS: metricsAddress,
    });
    children.push(child);
    return output;
  }

  it('serves the Temporal SDK metrics for Prometheus on the configured address', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const output = await startWorker(address);
    expect(output).toContain(`worker metrics on http://${address}/metrics`);
    await vi.waitFor(
      async () => {
        const response = await fetch(`http://${address}/metrics`);
        expect(response.status).toBe(200);
        const text = await response.text();
        expect(text).toMatch(/^temporal_\w+\{.*task_queue="hardening-\d+-worker-metrics".*\} /m);
      },
      { timeout: 15_000, interval: 250 },
    );
  });

  it('still runs, without metrics and saying so, when the address is taken', async () => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(port, '127.0.0.1', resolve));
    const output = await startWorker(`127.0.0.1:${port}`);
    expect(output).toContain('worker metrics are off');
    expect(output).toContain('Address already in use');
  });
});
