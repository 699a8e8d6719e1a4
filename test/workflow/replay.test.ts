import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../../worker/worker';
import { testDataConverter } from '../support/fixtures';

/**
 * The determinism guard: histories of complete lifecycles, recorded by `npm run histories:record`,
 * replayed against the current workflow code. A change that would break running tickets fails here.
 */
const HISTORIES = path.join(__dirname, '..', 'histories');
const files = readdirSync(HISTORIES).filter((file) => file.endsWith('.json'));

describe('replaying recorded ticket histories', () => {
  it('has the recorded lifecycles to replay', () => {
    expect(files).toEqual(
      expect.arrayContaining(['happy-path.json', 'unhappy-paths.json', 'cancelled.json']),
    );
  });

  it.each(files)('%s replays without nondeterminism', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')));
    await Worker.runReplayHistory(
      {
        workflowsPath: WORKFLOWS_PATH,
        bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES },
        dataConverter: testDataConverter,
        replayName: file,
      },
      history,
    );
  });
});
