import { randomInt } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escalations } from '../../db/schema';
import { AGENT_OWN_TICKETS_ONLY } from '../../domain/access';
import type { ActionName, ActionPayload } from '../../domain/lifecycle';
import { workflowIdOf, type Actor, type TicketState } from '../../domain/ticket';
import type { ticketWorkflow } from '../../workflows';
import {
  actionUpdates,
  FAILURE_FORBIDDEN,
  ticketStateQuery,
  type ActionUpdate,
} from '../../workflows/messages';
import { startApi, type ApiStack } from '../support/stack';
import { runWorkerFor } from '../support/temporal';

/**
 * Seed 002 (客服仅可查看/编辑负责工单) as a policy switch: under `agentScope: "own"` an agent acts only
 * on the tickets it acknowledged (or is assigned), through the API (403 naming the rule) and straight
 * to the ticket's workflow alike (its Update validator asks the same rule), and nothing is written.
 */
const taskQueue = `agent-scope-${process.pid}`;
const tag = `${process.pid}-${randomInt(1e9)}`;
/** This file's own product model: tickets it writes rows for by hand stay out of other files' counts by model. */
const MODEL = `KFR-SCP-${randomInt(1e9)}`;
const KEYS = {
  admin: `scope-admin-${tag}`,
  mine: `scope-agent-a-${tag}`,
  other: `scope-agent-b-${tag}`,
  supervisor: `scope-supervisor-${tag}`,
};
type Who = keyof typeof KEYS;
const ACTORS: Record<Who, Actor> = {
  admin: { id: 'ops-1', role: 'admin' },
  mine: { id: 'agent-a', role: 'agent' },
  other: { id: 'agent-b', role: 'agent' },
  supervisor: { id: 'sup-1', role: 'supervisor' },
};

let stack: ApiStack;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  stack = await startApi({
    taskQueue,
    policy: { agentScope: 'own' },
    env: {
      API_KEYS: (Object.keys(KEYS) as Who[])
        .map((who) => `${KEYS[who]}:${ACTORS[who].role}:${ACTORS[who].id}`)
        .join(','),
    },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
});

afterAll(async () => {
  await stopWorker?.();
  await stack?.close();
});

