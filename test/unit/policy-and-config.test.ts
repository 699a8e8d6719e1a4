import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_ADMIN_KEY, loadConfig } from '../../config';
import { loadPolicy, parsePolicy, PolicyFileError } from '../../config/policy-file';
import { parseDuration } from '../../domain/durations';

describe('SLA policy file', () => {
  it('defaults to the customer numbers of the process documents', () => {
    const policy = parsePolicy({}, 'SLA policy', Date.parse('2026-06-01T00:00:00+08:00'));
    expect(policy.firstResponse).toEqual({ kind: 'wall', text: '10m', ms: 600_000 });
    expect(policy.callback).toMatchObject({ kind: 'wall', ms: 86_400_000 });
    expect(policy.complaintFollowUp).toMatchObject({ kind: 'wall', ms: 3_600_000 });
    expect(policy.resolution.normal).toMatchObject({ kind: 'business', amount: 5, unit: 'bd' });
    expect(policy.plan.critical).toMatchObject({ ms: 600_000 });
    expect(policy.calendar).toEqual({
      timeZone: 'Asia/Shanghai',
      workingDays: ['mon', 'tue', 'wed', 'thu', 'fri'],
      workingHours: [['09:00', '18:00']],
      // China's statutory holidays and make-up days from the loading year on (chinese-days).
      holidays: expect.arrayContaining(['2026-02-16', '2026-10-01']),
      extraWorkingDays: expect.arrayContaining(['2026-02-14', '2026-10-10']),
      statutory: { region: 'CN', fromYear: 2026, throughYear: 2026 },
    });
    expect(policy.warrantyMonths).toBe(12);
    expect(policy.qcSampleRate).toBe(0.3);
  });

  it('accepts short policies in seconds and business units', () => {
    const policy = parsePolicy({ firstResponse: '90s', callback: '4bh', plan: { urgent: '1.5h' } });
    expect(policy.firstResponse).toMatchObject({ kind: 'wall', ms: 90_000 });
    expect(policy.callback).toMatchObject({ kind: 'business', amount: 4, unit: 'bh' });
    expect(policy.plan.urgent).toMatchObject({ ms: 5_400_000 });
    expect(policy.plan.normal).toMatchObject({ ms: 7_200_000 });
  });

  it.each([
    [{ firstResponse: '10 minutes' }, /firstResponse: "10 minutes" is not a duration/],
    [{ plan: { urgent: '-5m' } }, /plan\.urgent: "-5m" is not a duration/],
    [
      { calendar: { workingHours: [['18:00', '09:00']] } },
      /calendar\.workingHours\.0: working-hour intervals/,
    ],
    [{ calendar: { holidays: ['2026-13-01'] } }, /calendar\.holidays\.0/],
    [{ timeZone: 'Mars/Olympus' }, /timeZone: must be an IANA time zone/],
    [{ qcSampleRate: 1.5 }, /qcSampleRate/],
    [{ targets: { onTimeArrivalPercent: 120 } }, /targets\.onTimeArrivalPercent/],
    [{ targets: { firstTimeFix: 90 } }, /targets: Unrecognized key.*firstTimeFix/],
    [{ targets: { bookedWithin30mPercent: -1 } }, /targets\.bookedWithin30mPercent/],
    [{ firstResponce: '10m' }, /Unrecognized key.*firstResponce/],
  ])('names the bad field of %j', (document, message) => {
    expect(() => parsePolicy(document)).toThrow(message);
  });

  it('takes firstResponse as one duration or one per priority, 10 minutes where none is given', () => {
    const policy = parsePolicy({ firstResponse: { normal: '24h', urgent: '2h' } });
    expect(policy.firstResponse).toEqual({
      normal: { kind: 'wall', text: '24h', ms: 86_400_000 },
      urgent: { kind: 'wall', text: '2h', ms: 7_200_000 },
      critical: { kind: 'wall', text: '10m', ms: 600_000 },
    });
    expect(() => parsePolicy({ firstResponse: { urgent: '2 hours' } })).toThrow(
      /firstResponse\.urgent: "2 hours" is not a duration/,
    );
    expect(() => parsePolicy({ firstResponse: { soon: '1h' } })).toThrow(
      /firstResponse: Unrecognized key: "soon"/,
    );
    expect(() => parsePolicy({ firstResponse: 10 })).toThrow(
      /firstResponse: must be a duration or one per priority/,
    );
  });

  it('agents act on every ticket by default; agentScope "own" limits them to their own, anything else names the field', () => {
    expect(parsePolicy({}).agentScope).toBe('all');
    expect(parsePolicy({ agentScope: 'own' }).agentScope).toBe('own');
    expect(() => parsePolicy({ agentScope: 'mine' })).toThrow(/agentScope: must be "all" .* or "own"/);
  });

  it('dispatch prefers engineers within 5 km by default; dispatch.radiusKm takes another, up to 50 km', () => {
    expect(parsePolicy({}).dispatch).toEqual({ radiusKm: 5 });
    expect(parsePolicy({ dispatch: { radiusKm: 2.5 } }).dispatch).toEqual({ radiusKm: 2.5 });
    expect(() => parsePolicy({ dispatch: { radiusKm: -1 } })).toThrow(
      /dispatch\.radiusKm: must be 0 or more/,
    );
    expect(() => parsePolicy({ dispatch: { radiusKm: 51 } })).toThrow(
      /dispatch\.radiusKm: must be at most 50 km/,
    );
    expect(() => parsePolicy({ dispatch: { radiusKm: '5km' } })).toThrow(
      /dispatch\.radiusKm: must be a distance/,
    );
    expect(() => parsePolicy({ dispatch: { radius: 5 } })).toThrow(/dispatch/);
  });

  it('warns at 80 % of each clock by default; warnAt takes another fraction, or null for none', () => {
    expect(parsePolicy({}).warnAt).toBe(0.8);
    expect(parsePolicy({ warnAt: 0.5 }).warnAt).toBe(0.5);
    expect(parsePolicy({ warnAt: null }).warnAt).toBeNull();
    expect(() => parsePolicy({ warnAt: 1 })).toThrow(
      /warnAt: must be below 1: the warning comes before the deadline/,
    );
    expect(() => parsePolicy({ warnAt: 0 })).toThrow(/warnAt: must be above 0/);
    expect(() => parsePolicy({ warnAt: '80%' })).toThrow(/warnAt: must be a fraction of the clock’s length/);
  });

  it('reports an unreadable or non-JSON file with its path', () => {
    const file = path.join(tmpdir(), `policy-${process.pid}.json`);
    writeFileSync(file, '{ not json');
    expect(() => loadPolicy(file)).toThrow(PolicyFileError);
    expect(() => loadPolicy(file)).toThrow(file);
    expect(() => loadPolicy('/nonexistent/policy.json')).toThrow(/cannot be read/);
  });

  it('holds the KPI targets: seed 004’s figures unless the file sets one', () => {
    expect(parsePolicy({}).targets).toEqual({
      firstTimeFixRatePercent: 90,
      callbackWithin24hPercent: 90,
      complaintResponseWithin24hPercent: 100,
      onTimeArrivalPercent: 95,
      dispatchWithin5mPercent: 100,
      offersAnsweredWithin15mPercent: 100,
      bookedWithin30mPercent: 100,
    });
    expect(
      parsePolicy({ targets: { onTimeArrivalPercent: 97.5, offersAnsweredWithin15mPercent: 98 } }).targets,
    ).toMatchObject({
      firstTimeFixRatePercent: 90,
      onTimeArrivalPercent: 97.5,
      offersAnsweredWithin15mPercent: 98,
      bookedWithin30mPercent: 100,
    });
  });

  it('parses every duration unit', () => {
    expect(parseDuration('90s')).toMatchObject({ ms: 90_000 });
    expect(parseDuration('30d')).toMatchObject({ ms: 2_592_000_000 });
    expect(parseDuration('5bd')).toMatchObject({ kind: 'business', unit: 'bd', amount: 5 });
    expect(parseDuration('0m')).toBeUndefined();
    expect(parseDuration('10')).toBeUndefined();
  });
});

