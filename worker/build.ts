import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../temporal/binaries';
import { SHARED_WORKFLOW_MODULES } from './worker';

/**
 * `npm run build`, after `tsc -p tsconfig.build.json`: bundles the workflow code once (so a
 * production worker starts without webpack) and copies the migrations beside the compiled code.
 */
async function main(): Promise<void> {
  const dist = path.join(PROJECT_ROOT, 'dist');
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(PROJECT_ROOT, 'workflows', 'index.ts'),
    preloadModules: SHARED_WORKFLOW_MODULES,
  });
  mkdirSync(dist, { recursive: true });
  writeFileSync(path.join(dist, 'workflow-bundle.js'), code);
  cpSync(path.join(PROJECT_ROOT, 'db', 'migrations'), path.join(dist, 'db', 'migrations'), {
    recursive: true,
  });
  process.stdout.write(
    `built dist/workflow-bundle.js (${Math.round(code.length / 1024)} KiB) and dist/db/migrations\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `build failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