function call(who: Who, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) {
  return stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${KEYS[who]}` } });
}

async function openTicket(
  who: Who = 'mine',
  { phone, serialNumber }: { phone?: string; serialNumber?: string } = {},
): Promise<string> {
  const created = await call(who, 'POST', '/v1/tickets', {
    channel: 'phone',
    category: 'fault',
    priority: 'normal',
    customer: { name: '赵六', phone: phone ?? `136${randomInt(10_000_000, 99_999_999)}` },
    product: { model: MODEL, serialNumber: serialNumber ?? `SN-${randomInt(1e9)}` },
    description: 'Not cooling',
  });
  expect(created.statusCode).toBe(201);
  return created.json().number as string;
}

const handleOf = (number: string): WorkflowHandle<typeof ticketWorkflow> =>
  stack.temporal.workflow.getHandle(workflowIdOf(number));

function direct<A extends ActionName>(number: string, action: A, input: ActionPayload<A>, actor: Actor) {
  return handleOf(number).executeUpdate(actionUpdates[action] as ActionUpdate<A>, {
    args: [{ actor, input }],
  });
}

async function refusal(update: Promise<TicketState>): Promise<{ type?: string; message: string }> {
  const error = await update.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const failure = (error as WorkflowUpdateFailedError).cause;
  expect(failure).toBeInstanceOf(ApplicationFailure);
  return { type: (failure as ApplicationFailure).type ?? undefined, message: (failure as Error).message };
}

describe('agentScope "own": an agent acts only on its own tickets', () => {
  it('refuses another agent (403 naming the rule on a new ticket, 404 on a taken one) and a direct Update with the rule; nothing written', async () => {
    const number = await openTicket();
    // Nobody has taken it: the other agent may not note it, only acknowledge it.
    const early = await call('other', 'POST', `/v1/tickets/${number}/note`, { text: 'me too' });
    expect(early.statusCode).toBe(403);
    expect(early.json()).toMatchObject({ status: 403, title: 'Forbidden', detail: AGENT_OWN_TICKETS_ONLY });

    expect((await call('mine', 'POST', `/v1/tickets/${number}/acknowledge`, {})).statusCode).toBe(200);
    const before = (await handleOf(number).query(ticketStateQuery)).version;

    // Through the API the other agent's ticket does not exist for it (the read rule, see below);
    // straight to the workflow the refusal names the rule.
    const viaApi = await call('other', 'POST', `/v1/tickets/${number}/cancel`, { reason: 'duplicate' });
    expect(viaApi.statusCode).toBe(404);
    expect(viaApi.json()).toMatchObject({ status: 404, detail: `no ticket ${number}` });
    expect(await refusal(direct(number, 'cancel', { reason: 'duplicate' }, ACTORS.other))).toEqual({
      type: FAILURE_FORBIDDEN,
      message: AGENT_OWN_TICKETS_ONLY,
    });
    const after = await handleOf(number).query(ticketStateQuery);
    expect(after).toMatchObject({ version: before, status: 'acknowledged' });
    expect((await call('admin', 'GET', `/v1/tickets/${number}`)).json().version).toBe(before);
  });

  it('lets the agent who acknowledged the ticket, and a supervisor, act on it', async () => {
    const number = await openTicket();
    expect((await call('mine', 'POST', `/v1/tickets/${number}/acknowledge`, {})).statusCode).toBe(200);
    const noted = await call('mine', 'POST', `/v1/tickets/${number}/note`, { text: 'called back' });
    expect(noted.statusCode).toBe(200);
    const cancelled = await call('supervisor', 'POST', `/v1/tickets/${number}/cancel`, { reason: 'dup' });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
  });
});

describe('agentScope "own": an agent sees only its own tickets and the queue (客服仅可查看负责工单)', () => {
  // Tickets of this describe share a serial-number prefix (the list's `q`) and a customer (the file).
  const serial = `SCOPE-${tag}`;
  const phone = `137${randomInt(10_000_000, 99_999_999)}`;
  let taken: string;
  let queued: string;
  let alsoTaken: string;

  type Page = { items: Array<{ number: string; customerId: string }>; nextCursor: string | null };
  const numbers = (page: Page) => page.items.map((item) => item.number);

  async function page(who: Who, url: string): Promise<Page> {
    const response = await call(who, 'GET', url);
    expect(response.statusCode).toBe(200);
    return response.json() as Page;
  }

  /** Every page of a list at `limit=1`, so a page the scope filtered after the query would show. */
  async function walk(who: Who, url: string): Promise<{ numbers: string[]; pages: number }> {
    const seen: string[] = [];
    let pages = 0;
    let cursor: string | null = null;
    do {
      const next: Page = await page(who, `${url}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      pages += 1;
      seen.push(...numbers(next));
      cursor = next.nextCursor;
    } while (cursor);
    return { numbers: seen, pages };
  }

  beforeAll(async () => {
    // Opened oldest first: `taken`, `queued`, `alsoTaken`; agent A takes the first and the last.
    taken = await openTicket('supervisor', { phone, serialNumber: `${serial}-1` });
    queued = await openTicket('supervisor', { phone, serialNumber: `${serial}-2` });
    alsoTaken = await openTicket('supervisor', { phone, serialNumber: `${serial}-3` });
    for (const number of [taken, alsoTaken]) {
      expect((await call('mine', 'POST', `/v1/tickets/${number}/acknowledge`, {})).statusCode).toBe(200);
    }
  });

  it("answers another agent's ticket and each of its sub-resources with 404, as if it did not exist", async () => {
    for (const url of [
      `/v1/tickets/${taken}`,
      `/v1/tickets/${taken}/events`,
      `/v1/tickets/${taken}/notifications`,
      `/v1/tickets/${taken}/parts`,
    ]) {
      const response = await call('other', 'GET', url);
      expect(response.statusCode, url).toBe(404);
      expect(response.json()).toMatchObject({ status: 404, detail: `no ticket ${taken}` });
      expect((await call('mine', 'GET', url)).statusCode, url).toBe(200);
      expect((await call('supervisor', 'GET', url)).statusCode, url).toBe(200);
    }
    // The same answer as for a number that was never issued, bar the number itself.
    const missing = await call('other', 'GET', `/v1/tickets/WO20000101-999`);
    const hidden = await call('other', 'GET', `/v1/tickets/${taken}`);
    expect(hidden.json()).toEqual({
      ...missing.json(),
      detail: `no ticket ${taken}`,
      instance: `/v1/tickets/${taken}`,
    });
  });

  it('leaves them out of the list and the customer file in SQL: every page full, cursors exact', async () => {
    const other = await walk('other', `/v1/tickets?q=${serial}`);
    expect(other).toEqual({ numbers: [queued], pages: 1 });
    expect((await walk('mine', `/v1/tickets?q=${serial}`)).numbers).toEqual([alsoTaken, queued, taken]);
    for (const who of ['supervisor', 'admin'] as const) {
      expect(numbers(await page(who, `/v1/tickets?q=${serial}`))).toEqual([alsoTaken, queued, taken]);
    }

    const { customerId } = (await page('admin', `/v1/tickets?q=${serial}-1`)).items[0] ?? {};
    expect(customerId).toMatch(/^c_/);
    const file = `/v1/customers/${customerId}/tickets?`;
    expect(await walk('other', file)).toEqual({ numbers: [queued], pages: 1 });
    expect(numbers(await page('admin', file))).toEqual([alsoTaken, queued, taken]);
  });

  it('leaves their escalations out of the escalation list', async () => {
    const firedAt = new Date().toISOString();
    await stack.database.db.insert(escalations).values(
      [taken, queued].map((number) => ({
        id: `${number}:scopeTest:1`,
        ticketNumber: number,
        clock: 'scopeTest',
        level: 1,
        reason: `scope-${tag}`,
        missedDeadline: firedAt,
        firedAt,
      })),
    );
    const tickets = async (who: Who) =>
      (await page(who, `/v1/escalations?reason=scope-${tag}`)).items.map(
        (item) => (item as unknown as { ticketNumber: string }).ticketNumber,
      );
    expect(await tickets('other')).toEqual([queued]);
    expect((await tickets('mine')).sort()).toEqual([taken, queued].sort());
    expect((await tickets('supervisor')).sort()).toEqual([taken, queued].sort());
  });

  it('lets another agent take an unacknowledged ticket, which then leaves the first agent’s view', async () => {
    expect((await call('other', 'GET', `/v1/tickets/${queued}`)).statusCode).toBe(200);
    const acknowledged = await call('other', 'POST', `/v1/tickets/${queued}/acknowledge`, {});
    expect(acknowledged.statusCode).toBe(200);
    expect(acknowledged.json()).toMatchObject({ number: queued, status: 'acknowledged' });
    expect((await call('mine', 'GET', `/v1/tickets/${queued}`)).statusCode).toBe(404);
    expect((await walk('mine', `/v1/tickets?q=${serial}`)).numbers).toEqual([alsoTaken, taken]);
    expect((await walk('other', `/v1/tickets?q=${serial}`)).numbers).toEqual([queued]);
    expect(numbers(await page('admin', `/v1/tickets?q=${serial}`))).toEqual([alsoTaken, queued, taken]);
  });
});
