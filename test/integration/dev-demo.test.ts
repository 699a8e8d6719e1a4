import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEV_ADMIN_KEY } from '../../config';
import { claimDataFolder, DATA_MARKER } from '../../dev/data-folder';
import { listening } from '../../dev/embedded-postgres';
import { ESCALATED_QUERY } from '../../dev/temporal-dev-server';
import { workflowIdOf } from '../../domain/ticket';
import { type DevProcess, freePort, startDev } from '../support/dev-process';

/**
 * `npm run dev -- --demo` as a user runs it (the supervisor with its embedded PostgreSQL, Temporal
 * dev server, worker, relay and API), on free ports and in a temporary data folder: within a
 * minute of "ready" an escalation is listed and findable in Temporal UI, a ticket waits for an
 * engineer's acceptance and one is closed with its callback; then Ctrl-C (SIGTERM) stops it all.
 */
const scratch = mkdtempSync(path.join(tmpdir(), 'aftercare-demo-'));
// As root, PostgreSQL runs as the postgres user, which must be able to enter the folder.
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('npm run dev -- --demo', () => {
  const dataDir = path.join(scratch, 'demo');
  let ports: { postgres: number; temporal: number; ui: number; api: number };
  let dev: DevProcess;
  let readyAt: number;
  let escalatedTicket: string;

  const get = async <T>(route: string): Promise<T> => {
    const response = await fetch(`http://127.0.0.1:${ports.api}${route}`, {
      headers: { authorization: `Bearer ${DEV_ADMIN_KEY}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };

  beforeAll(async () => {
    ports = {
      postgres: await freePort(),
      temporal: await freePort(),
      ui: await freePort(),
      api: await freePort(),
    };
    dev = startDev(['--demo'], {
      DEV_DATA_DIR: dataDir,
      DEV_POSTGRES_PORT: String(ports.postgres),
      DEV_TEMPORAL_PORT: String(ports.temporal),
      DEV_TEMPORAL_UI_PORT: String(ports.ui),
      PORT: String(ports.api),
    });
    await dev.waitFor('Aftercare is ready', 240_000);
    readyAt = Date.now();
  }, 300_000);

  afterAll(async () => {
    await dev?.stop();
  }, 120_000);

  it('lists an escalation in GET /v1/escalations within 60 s of "ready"', async ({ annotate }) => {
    type Escalation = { ticketNumber: string; level: number; reason: string };
    const first = await vi.waitFor(
      async () => {
        const { items } = await get<{ items: Escalation[] }>('/v1/escalations');
        expect(items.length).toBeGreaterThan(0);
        return items.at(-1)!;
      },
      { timeout: 60_000 - (Date.now() - readyAt), interval: 250 },
    );
    const seconds = (Date.now() - readyAt) / 1000;
    await annotate(`first escalation listed ${seconds.toFixed(1)} s after "ready"`);
    expect(seconds).toBeLessThan(60);
    expect(first).toMatchObject({ level: 1, reason: 'first_response_missed' });
    escalatedTicket = first.ticketNumber;
  }, 90_000);

  it('has a ticket waiting for an engineer to accept it, and one closed with its callback', async () => {
    await dev.waitFor('after a satisfied callback', 30_000);
    type Ticket = {
      number: string;
      externalRef?: string;
      assignee: string | null;
      callbacks: { complaint: boolean }[];
    };
    const assigned = await get<{ items: Ticket[] }>('/v1/tickets?status=assigned');
    expect(assigned.items).toContainEqual(
      expect.objectContaining({ externalRef: 'demo-waiting', assignee: expect.stringMatching(/^demo-/) }),
    );
    const closed = await get<{ items: Ticket[] }>('/v1/tickets?status=closed');
    const [ticket] = closed.items.filter((item) => item.externalRef === 'demo-closed');
    expect(ticket?.callbacks).toEqual([expect.objectContaining({ complaint: false })]);
    // The data folder is the demo's, marked as such.
    expect(JSON.parse(readFileSync(path.join(dataDir, DATA_MARKER), 'utf8'))).toEqual({ kind: 'demo' });
  });

  it('prints a Temporal UI link whose search lists the escalated ticket', async () => {
    const link = /Escalated\s+(\S+)/.exec(dev.output())?.[1];
    expect(link).toBeDefined();
    const url = new URL(link!);
    expect(url.origin).toBe(`http://localhost:${ports.ui}`);
    expect(url.pathname).toBe('/namespaces/default/workflows');
    expect(url.searchParams.get('query')).toBe(ESCALATED_QUERY);
    expect((await fetch(`http://127.0.0.1:${ports.ui}${url.pathname}${url.search}`)).status).toBe(200);
    // The search Temporal UI runs for that page.
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      const client = new Client({ connection });
      await vi.waitFor(
        async () => {
          const found: string[] = [];
          for await (const workflow of client.workflow.list({ query: ESCALATED_QUERY })) {
            found.push(workflow.workflowId);
          }
          expect(found).toContain(workflowIdOf(escalatedTicket));
        },
        { timeout: 15_000, interval: 500 },
      );
    } finally {
      await connection.close();
    }
  });

  it("prints each worker and API event as one line prefixed with its role, the SDK's included", () => {
    const lines = dev.output().split('\n');
    const event = /^\[(worker|api|relay)\] +\d\d:\d\d:\d\d\.\d{3} (DEBUG|INFO|WARN|ERROR|FATAL): /;
    const roleLines = lines.filter((line) => /^\[(worker|api|relay)\]/.test(line));
    expect(roleLines.filter((line) => !event.test(line))).toEqual([]);
    expect(lines).toContainEqual(expect.stringMatching(/^\[worker\] \S+ INFO: worker running \{/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^\[worker\] \S+ INFO: Worker state changed \{.*"state":"RUNNING"/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^\[api\] +\S+ INFO: Server listening at /));
  });

  it('stops every process it started on SIGTERM', async () => {
    expect(await dev.stop()).toBe(0);
    expect(dev.output()).toContain('stopped');
    for (const port of Object.values(ports)) expect(await listening(port)).toBe(false);
  }, 120_000);
});

describe('the data folder marker', () => {
  /** Starts npm run dev on free ports; the exit code once it stops by itself (or is stopped after 30 s). */
  async function refusedRun(args: string[], env: Record<string, string>) {
    const run = startDev(args, {
      DEV_POSTGRES_PORT: String(await freePort()),
      DEV_TEMPORAL_PORT: String(await freePort()),
      DEV_TEMPORAL_UI_PORT: String(await freePort()),
      PORT: String(await freePort()),
      ...env,
    });
    const code = await Promise.race([run.exited, sleep(30_000).then(() => run.stop())]);
    return { code, output: run.output() };
  }

  it('--demo refuses a folder of development data, and npm run dev the demo folder', async () => {
    const development = path.join(scratch, 'development');
    claimDataFolder(development, 'development');
    const demoRun = await refusedRun(['--demo'], { DEV_DATA_DIR: development });
    expect(demoRun).toMatchObject({ code: 1 });
    expect(demoRun.output).toContain(
      `${development} holds development data: --demo never puts its sample tickets there`,
    );

    const demo = path.join(scratch, 'demo-only');
    claimDataFolder(demo, 'demo');
    const developmentRun = await refusedRun([], { DEV_DATA_DIR: demo });
    expect(developmentRun).toMatchObject({ code: 1 });
    expect(developmentRun.output).toContain(`${demo} holds the demo's sample data`);
  }, 150_000);

  it('--demo refuses external services, another SLA policy file, and unknown options', async () => {
    const external = await refusedRun(['--demo'], {
      DEV_DATA_DIR: path.join(scratch, 'never-made'),
      DATABASE_URL: 'postgres://someone:secret@127.0.0.1:5432/theirs',
    });
    expect(external).toMatchObject({ code: 1 });
    expect(external.output).toContain(
      '--demo keeps its sample data in its own embedded PostgreSQL and Temporal',
    );
    expect(external.output).toContain('unset DATABASE_URL');

    const withPolicy = await refusedRun(['--demo'], {
      DEV_DATA_DIR: path.join(scratch, 'never-made'),
      SLA_POLICY_FILE: path.join(scratch, 'policy.json'),
    });
    expect(withPolicy).toMatchObject({ code: 1 });
    expect(withPolicy.output).toContain('--demo brings its own short clocks');
    expect(withPolicy.output).toContain('unset SLA_POLICY_FILE');
    const typo = await refusedRun(['--dmeo'], { DEV_DATA_DIR: path.join(scratch, 'never-made') });
    expect(typo).toMatchObject({ code: 1 });
    expect(typo.output).toContain("Unknown option '--dmeo'");
    // Refused before anything was made.
    expect(existsSync(path.join(scratch, 'never-made'))).toBe(false);
  }, 150_000);
});
