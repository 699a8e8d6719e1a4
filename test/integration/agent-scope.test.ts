import { randomInt } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

async function openTicket(): Promise<string> {
  const created = await call('mine', 'POST', '/v1/tickets', {
    channel: 'phone',
    category: 'fault',
    priority: 'normal',
    customer: { name: '赵六', phone: `136${randomInt(10_000_000, 99_999_999)}` },
    product: { model: 'KFR-35GW', serialNumber: `SN-${randomInt(1e9)}` },
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
  it('refuses another agent with 403 naming the rule, and a direct Update with the same words; nothing written', async () => {
    const number = await openTicket();
    // Nobody has taken it: the other agent may not note it, only acknowledge it.
    const early = await call('other', 'POST', `/v1/tickets/${number}/note`, { text: 'me too' });
    expect(early.statusCode).toBe(403);
    expect(early.json()).toMatchObject({ status: 403, title: 'Forbidden', detail: AGENT_OWN_TICKETS_ONLY });

    expect((await call('mine', 'POST', `/v1/tickets/${number}/acknowledge`, {})).statusCode).toBe(200);
    const before = (await handleOf(number).query(ticketStateQuery)).version;

    const viaApi = await call('other', 'POST', `/v1/tickets/${number}/cancel`, { reason: 'duplicate' });
    expect(viaApi.statusCode).toBe(403);
    expect(viaApi.json().detail).toBe(
      'agentScope "own": an agent acts only on the tickets it acknowledged or is assigned',
    );
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
