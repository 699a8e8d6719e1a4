import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config';

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
