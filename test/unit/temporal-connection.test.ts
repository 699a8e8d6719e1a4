import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config';
import { connectionOptions } from '../../temporal/connection';

/**
 * Remote Temporal: each combination of settings a deployment can give (plain, mTLS for a
 * self-hosted cluster or Temporal Cloud, API key for Temporal Cloud) builds the connection options
 * the SDK needs, from the environment as an operator writes it.
 */
const folder = mkdtempSync(path.join(tmpdir(), 'aftercare-tls-'));
const file = (name: string, content: string) => {
  const target = path.join(folder, name);
  writeFileSync(target, content);
  return target;
};
const cert = file('client.pem', '-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n');
const key = file('client.key', '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n');
const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
const optionsFor = (env: Record<string, string>) => connectionOptions(loadConfig(env).temporal);

describe('Temporal connection options', () => {
  it('plain: the local or compose cluster, no TLS', () => {
    expect(optionsFor({ TEMPORAL_ADDRESS: 'temporal:7233' })).toEqual({
      address: 'temporal:7233',
      apiKey: undefined,
      tls: undefined,
    });
  });

  it('mTLS: client certificate and key, the CA and a server name for a self-hosted cluster', () => {
    const options = optionsFor({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'aftercare',
      TEMPORAL_TLS_CERT_PATH: cert,
      TEMPORAL_TLS_KEY_PATH: key,
      TEMPORAL_TLS_CA_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(options.address).toBe('temporal.internal:7233');
    expect(options.tls?.serverNameOverride).toBe('temporal.internal');
    expect(options.tls?.clientCertPair?.crt.toString()).toContain('cert');
    expect(options.tls?.clientCertPair?.key.toString()).toContain('key');
    expect(options.tls?.serverRootCACertificate?.toString()).toContain('ca');
    expect(options.apiKey).toBeUndefined();
  });

  it('Temporal Cloud with mTLS: certificate pair, the public CA roots', () => {
    const options = optionsFor({
      TEMPORAL_ADDRESS: 'aftercare.a2b3c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'aftercare.a2b3c',
      TEMPORAL_TLS_CERT_PATH: cert,
      TEMPORAL_TLS_KEY_PATH: key,
    });
    expect(options.tls?.clientCertPair).toBeDefined();
    expect(options.tls?.serverRootCACertificate).toBeUndefined();
  });

  it('Temporal Cloud with an API key: TLS on with the public roots, no client certificate', () => {
    const options = optionsFor({
      TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'aftercare.a2b3c',
      TEMPORAL_API_KEY: 'eyJhbGciOi.test.key',
    });
    expect(options.apiKey).toBe('eyJhbGciOi.test.key');
    expect(options.tls).toEqual({
      serverNameOverride: undefined,
      serverRootCACertificate: undefined,
      clientCertPair: undefined,
    });
  });

  it.each([
    [{ TEMPORAL_TLS_CERT_PATH: cert }, /^TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH: set both/],
    [{ TEMPORAL_TLS_KEY_PATH: key }, /^TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH: set both/],
    [{ TEMPORAL_ADDRESS: 'no-port' }, /^TEMPORAL_ADDRESS/],
  ])('refuses %o with an error naming the variable', (env, message) => {
    expect(() => optionsFor(env)).toThrow(message);
  });

  it('names the file that cannot be read', () => {
    expect(() =>
      optionsFor({ TEMPORAL_TLS_CERT_PATH: path.join(folder, 'missing.pem'), TEMPORAL_TLS_KEY_PATH: key }),
    ).toThrow(/^TEMPORAL_TLS_CERT_PATH: cannot read .*missing\.pem \(ENOENT\)$/);
  });
});
