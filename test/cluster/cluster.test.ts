import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEV_ADMIN_KEY } from '../../config';
import { DATA_MARKER } from '../../dev/data-folder';
import { randomServerPort } from '../../dev/temporal-cluster';
import { listening } from '../../dev/embedded-postgres';
import { ESCALATED_QUERY } from '../../dev/temporal-dev-server';
import { workflowIdOf } from '../../domain/ticket';
import { PROJECT_ROOT } from '../../temporal/binaries';
import { TEMPORAL_SERVER_VERSION } from '../../temporal/server-binaries';
import { type DevProcess, freePort, startDev } from '../support/dev-process';

/**
 * `npm run cluster` as a user runs it (CI's smoke test of the production engine; `npm run
 * test:cluster`): the compiled code, two workers, the real Temporal server on the embedded
 * PostgreSQL. An unacknowledged ticket escalates once, on time; the runbook's search finds it on
 * SQL visibility; Ctrl-C stops everything in order, and a second start resumes with the ticket.
 */
const FIRST_RESPONSE_SECONDS = 8;
const scratch = mkdtempSync(path.join(tmpdir(), 'aftercare-cluster-'));
// As root, PostgreSQL runs as the postgres user, which must be able to enter the folder.
chmodSync(scratch, 0o755);
const dataDir = path.join(scratch, 'cluster');
const policyFile = path.join(scratch, 'policy.json');
writeFileSync(
  policyFile,
  JSON.stringify({ firstResponse: `${FIRST_RESPONSE_SECONDS}s`, escalationStep: '1h' }),
);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A free frontend port whose membership ports (300 below) fit the server's smallint column. */
async function serverPort(): Promise<number> {
  for (;;) {
    const port = randomServerPort();
    const taken = await Promise.all([0, 1, 2, 6, 10].map((offset) => listening(port + offset)));
    if (!taken.some(Boolean)) return port;
  }
}

describe('npm run cluster', () => {
  let ports: { postgres: number; temporal: number; ui: number; api: number };
  let cluster: DevProcess;
  const start = () =>
    startDev(['--cluster'], {
      DEV_DATA_DIR: dataDir,
      DEV_POSTGRES_PORT: String(ports.postgres),
      DEV_TEMPORAL_PORT: String(ports.temporal),
      DEV_TEMPORAL_UI_PORT: String(ports.ui),
      PORT: String(ports.api),
      SLA_POLICY_FILE: policyFile,
    });
  const call = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const response = await fetch(`http://127.0.0.1:${ports.api}${route}`, {
      method,
      headers: { authorization: `Bearer ${DEV_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(response.status).toBeLessThan(300);
    return (await response.json()) as T;
  };
  type Ticket = {
    number: string;
    escalations: { level: number; missedDeadline: string; firedAt: string }[];
  };
  let number: string;

  beforeAll(async () => {
    ports = {
      postgres: await freePort(),
      temporal: await serverPort(),
      ui: await freePort(),
      api: await freePort(),
    };
    // What `npm run cluster` does before it starts the supervisor.
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: PROJECT_ROOT, stdio: 'ignore' });
    cluster = start();
    // The first start on a machine builds the Temporal server and UI into .tools/ (minutes).
    await cluster.waitFor('Ctrl-C stops everything.', 600_000);
  }, 660_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 120_000);

  it('runs the real Temporal server on PostgreSQL, with the compiled code and two workers', () => {
    expect(cluster.output()).toContain(
      `Engine       Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL`,
    );
    expect(cluster.output()).toContain('history in PostgreSQL (temporal, temporal_visibility)');
    expect(cluster.output()).toMatch(/\[worker-1\].*worker running/);
    expect(cluster.output()).toMatch(/\[worker-2\].*worker running/);
    expect(JSON.parse(readFileSync(path.join(dataDir, DATA_MARKER), 'utf8'))).toEqual({ kind: 'cluster' });
  });

  it('escalates an unacknowledged ticket once, on time', async ({ annotate }) => {
    const created = await call<Ticket>('POST', '/v1/tickets', {
      channel: 'phone',
      category: 'fault',
      priority: 'normal',
      customer: { name: '张三', phone: '13800001111' },
      description: 'cluster smoke test',
    });
    number = created.number;
    const escalated = await vi.waitFor(
      async () => {
        const ticket = await call<Ticket>('GET', `/v1/tickets/${number}`);
        expect(ticket.escalations).toHaveLength(1);
        return ticket;
      },
      { timeout: (FIRST_RESPONSE_SECONDS + 20) * 1000, interval: 250 },
    );
    const [escalation] = escalated.escalations;
    const latenessMs = Date.parse(escalation!.firedAt) - Date.parse(escalation!.missedDeadline);
    await annotate(`escalated ${latenessMs} ms after its deadline`);
    expect(escalation?.level).toBe(1);
    expect(latenessMs).toBeGreaterThanOrEqual(0);
    expect(latenessMs).toBeLessThan(2_000);
    // Once: a few seconds later it is still the one escalation, and one row in the API's list.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await call<Ticket>('GET', `/v1/tickets/${number}`)).escalations).toHaveLength(1);
    const { items } = await call<{ items: { ticketNumber: string }[] }>('GET', '/v1/escalations');
    expect(items.filter((item) => item.ticketNumber === number)).toHaveLength(1);
  }, 60_000);

  it("finds it with the runbook's searches on SQL visibility, and serves Temporal UI", async () => {
    const runbook = readFileSync(path.join(PROJECT_ROOT, 'docs', 'operators.md'), 'utf8');
    const queries = [...runbook.matchAll(/^\| [^|]+\| `([^`]+)`/gm)].map(([, query]) =>
      query!.replace('c_…', 'c_0'),
    );
    expect(queries.length).toBeGreaterThanOrEqual(6);
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      const client = new Client({ connection });
      const list = async (query: string) => {
        const found: string[] = [];
        for await (const workflow of client.workflow.list({ query })) found.push(workflow.workflowId);
        return found;
      };
      await vi.waitFor(async () => expect(await list(ESCALATED_QUERY)).toContain(workflowIdOf(number)), {
        timeout: 15_000,
        interval: 500,
      });
      // Every query of the runbook's table is one SQL visibility runs; ORDER BY, as the runbook says, is not.
      for (const query of queries) await expect(list(query), query).resolves.toBeInstanceOf(Array);
      const refused = await list(`${ESCALATED_QUERY} ORDER BY NextDeadline`).catch((error: Error) => error);
      expect(refused).toBeInstanceOf(Error);
      expect(String((refused as Error).cause)).toContain("'ORDER BY' clause");
    } finally {
      await connection.close();
    }
    const settings = await fetch(`http://127.0.0.1:${ports.ui}/api/v1/settings`);
    expect(settings.status).toBe(200);
    // Read-only, as the compose file runs it.
    expect(await settings.json()).toMatchObject({ DisableWriteActions: true });
  });

  it('stops everything on Ctrl-C, and a second start resumes with the ticket', async () => {
    cluster.child.kill('SIGINT');
    expect(await cluster.exited).toBe(0);
    expect(cluster.output()).toContain('stopping Temporal UI and server');
    for (const port of [ports.postgres, ports.temporal, ports.ui, ports.api]) {
      expect(await listening(port)).toBe(false);
    }
    cluster = start();
    await cluster.waitFor('Ctrl-C stops everything.', 180_000);
    const ticket = await call<Ticket>('GET', `/v1/tickets/${number}`);
    expect(ticket.escalations).toHaveLength(1);
  }, 240_000);
});
