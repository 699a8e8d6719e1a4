import closeWithGrace from 'close-with-grace';
import { loadConfig, requireDatabaseUrl } from '../config';
import { connectDatabase } from '../db/client';
import { KPI_TARGETS } from '../domain/kpi';
import { createLogger } from '../logger';
import { connectNativeConnection } from '../temporal/connection';
import { createDataConverter } from '../temporal/data-converter';
import { installWorkerTelemetry } from './telemetry';
import { createTicketWorker } from './worker';

/** `npm run worker`: runs ticket workflows and activities against the configured services. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  installWorkerTelemetry({ metricsAddress: config.workerMetricsAddress, logger });
  const database = connectDatabase(requireDatabaseUrl(config), { payloadKeys: config.payloadKeys });
  const connection = await connectNativeConnection(config.temporal);
  const worker = await createTicketWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter: createDataConverter(config.payloadKeys),
    tuning: config.worker,
    dependencies: { db: database.db },
    retention: { settings: config.retention, timeZone: config.policy.calendar.timeZone },
    monthlyReport: {
      timeZone: config.policy.calendar.timeZone,
      targets: config.policy.targets ?? KPI_TARGETS,
    },
  });
  logger.info({ taskQueue: config.temporal.taskQueue, address: config.temporal.address }, 'worker running');
  const running = worker.run();
  // Draining finishes in-flight tasks (up to the shutdown grace), then the connections close.
  const stopped = running.then(async () => {
    await connection.close();
    await database.close();
    logger.info('worker stopped');
  });
  closeWithGrace({ delay: (config.worker.shutdownGraceSeconds + 10) * 1000 }, async ({ err }) => {
    if (err) logger.error({ err }, 'worker stopping after an error');
    worker.shutdown();
    await stopped;
  });
  await stopped;
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