describe('configuration', () => {
  it('uses the documented defaults and the development key when API_KEYS is unset', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.temporal).toMatchObject({
      address: 'localhost:7233',
      namespace: 'default',
      taskQueue: 'aftercare-tickets',
    });
    expect(config.usingDevAdminKey).toBe(true);
    expect(config.apiKeys).toEqual([{ key: DEV_ADMIN_KEY, actor: { id: 'dev-admin', role: 'admin' } }]);
  });

  it('refuses to start in production without API_KEYS', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /API_KEYS: required when NODE_ENV=production/,
    );
  });

  it('parses API_KEYS entries into roles and actors', () => {
    const config = loadConfig({ API_KEYS: 'key-admin-1:admin:ops-1,key-agent-7:agent:agent-7' });
    expect(config.usingDevAdminKey).toBe(false);
    expect(config.apiKeys.map((entry) => entry.actor)).toEqual([
      { id: 'ops-1', role: 'admin' },
      { id: 'agent-7', role: 'agent' },
    ]);
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT:/],
    [{ PORT: '70000' }, /^PORT:/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: must be a postgres/],
    [{ TEMPORAL_ADDRESS: 'localhost' }, /^TEMPORAL_ADDRESS: must be host:port/],
    [{ API_KEYS: 'short:admin:x' }, /^API_KEYS: entry 1 is invalid/],
    [{ API_KEYS: 'long-enough-key:wizard:x' }, /^API_KEYS: entry 1 is invalid: the role must be one of/],
    [{ TEMPORAL_TLS_CERT_PATH: '/c.pem' }, /^TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH/],
    [{ SLA_POLICY_FILE: '/nonexistent.json' }, /SLA_POLICY_FILE \/nonexistent.json cannot be read/],
    [{ WEBHOOK_TIMEOUT: '2bd' }, /^WEBHOOK_TIMEOUT: "2bd" is not a wall-clock duration/],
    [{ DELIVERY_RETRY_WINDOW: 'forever' }, /^DELIVERY_RETRY_WINDOW: "forever" is not a wall-clock duration/],
    [{ WEBHOOK_MAX_SUBSCRIPTIONS: '0' }, /^WEBHOOK_MAX_SUBSCRIPTIONS:/],
    [{ WEBHOOK_ALLOW_LOOPBACK: 'yes' }, /^WEBHOOK_ALLOW_LOOPBACK: must be true or false/],
  ])('names the bad variable in %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('sizes the delivery relay and its receiver rules from the environment', () => {
    expect(loadConfig({}).delivery).toEqual({
      notificationConcurrency: 16,
      perSubscription: 8,
      maxSubscriptions: 20,
      webhookTimeoutMs: 10_000,
      webhookTargets: { allowLoopback: false, requireHttps: false },
      rules: {
        retryWindowMs: 25 * 3_600_000,
        firstRetryMs: 1_000,
        maxRetryIntervalMs: 1_800_000,
        disableAfterFailures: 20,
        disableAfterMs: 3_600_000,
      },
    });
    const tuned = loadConfig({
      WEBHOOK_TIMEOUT: '3s',
      DELIVERY_RETRY_WINDOW: '2h',
      WEBHOOK_PAUSE_AFTER_FAILURES: '5',
      WEBHOOK_PAUSE_AFTER: '10m',
    }).delivery;
    expect(tuned.webhookTimeoutMs).toBe(3_000);
    expect(tuned.rules).toMatchObject({
      retryWindowMs: 7_200_000,
      disableAfterFailures: 5,
      disableAfterMs: 600_000,
    });
  });

  it('stops with a ConfigError, not a stack of zod internals', () => {
    expect(() => loadConfig({ PORT: 'x' })).toThrow(ConfigError);
  });
});

