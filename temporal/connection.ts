import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
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

export async function connectClient(
  settings: TemporalSettings,
  dataConverter: DataConverter,
): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(settings));
  return new Client({ connection, namespace: settings.namespace, dataConverter });
}

export function connectWorkerConnection(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(settings));
}
