import { loadConfig, requireDatabaseUrl } from '../config';
import { applyMigrations } from './migrate';

/** The deployment's one-shot migration step (the API also migrates at start, under the same lock). */
const config = loadConfig();
applyMigrations(requireDatabaseUrl(config), config.payloadKeys)
  .then(() => process.stdout.write('migrations applied\n'))
  .catch((error: unknown) => {
    process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