/** Secrets as `sh deploy/generate-env.sh` makes them. */
const STRONG_KEY = randomBytes(32).toString('hex');
const RANDOM_PAYLOAD_KEY = randomBytes(32).toString('base64');
const STRONG_SECRET = randomBytes(32).toString('hex');

describe('payload encryption and customer-id secrets', () => {
  const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');

  it('reads PAYLOAD_ENCRYPTION_KEYS in order: the first encrypts, all decrypt', () => {
    const config = loadConfig({ PAYLOAD_ENCRYPTION_KEYS: `k2026:${key(2)},k2025:${key(1)}` });
    expect(config.payloadKeys.map((entry) => entry.id)).toEqual(['k2026', 'k2025']);
    expect(config.payloadKeys[0]?.key).toEqual(Buffer.alloc(32, 2));
  });

  it('puts the key PAYLOAD_ENCRYPTION_KEY_ID names first, wherever it is listed', () => {
    const config = loadConfig({
      PAYLOAD_ENCRYPTION_KEYS: `k2025:${key(1)},k2026:${key(2)},k2027:${key(3)}`,
      PAYLOAD_ENCRYPTION_KEY_ID: 'k2026',
    });
    expect(config.payloadKeys.map((entry) => entry.id)).toEqual(['k2026', 'k2025', 'k2027']);
  });

  it('keeps a codec sign-in for CODEC_SESSION_TTL, 8 hours unless set', () => {
    expect(loadConfig({}).codecSessionTtlMs).toBe(8 * 3_600_000);
    expect(loadConfig({ CODEC_SESSION_TTL: '30m' }).codecSessionTtlMs).toBe(1_800_000);
  });

  it.each([
    [
      { PAYLOAD_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' },
      /^PAYLOAD_ENCRYPTION_KEYS: entry 1 must be keyId:base64 of 32 random bytes/,
    ],
    [{ PAYLOAD_ENCRYPTION_KEYS: `k1:${key(1)},k1:${key(2)}` }, /the same key id appears twice/],
    [
      { PAYLOAD_ENCRYPTION_KEYS: `k1:${key(1)},k2:${key(2)}`, PAYLOAD_ENCRYPTION_KEY_ID: 'k3' },
      /^PAYLOAD_ENCRYPTION_KEY_ID: "k3" is not a key id of PAYLOAD_ENCRYPTION_KEYS \(k1, k2\)/,
    ],
    [{ PAYLOAD_ENCRYPTION_KEY_ID: 'k1' }, /^PAYLOAD_ENCRYPTION_KEY_ID: set PAYLOAD_ENCRYPTION_KEYS/],
    [{ CODEC_SESSION_TTL: 'forever' }, /^CODEC_SESSION_TTL: "forever" is not a wall-clock duration/],
    [
      { NODE_ENV: 'production', API_KEYS: `${STRONG_KEY}:admin:ops` },
      /^PAYLOAD_ENCRYPTION_KEYS: required when NODE_ENV=production/,
    ],
    [
      {
        NODE_ENV: 'production',
        API_KEYS: `${STRONG_KEY}:admin:ops`,
        PAYLOAD_ENCRYPTION_KEYS: `k1:${RANDOM_PAYLOAD_KEY}`,
      },
      /^CUSTOMER_ID_SECRET: required when NODE_ENV=production/,
    ],
    [{ CUSTOMER_ID_SECRET: 'short' }, /^CUSTOMER_ID_SECRET: must be at least 16 characters/],
    [
      {
        NODE_ENV: 'production',
        API_KEYS: `${STRONG_KEY}:admin:ops`,
        PAYLOAD_ENCRYPTION_KEYS: `k1:${RANDOM_PAYLOAD_KEY}`,
        CUSTOMER_ID_SECRET: STRONG_SECRET,
        WEBHOOK_ALLOW_LOOPBACK: 'true',
      },
      /^WEBHOOK_ALLOW_LOOPBACK: may not be true when NODE_ENV=production/,
    ],
  ])('names the bad setting in %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('sends webhooks over https only in production, and to loopback only when allowed', () => {
    const production = loadConfig({
      NODE_ENV: 'production',
      API_KEYS: `${STRONG_KEY}:admin:ops`,
      PAYLOAD_ENCRYPTION_KEYS: `k1:${RANDOM_PAYLOAD_KEY}`,
      CUSTOMER_ID_SECRET: STRONG_SECRET,
    });
    expect(production.delivery.webhookTargets).toEqual({ allowLoopback: false, requireHttps: true });
    expect(loadConfig({ WEBHOOK_ALLOW_LOOPBACK: 'true' }).delivery.webhookTargets).toEqual({
      allowLoopback: true,
      requireHttps: false,
    });
  });
});

