import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalSettings } from '../config';

/** The connection options both the client (API) and the worker use: address, mTLS, API key. */
export function connectionOptions(settings: TemporalSettings) {
  const { tls } = settings;
  const read = (path: string | undefined) => (path ? readFileSync(path) : undefined);
  const certificate = read(tls?.certPath);
  const key = read(tls?.keyPath);
  return {
    address: settings.address,
    apiKey: settings.apiKey,
    tls: tls
      ? {
          serverNameOverride: tls.serverName,
          serverRootCACertificate: read(tls.caPath),
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
