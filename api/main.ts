import { Runtime } from '@temporalio/worker';
import closeWithGrace from 'close-with-grace';
import { DEV_ADMIN_KEY, loadConfig, requireDatabaseUrl } from '../config';
import { connectDatabase } from '../db/client';
import { applyMigrations } from '../db/migrate';
import { statutoryCoverageWarning } from '../domain/policy';
import { createLogger, temporalRuntimeLogging } from '../logger';
import { connectClient } from '../temporal/connection';
import { createDataConverter } from '../temporal/data-converter';
import { buildApp, listen } from './app';

/** `npm run api`: applies migrations, then serves the HTTP API against the configured services. */
async function main(): Promise<void> {
  const startedAtMs = Date.now();
  const config = loadConfig(process.env, startedAtMs);
  const logger = createLogger({ level: config.logLevel, name: 'api', env: config.env });
  if (config.usingDevAdminKey) {
    logger.warn(
      `the development key "${DEV_ADMIN_KEY}" (role admin) is enabled: set API_KEYS; it works on loopback only`,
    );
  }
  // The API snapshots the policy into every ticket it opens, so it is the one to tell.
  const calendarWarning = statutoryCoverageWarning(config.policy, startedAtMs);
  if (calendarWarning) logger.warn(calendarWarning);
  const databaseUrl = requireDatabaseUrl(config);
  await applyMigrations(databaseUrl, config.payloadKeys);
  const database = connectDatabase(databaseUrl, { payloadKeys: config.payloadKeys });
  // The client runs on the SDK's native connection, whose Runtime logs as the API does.
  Runtime.install(temporalRuntimeLogging(logger));
  const temporal = await connectClient(config.temporal, createDataConverter(config.payloadKeys));
  const app = await buildApp({ config, db: database.db, temporal, logger });
  closeWithGrace({ delay: 10_000 }, async ({ err }) => {
    if (err) logger.error({ err }, 'api stopping after an error');
    await app.close();
    await temporal.connection.close();
    await database.close();
  });
  await listen(app, config);
}

main().catch((error: unknown) => {
  process.stderr.write(`api failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
