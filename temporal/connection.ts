import { readFileSync } from 'node:fs';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalSettings } from '../config';

/** The connection options both the client (API) and the worker use: address, mTLS, API key. */
export function connectionOptions(settings: TemporalSettings) {
  const { tls } = settings;
  const read = (path: string | undefined, variable: string) => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new Error(`${variable}: cannot read ${path} (${reason})`, { cause: error });
    }
  };
  const certificate = read(tls?.certPath, 'TEMPORAL_TLS_CERT_PATH');
  const key = read(tls?.keyPath, 'TEMPORAL_TLS_KEY_PATH');
  return {
    address: settings.address,
    apiKey: settings.apiKey,
    tls: tls
      ? {
          serverNameOverride: tls.serverName,
          serverRootCACertificate: read(tls.caPath, 'TEMPORAL_TLS_CA_PATH'),
          clientCertPair: certificate && key ? { crt: certificate, key } : undefined,
        }
      : undefined,
  };
}

/**
 * The API's client, on the SDK's native connection (the Rust core's gRPC client the worker uses too)
 * rather than the pure-JavaScript one: the same calls, about 1 ms less of the API's CPU per ticket
 * created (7.5 against 8.6 ms, the means of six rounds of 500 creates at 1 in flight on this 2-core
 * machine). Its calls are bounded with `withDeadline`; it does not take abort signals.
 */
export async function connectClient(
  settings: TemporalSettings,
  dataConverter: DataConverter,
): Promise<Client> {
  const connection = await connectNativeConnection(settings);
  return new Client({ connection, namespace: settings.namespace, dataConverter });
}

/** The SDK's native connection: the worker's, and under the API's client. */
export function connectNativeConnection(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(settings));
}
