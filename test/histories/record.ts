import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { runLifecycles } from './lifecycles';

/**
 * `npm run histories:record`: runs the complete ticket lifecycles and writes their histories to
 * test/histories/, which the replay test replays against the current workflow code. Re-record only
 * when a change is meant to be incompatible (and then version it).
 */
async function main(): Promise<void> {
  for (const [name, history] of Object.entries(await runLifecycles())) {
    const file = path.join(__dirname, `${name}.json`);
    writeFileSync(file, `${historyToJSON(history)}\n`);
    process.stdout.write(`recorded ${path.relative(process.cwd(), file)}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `recording failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