describe('worker tuning', () => {
  it('keeps at most 300 ticket workflows cached by default, and reads WORKER_MAX_CACHED_WORKFLOWS', () => {
    expect(loadConfig({}).worker).toEqual({
      maxCachedWorkflows: 300,
      maxConcurrentWorkflowTaskExecutions: 40,
      maxConcurrentActivityTaskExecutions: 50,
      shutdownGraceSeconds: 20,
    });
    expect(
      loadConfig({
        WORKER_MAX_CACHED_WORKFLOWS: '50',
        WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '8',
        WORKER_MAX_CONCURRENT_ACTIVITIES: '16',
        WORKER_SHUTDOWN_GRACE_SECONDS: '5',
      }).worker,
    ).toEqual({
      maxCachedWorkflows: 50,
      maxConcurrentWorkflowTaskExecutions: 8,
      maxConcurrentActivityTaskExecutions: 16,
      shutdownGraceSeconds: 5,
    });
    expect(() => loadConfig({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1' })).toThrow(
      /WORKER_MAX_CONCURRENT_WORKFLOW_TASKS/,
    );
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '-1' })).toThrow(/^WORKER_MAX_CACHED_WORKFLOWS:/);
  });
});

describe('production secrets', () => {
  const production = {
    NODE_ENV: 'production',
    API_KEYS: `${STRONG_KEY}:admin:ops-1`,
    PAYLOAD_ENCRYPTION_KEYS: `k1:${RANDOM_PAYLOAD_KEY}`,
    CUSTOMER_ID_SECRET: STRONG_SECRET,
  };
  /** What the development defaults are: the stand-ins loadConfig uses when nothing is set. */
  const development = loadConfig({});
  const devPayloadKey = development.payloadKeys[0]?.key.toString('base64') ?? '';

  it('starts with generated secrets', () => {
    const config = loadConfig(production);
    expect(config.env).toBe('production');
    expect(config.usingDevAdminKey).toBe(false);
  });

  it.each([
    // The placeholders .env.example used to ship: they passed every check before.
    [
      { API_KEYS: 'replace-with-a-long-random-key:admin:ops-1' },
      /^API_KEYS: the key of entry 1 is a placeholder/,
    ],
    [
      { PAYLOAD_ENCRYPTION_KEYS: 'k1:REPLACE+WITH+32+RANDOM+BYTES+IN+BASE64+XXXX=' },
      /^PAYLOAD_ENCRYPTION_KEYS: entry 1 is a placeholder/,
    ],
    [{ CUSTOMER_ID_SECRET: 'replace-with-a-long-random-secret' }, /^CUSTOMER_ID_SECRET: is a placeholder/],
    // The development defaults, which are in the repository.
    [
      { API_KEYS: `${DEV_ADMIN_KEY}:admin:ops-1` },
      /^API_KEYS: the key of entry 1 is the public development default/,
    ],
    [
      { PAYLOAD_ENCRYPTION_KEYS: `k1:${RANDOM_PAYLOAD_KEY},dev:${devPayloadKey}` },
      /^PAYLOAD_ENCRYPTION_KEYS: entry 2 is the public development key/,
    ],
    [
      { CUSTOMER_ID_SECRET: development.customerIdSecret },
      /^CUSTOMER_ID_SECRET: is the public development default/,
    ],
    // Short or repetitive.
    [
      { API_KEYS: `${STRONG_KEY}:admin:ops-1,key-agent-7:agent:agent-7` },
      /^API_KEYS: the key of entry 2 is 11 characters; production needs at least 32 random characters/,
    ],
    [{ CUSTOMER_ID_SECRET: 'abcdefghijklmnopqrstuvwxyz01234' }, /^CUSTOMER_ID_SECRET: is 31 characters/],
    [
      { API_KEYS: `${'ab'.repeat(20)}:admin:ops-1` },
      /^API_KEYS: the key of entry 1 repeats a few characters/,
    ],
    [
      { PAYLOAD_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}` },
      /^PAYLOAD_ENCRYPTION_KEYS: entry 1 is not random bytes/,
    ],
  ])('refuses %j, naming the variable and why', (override, message) => {
    const attempt = () => loadConfig({ ...production, ...override });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(/NODE_ENV=production; generate secrets with `sh deploy\/generate-env.sh`/);
  });

  it('never prints the refused secret', () => {
    const weak = 'short-but-secret-key';
    expect(() => loadConfig({ ...production, API_KEYS: `${weak}:admin:ops-1` })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(weak) }),
    );
    expect(() => loadConfig({ ...production, CUSTOMER_ID_SECRET: `${weak}-x` })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(weak) }),
    );
  });

  it('keeps development lenient: short keys and the development defaults work on loopback', () => {
    const config = loadConfig({
      API_KEYS: 'key-agent-7:agent:agent-7',
      CUSTOMER_ID_SECRET: '0123456789abcdef',
    });
    expect(config.apiKeys).toHaveLength(1);
    expect(config.host).toBe('127.0.0.1');
  });
});
