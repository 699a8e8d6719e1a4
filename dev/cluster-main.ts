import path from 'node:path';
import { PROJECT_ROOT } from '../temporal/binaries';
import { startEmbeddedPostgres } from './embedded-postgres';
import { startTemporalCluster } from './temporal-cluster';

/**
 * The first step of `npm run cluster`: an embedded PostgreSQL holding Aftercare's and Temporal's
 * databases and the real Temporal server on it, until Ctrl-C. It prints the DATABASE_URL and
 * TEMPORAL_ADDRESS to start the worker and the API with; starting them itself comes next.
 * `CLUSTER_DATA_DIR`, `CLUSTER_POSTGRES_PORT` and `CLUSTER_TEMPORAL_PORT` move the data and ports.
 */
const dataDir = path.resolve(process.env.CLUSTER_DATA_DIR || path.join(PROJECT_ROOT, '.data-cluster'));
const POSTGRES_PORT = Number(process.env.CLUSTER_POSTGRES_PORT ?? 54329);
const TEMPORAL_PORT = Number(process.env.CLUSTER_TEMPORAL_PORT ?? 7233);
const say = (line: string) => process.stdout.write(`[cluster] ${line}\n`);

async function main(): Promise<void> {
  const started = Date.now();
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, 'postgres'),
    port: POSTGRES_PORT,
  });
  say(`PostgreSQL (embedded) on 127.0.0.1:${POSTGRES_PORT}, data in ${postgres.dataDir}`);
  const url = new URL(postgres.url);
  let cluster;
  try {
    cluster = await startTemporalCluster({
      database: {
        host: url.hostname,
        port: Number(url.port),
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
      },
      dataDir: path.join(dataDir, 'temporal'),
      port: TEMPORAL_PORT,
      namespace: process.env.TEMPORAL_NAMESPACE || 'default',
      log: say,
    });
  } catch (error) {
    await postgres.stop();
    throw error;
  }
  const running = cluster;
  say(`Temporal server ${running.tools.server} on ${running.address}, log in ${running.logFile}`);
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
  say(`  DATABASE_URL=${postgres.url} TEMPORAL_ADDRESS=${running.address}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping the Temporal server, then PostgreSQL`);
    await running.stop();
    await postgres.stop();
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`cluster failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
