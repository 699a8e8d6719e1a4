import closeWithGrace from 'close-with-grace';
import { loadConfig, requireDatabaseUrl } from '../config';
import { createLogger } from '../logger';
import { connectRelayDatabase, startDeliveryRelay } from './relay';

/** `npm run relay`: sends queued notifications and webhooks, apart from the ticket worker. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'relay' });
  const database = connectRelayDatabase(requireDatabaseUrl(config), config.payloadKeys);
  const relay = await startDeliveryRelay({
    db: database.db,
    timeZone: config.policy.calendar.timeZone,
    settings: config.delivery,
    logger,
  });
  logger.info(
    {
      notificationConcurrency: config.delivery.notificationConcurrency,
      perSubscription: config.delivery.perSubscription,
    },
    'delivery relay running',
  );
  // A send in flight takes at most the webhook timeout; then the connections close.
  closeWithGrace({ delay: config.delivery.webhookTimeoutMs + 10_000 }, async ({ err }) => {
    if (err) logger.error({ err }, 'relay stopping after an error');
    await relay.stop();
    await database.close();
    logger.info('delivery relay stopped');
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`relay failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
