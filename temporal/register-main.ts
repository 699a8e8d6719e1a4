import { Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { connectionOptions } from './connection';
import { registerSearchAttributes } from './register-search-attributes';
import { TICKET_SEARCH_ATTRIBUTES } from './search-attributes';

/** `npm run temporal:register`: adds Aftercare's search attributes to the configured namespace. */
async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await Connection.connect(connectionOptions(config.temporal));
  const added = await registerSearchAttributes(connection, config.temporal.namespace);
  const kept = TICKET_SEARCH_ATTRIBUTES.map((key) => key.name).filter((name) => !added.includes(name));
  process.stdout.write(
    `namespace ${config.temporal.namespace}: added [${added.join(', ')}], already present [${kept.join(', ')}]\n`,
  );
  await connection.close();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `registering search attributes failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
