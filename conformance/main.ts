import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_KEY, startApi, startRelay, startServices, startWorker, type Role } from '../bench/stack';
import { ensureSchemathesis } from './schemathesis';

/**
 * `npm run conformance`: does the API answer what its OpenAPI document says? Schemathesis reads
 * /openapi.json and sends generated requests, valid and invalid, with an admin key, to the real
 * stack — the API, the worker and the delivery relay on a throwaway embedded PostgreSQL and Temporal
 * dev server — and runs its default checks on every answer: no 5xx, only documented status codes,
 * content types, headers and bodies, valid input accepted, invalid input refused, authentication
 * enforced where it is declared. Exits non-zero on any failure.
 */
const { values } = parseArgs({
  options: {
    'max-examples': { type: 'string', default: '10' },
  },
});
const CONFORMANCE_ENGINEER = 'conformance-engineer';
const say = (line: string) => process.stdout.write(`[conformance] ${line}\n`);

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** The engineer `assign` names (hooks.py): generated ids name no one, and that is a 422, rightly. */
async function seedEngineer(url: string): Promise<void> {
  const response = await fetch(`${url}/v1/engineers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: CONFORMANCE_ENGINEER, name: 'Conformance', skills: ['any'], capacity: 50 }),
  });
  if (!response.ok)
    throw new Error(`seeding the engineer failed: ${response.status} ${await response.text()}`);
}

async function main(): Promise<number> {
  const schemathesis = await ensureSchemathesis(say);
  say('starting PostgreSQL, Temporal, the worker, the relay and the API');
  const services = await startServices('source');
  const roles: Role[] = [];
  try {
    roles.push(await startWorker(services), await startRelay(services));
    const api = await startApi(services, {});
    roles.push(api);
    say(`API on ${api.url}`);
    await seedEngineer(api.url ?? '');
    const started = Date.now();
    const status = await run(
      schemathesis.command,
      [
        ...schemathesis.args,
        ...['--config-file', path.join(__dirname, 'schemathesis.toml')],
        'run',
        `${api.url}/openapi.json`,
        ...['--header', `Authorization: Bearer ${BENCH_KEY}`],
        ...['--max-examples', values['max-examples']],
        // Every run starts afresh: no example database left in the checkout.
        ...['--generation-database', 'none'],
      ],
      { ...schemathesis.env, SCHEMATHESIS_HOOKS: path.join(__dirname, 'hooks.py') },
    );
    say(`Schemathesis finished in ${((Date.now() - started) / 1000).toFixed(0)} s: exit code ${status}`);
    return status;
  } finally {
    for (const role of roles.reverse()) await role.stop();
    await services.stop();
  }
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`[conformance] failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
