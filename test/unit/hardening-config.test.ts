import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../api/app';
import { ConfigError, isLoopbackHost, loadConfig } from '../../config';
import { createLogger, prettyTransport } from '../../logger';

/**
 * RATE_LIMIT_PER_MINUTE, CORS_ORIGINS, the metrics addresses and cache, and the report limits, as the
 * API and the worker read them.
 */
describe('hardening configuration', () => {
  it('defaults to 600 requests per minute, no CORS origins, worker metrics on 127.0.0.1:9464', () => {
    const config = loadConfig({});
    expect(config.rateLimitPerMinute).toBe(600);
    expect(config.corsOrigins).toEqual([]);
    expect(config.workerMetricsAddress).toBe('127.0.0.1:9464');
  });

  it('reads the rate limit, a comma-separated origin list and a metrics address', () => {
    const config = loadConfig({
      RATE_LIMIT_PER_MINUTE: '5',
      CORS_ORIGINS: ' https://crm.example.com, http://localhost:5173 ,,',
      WORKER_METRICS_ADDRESS: '0.0.0.0:9100',
    });
    expect(config.rateLimitPerMinute).toBe(5);
    expect(config.corsOrigins).toEqual(['https://crm.example.com', 'http://localhost:5173']);
    expect(config.workerMetricsAddress).toBe('0.0.0.0:9100');
  });

  it('accepts IPv6 metrics addresses in brackets, and off', () => {
    expect(loadConfig({ WORKER_METRICS_ADDRESS: '[::]:9464' }).workerMetricsAddress).toBe('[::]:9464');
    expect(loadConfig({ WORKER_METRICS_ADDRESS: '[::1]:1' }).workerMetricsAddress).toBe('[::1]:1');
    expect(loadConfig({ WORKER_METRICS_ADDRESS: 'off' }).workerMetricsAddress).toBeUndefined();
  });

  it('serves API metrics on PORT with counters cached 15 s, and builds 2 reports at once, 4 waiting, 15 s each', () => {
    const config = loadConfig({});
    expect(config.apiMetricsAddress).toBeUndefined();
    expect(config.metricsCacheMs).toBe(15_000);
    expect(config.reports).toEqual({ timeoutMs: 15_000, concurrency: 2, queue: 4 });
  });

  it('reads an internal metrics listener, the cache and the report limits', () => {
    const config = loadConfig({
      API_METRICS_ADDRESS: '[::1]:9465',
      METRICS_CACHE: '30s',
      REPORT_TIMEOUT: '1m',
      REPORT_CONCURRENCY: '1',
      REPORT_QUEUE: '0',
    });
    expect(config.apiMetricsAddress).toEqual({ host: '::1', port: 9465 });
    expect(config.metricsCacheMs).toBe(30_000);
    expect(config.reports).toEqual({ timeoutMs: 60_000, concurrency: 1, queue: 0 });
    expect(loadConfig({ API_METRICS_ADDRESS: '10.0.0.5:9100' }).apiMetricsAddress).toEqual({
      host: '10.0.0.5',
      port: 9100,
    });
  });

  it.each([
    [{ API_METRICS_ADDRESS: 'localhost:9465' }, /^API_METRICS_ADDRESS: must be ip:port/],
    [{ API_METRICS_ADDRESS: '9465' }, /^API_METRICS_ADDRESS: /],
    [{ METRICS_CACHE: '15' }, /^METRICS_CACHE: "15" is not a wall-clock duration/],
    [{ REPORT_TIMEOUT: '2bd' }, /^REPORT_TIMEOUT: "2bd" is not a wall-clock duration/],
    [{ REPORT_CONCURRENCY: '0' }, /^REPORT_CONCURRENCY: /],
    [{ REPORT_CONCURRENCY: '9' }, /^REPORT_CONCURRENCY: /],
    [{ REPORT_QUEUE: '-1' }, /^REPORT_QUEUE: /],
    [{ RATE_LIMIT_PER_MINUTE: '0' }, /^RATE_LIMIT_PER_MINUTE: /],
    [{ RATE_LIMIT_PER_MINUTE: '-3' }, /^RATE_LIMIT_PER_MINUTE: /],
    [{ RATE_LIMIT_PER_MINUTE: '2.5' }, /^RATE_LIMIT_PER_MINUTE: .*expected int/],
    [{ RATE_LIMIT_PER_MINUTE: 'many' }, /^RATE_LIMIT_PER_MINUTE: .*number/i],
    [{ CORS_ORIGINS: '*' }, /^CORS_ORIGINS: must be comma-separated origins/],
    [{ CORS_ORIGINS: 'crm.example.com' }, /^CORS_ORIGINS: /],
    [{ CORS_ORIGINS: 'https://crm.example.com/' }, /^CORS_ORIGINS: .*no path/],
    [{ CORS_ORIGINS: 'https://ok.example.com,https://crm.example.com/app' }, /^CORS_ORIGINS: /],
    [{ WORKER_METRICS_ADDRESS: 'localhost:9464' }, /^WORKER_METRICS_ADDRESS: must be ip:port/],
    [{ WORKER_METRICS_ADDRESS: '127.0.0.1' }, /^WORKER_METRICS_ADDRESS: /],
    [{ WORKER_METRICS_ADDRESS: '127.0.0.1:0' }, /^WORKER_METRICS_ADDRESS: /],
    [{ WORKER_METRICS_ADDRESS: '127.0.0.1:65536' }, /^WORKER_METRICS_ADDRESS: /],
    [{ WORKER_METRICS_ADDRESS: '999.0.0.1:9464' }, /^WORKER_METRICS_ADDRESS: /],
    [{ WORKER_METRICS_ADDRESS: '::1:9464' }, /^WORKER_METRICS_ADDRESS: /],
    [{ WORKER_METRICS_ADDRESS: 'false' }, /^WORKER_METRICS_ADDRESS: /],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('TRUST_PROXY', () => {
  it('trusts no proxy by default, and reads a hop count or a list of proxy addresses', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,fd00::/8,loopback' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'fd00::/8',
      'loopback',
    ]);
  });

  it.each(['true', '0', '11', 'proxy.internal', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8', ','])(
    'rejects TRUST_PROXY=%s with a message naming it',
    (value) => {
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(
        /^TRUST_PROXY: must be false, a number of proxy hops/,
      );
    },
  );

  /**
   * The real API, limited to one request per minute per client; `inject` connects from 127.0.0.1.
   * GET /openapi.json needs no key, PostgreSQL or Temporal, and is rate limited by client IP.
   */
  async function statusesFor(env: Record<string, string>, forwardedFor: readonly string[]) {
    const config = loadConfig({ RATE_LIMIT_PER_MINUTE: '1', MAX_EVENT_LOOP_DELAY_MS: '0', ...env });
    const app = await buildApp({
      config,
      db: {} as never,
      temporal: {} as never,
      logger: pino({ level: 'silent' }),
    });
    try {
      const statuses = [];
      for (const header of forwardedFor) {
        const response = await app.inject({
          method: 'GET',
          url: '/openapi.json',
          headers: { 'x-forwarded-for': header },
        });
        statuses.push(response.statusCode);
      }
      return statuses;
    } finally {
      await app.close();
    }
  }

  it('without it, X-Forwarded-For is ignored: every request from the proxy shares one bucket', async () => {
    expect(await statusesFor({}, ['203.0.113.1', '203.0.113.2'])).toEqual([200, 429]);
  });

  it.each([{ TRUST_PROXY: '1' }, { TRUST_PROXY: '127.0.0.1' }, { TRUST_PROXY: 'loopback' }])(
    'with %j, each forwarded client has its own bucket',
    async (env) => {
      expect(await statusesFor(env, ['203.0.113.1', '203.0.113.2', '203.0.113.1'])).toEqual([200, 200, 429]);
    },
  );

  it('believes only the hops it trusts: a client cannot prepend an address to get a fresh bucket', async () => {
    // One trusted proxy appends the address it saw; what the client wrote before that is not believed.
    expect(await statusesFor({ TRUST_PROXY: '1' }, ['198.51.100.9, 203.0.113.1', '203.0.113.1'])).toEqual([
      200, 429,
    ]);
    // A proxy that is not in the list does not make its X-Forwarded-For believable.
    expect(await statusesFor({ TRUST_PROXY: '10.0.0.0/8' }, ['203.0.113.1', '203.0.113.2'])).toEqual([
      200, 429,
    ]);
  });
});

describe('rate limit before authentication', () => {
  it('counts guessed keys against the client IP: the guesses past the limit are 429, not 401', async () => {
    const config = loadConfig({ RATE_LIMIT_PER_MINUTE: '3', MAX_EVENT_LOOP_DELAY_MS: '0' });
    const app = await buildApp({
      config,
      db: {} as never,
      temporal: {} as never,
      logger: pino({ level: 'silent' }),
    });
    try {
      const statuses = [];
      for (let guess = 0; guess < 5; guess += 1) {
        const response = await app.inject({
          method: 'GET',
          url: '/v1/tickets',
          headers: { authorization: `Bearer guess-${guess}` },
        });
        statuses.push(response.statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await app.close();
    }
  });
});

describe('MAX_EVENT_LOOP_DELAY_MS', () => {
  /** Whether the API, its event loop blocked for 1.2 s, sheds load within the next 1.5 s. */
  async function shedsAfterABlock(limit: string): Promise<boolean> {
    const app = await buildApp({
      config: loadConfig({ MAX_EVENT_LOOP_DELAY_MS: limit }),
      db: {} as never,
      temporal: {} as never,
      logger: pino({ level: 'silent' }),
    });
    try {
      await app.ready();
      const blockedUntil = Date.now() + 1200;
      while (Date.now() < blockedUntil);
      for (const watchUntil = Date.now() + 1500; Date.now() < watchUntil;) {
        if (app.isUnderPressure()) return true;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return false;
    } finally {
      await app.close();
    }
  }

  it('defaults to 1000 ms', () => {
    expect(loadConfig({}).maxEventLoopDelayMs).toBe(1000);
  });

  it('past it the API sheds load; 0 never sheds', async () => {
    expect(await shedsAfterABlock('20')).toBe(true);
    expect(await shedsAfterABlock('0')).toBe(false);
  });
});

describe('HOST and the development defaults', () => {
  it('listens on loopback unless HOST is set', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '::1' }).host).toBe('::1');
  });

  it.each(['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1', 'localhost'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '10.1.2.3', '192.168.0.10', 'api.example.com', '::ffff:10.0.0.1'])(
    '%s is not loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );

  const key = Buffer.alloc(32, 7).toString('base64');
  const ownSecrets = {
    API_KEYS: 'team-key-0123456789:admin:ops-1',
    PAYLOAD_ENCRYPTION_KEYS: `k1:${key}`,
    CUSTOMER_ID_SECRET: 'a-team-customer-id-secret',
  };

  it('refuses a non-loopback HOST while any development default is in use, naming them', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(
      /^HOST: 0\.0\.0\.0 is reachable from other machines, but API_KEYS, PAYLOAD_ENCRYPTION_KEYS, CUSTOMER_ID_SECRET use their public development default/,
    );
    expect(() => loadConfig({ ...ownSecrets, HOST: '::', CUSTOMER_ID_SECRET: undefined })).toThrow(
      /^HOST: :: is reachable from other machines, but CUSTOMER_ID_SECRET uses its public development default; set it/,
    );
    expect(() => loadConfig({ ...ownSecrets, HOST: '10.0.0.5', API_KEYS: 'dev-admin-key:admin:me' })).toThrow(
      /^HOST: 10\.0\.0\.5 .* but API_KEYS uses its public development default/,
    );
    expect(() => loadConfig({ HOST: '0.0.0.0', NODE_ENV: 'test' })).toThrow(ConfigError);
  });

  it("listens anywhere once every secret is the team's own", () => {
    const config = loadConfig({ ...ownSecrets, HOST: '0.0.0.0' });
    expect(config.host).toBe('0.0.0.0');
    expect(config.usingDevAdminKey).toBe(false);
  });
});

describe('logger', () => {
  const resolvesTo = (file: string) => vi.fn((_id: string) => file);

  it('pretty-prints only in development, on a TTY, when pino-pretty resolves', () => {
    const resolve = resolvesTo('/x/pino-pretty/index.js');
    expect(prettyTransport({ env: 'development', isTTY: true, resolve })).toEqual({
      target: '/x/pino-pretty/index.js',
      // One line per event, as the development console prints them.
      options: { colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
    });
    expect(resolve).toHaveBeenCalledWith('pino-pretty');
    expect(prettyTransport({ env: 'development', isTTY: false, resolve })).toBeUndefined();
  });

  it('never loads pino-pretty in production or test mode, even on a TTY (docker run -t)', () => {
    const resolve = resolvesTo('/x/pino-pretty/index.js');
    expect(prettyTransport({ env: 'production', isTTY: true, resolve })).toBeUndefined();
    expect(prettyTransport({ env: 'test', isTTY: true, resolve })).toBeUndefined();
    expect(resolve).not.toHaveBeenCalled();
  });

  it('prints JSON when pino-pretty was pruned', () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module 'pino-pretty'"), { code: 'MODULE_NOT_FOUND' });
    };
    expect(prettyTransport({ env: 'development', isTTY: true, resolve: missing })).toBeUndefined();
  });

  it('a production logger on a TTY writes to stdout itself, with no transport thread', () => {
    const wasTTY = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    try {
      const production = createLogger({ level: 'info', name: 'test', env: 'production' });
      const stream = (production as unknown as Record<symbol, object>)[pino.symbols.streamSym];
      expect(stream?.constructor.name).toBe('SonicBoom');
    } finally {
      if (wasTTY) Object.defineProperty(process.stdout, 'isTTY', wasTTY);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
  });
});
