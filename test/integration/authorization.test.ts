import { randomInt } from 'node:crypto';
import { WorkflowUpdateFailedError, WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import type { TransactionSql } from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DISPATCH_LOCK } from '../../db/engineer-store';
import { ticketAssignments } from '../../db/schema';
import { createDataConverter } from '../../temporal/data-converter';
import { ROLES, workflowIdOf, type Actor, type Role, type TicketState } from '../../domain/ticket';
import type { ActionName, ActionPayload } from '../../domain/lifecycle';
import type { ticketWorkflow } from '../../workflows';
import {
  actionUpdates,
  FAILURE_AT_CAPACITY,
  FAILURE_FORBIDDEN,
  FAILURE_ILLEGAL_TRANSITION,
  FAILURE_INVALID_INPUT,
  ticketStateQuery,
  type ActionUpdate,
} from '../../workflows/messages';
import { serviceRecord } from '../support/fixtures';
import { startApi, type ApiStack } from '../support/stack';
import { runWorkerFor } from '../support/temporal';

/**
 * Who may act is decided inside the ticket's workflow too (issue 23, item 2): an Update sent straight
 * to Temporal — past the API, as anyone who reaches the frontend or Temporal UI could — obeys the
 * same role and scope table as the API, with the same words, and writes nothing when refused.
 */
const taskQueue = `authorization-${process.pid}`;
const tag = `${process.pid}-${randomInt(1e9)}`;
const LINE = `washer-${tag}`;
const REGION = `minhang-${tag}`;
const ENGINEERS = { e1: `auth-e1-${tag}`, e2: `auth-e2-${tag}` };
const KEYS = {
  admin: `auth-admin-${tag}`,
  agent: `auth-agent-${tag}`,
  supervisor: `auth-supervisor-${tag}`,
  client: `auth-client-${tag}`,
  e1: `auth-e1-${tag}`,
  e2: `auth-e2-${tag}`,
};
type Who = keyof typeof KEYS;
const ACTORS: Record<Who, Actor> = {
  admin: { id: 'ops-1', role: 'admin' },
  agent: { id: 'agent-7', role: 'agent' },
  supervisor: { id: 'sup-1', role: 'supervisor' },
  client: { id: `shop-${tag}`, role: 'client' },
  e1: { id: ENGINEERS.e1, role: 'engineer' },
  e2: { id: ENGINEERS.e2, role: 'engineer' },
};
const plan = { measures: 'Replace the pump', department: 'field-service', customerConfirmed: true };

let stack: ApiStack;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  stack = await startApi({
    taskQueue,
    policy: {},
    env: {
      API_KEYS: (Object.keys(KEYS) as Who[])
        .map((who) => `${KEYS[who]}:${ACTORS[who].role}:${ACTORS[who].id}`)
        .join(','),
    },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  for (const id of Object.values(ENGINEERS)) {
    const response = await call('admin', 'POST', '/v1/engineers', {
      id,
      name: `Engineer ${id}`,
      skills: [LINE],
      regions: [REGION],
      capacity: 50,
    });
    expect([200, 201]).toContain(response.statusCode);
  }
});

afterAll(async () => {
  await stopWorker?.();
  await stack?.close();
});

async function call(who: Who, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) {
  return stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${KEYS[who]}` } });
}

async function act(who: Who, number: string, action: ActionName, payload: Record<string, unknown> = {}) {
  const response = await call(who, 'POST', `/v1/tickets/${number}/${action}`, payload);
  if (response.statusCode !== 200) throw new Error(`${action}: ${response.statusCode} ${response.body}`);
  return response.json();
}

/** A ticket the client created, planned without automatic dispatch: waiting for a manual assign. */
async function plannedTicket(): Promise<string> {
  const created = await call('client', 'POST', '/v1/tickets', {
    channel: 'app',
    category: 'fault',
    priority: 'normal',
    customer: { name: '王五', phone: `137${randomInt(10_000_000, 99_999_999)}`, region: REGION },
    product: { model: 'XQG-100', line: LINE, serialNumber: `SN-${randomInt(1e9)}` },
    description: 'Does not drain',
  });
  expect(created.statusCode).toBe(201);
  const number: string = created.json().number;
  await act('agent', number, 'acknowledge');
  await act('supervisor', number, 'plan', { ...plan, dispatch: false });
  return number;
}

/** A planned ticket offered to `engineerId` by hand. */
async function ticketAssignedTo(engineerId: string): Promise<string> {
  const number = await plannedTicket();
  await act('supervisor', number, 'assign', { engineerId });
  return number;
}

const handleOf = (number: string): WorkflowHandle<typeof ticketWorkflow> =>
  stack.temporal.workflow.getHandle(workflowIdOf(number));

/** An Update sent straight to the ticket's workflow, as the API would send it but without the API. */
function direct<A extends ActionName>(number: string, action: A, input: ActionPayload<A>, actor: Actor) {
  return handleOf(number).executeUpdate(actionUpdates[action] as ActionUpdate<A>, {
    args: [{ actor, input }],
  });
}

/** The refusal a direct Update met: its failure type and message. */
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

/** Holds the locks `take` takes, in a transaction of its own, until `release`. */
async function hold(
  take: (tx: TransactionSql) => Promise<unknown>,
): Promise<{ release: () => void; lock: Promise<unknown> }> {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked = () => {};
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const lock = stack.database.db.$client.begin(async (tx) => {
    await take(tx);
    locked();
    await released;
  });
  await isLocked;
  return { release, lock };
}

/** Holds the ticket's projection row until `release`: the workflow's writes wait, reads do not. */
const lockProjection = (number: string) =>
  hold((tx) => tx`select 1 from tickets where number = ${number} for update`);

/** The ticket's version in its workflow and in the PostgreSQL projection. */
async function versions(number: string): Promise<{ workflow: number; projection: number }> {
  const state = await handleOf(number).query(ticketStateQuery);
  const projection = (await call('admin', 'GET', `/v1/tickets/${number}`)).json().version as number;
  return { workflow: state.version, projection };
}

describe('a lifecycle Update sent straight to Temporal', () => {
  it('as an engineer on another engineer’s ticket is refused, and nothing is written', async () => {
    const number = await ticketAssignedTo(ENGINEERS.e1);
    const before = await versions(number);
    expect(await refusal(direct(number, 'accept', {}, ACTORS.e2))).toEqual({
      type: FAILURE_FORBIDDEN,
      message: 'an engineer acts only on the tickets assigned to it',
    });
    expect(await refusal(direct(number, 'resolve', serviceRecord, ACTORS.e2))).toEqual({
      type: FAILURE_FORBIDDEN,
      message: 'an engineer acts only on the tickets assigned to it',
    });
    // Through the API the ticket is not even visible to that engineer.
    expect((await call('e2', 'POST', `/v1/tickets/${number}/accept`, {})).statusCode).toBe(404);
    expect(await versions(number)).toEqual(before);
    // The engineer it is assigned to may.
    expect((await direct(number, 'accept', {}, ACTORS.e1)).status).toBe('accepted');
  });

  it('as a client, even on the ticket it created, is refused with the API’s own words', async () => {
    const number = await ticketAssignedTo(ENGINEERS.e1);
    const before = await versions(number);
    for (const [action, input] of [
      ['cancel', { reason: 'changed my mind' }],
      ['resolve', serviceRecord],
    ] as const) {
      const viaApi = await call('client', 'POST', `/v1/tickets/${number}/${action}`, input);
      expect(viaApi.statusCode).toBe(403);
      expect(await refusal(direct(number, action, input, ACTORS.client))).toEqual({
        type: FAILURE_FORBIDDEN,
        message: viaApi.json().detail,
      });
    }
    expect(await versions(number)).toEqual(before);
  });

  it('with a made-up role is refused, and nothing is written', async () => {
    const number = await ticketAssignedTo(ENGINEERS.e1);
    const before = await versions(number);
    const actor = { id: 'ops-1', role: 'superuser' as Role };
    expect(await refusal(direct(number, 'cancel', { reason: 'x' }, actor))).toEqual({
      type: FAILURE_FORBIDDEN,
      message: `the actor's role is not one of ${ROLES.join(', ')}`,
    });
    expect(await versions(number)).toEqual(before);
  });

  it('with someone else’s director plan is refused with the API’s own words', async () => {
    const number = await ticketAssignedTo(ENGINEERS.e1);
    const before = await versions(number);
    const input = { ...plan, kind: 'director' as const };
    const viaApi = await call('supervisor', 'POST', `/v1/tickets/${number}/plan`, input);
    expect(viaApi.statusCode).toBe(403);
    expect(await refusal(direct(number, 'plan', input, ACTORS.supervisor))).toEqual({
      type: FAILURE_FORBIDDEN,
      message: viaApi.json().detail,
    });
    expect(await versions(number)).toEqual(before);
  });
});

describe('an engineer reassigned away', () => {
  it('is refused at once, while the projection still names it (403, not applied)', async () => {
    const number = await ticketAssignedTo(ENGINEERS.e1);
    // Hold the projection's row, so the reassignment is applied in the workflow but its write waits:
    // PostgreSQL lags the workflow, as it can for a moment after any Update.
    const { release, lock } = await lockProjection(number);
    try {
      const reassign = await handleOf(number).startUpdate(actionUpdates.assign, {
        args: [{ actor: ACTORS.supervisor, input: { engineerId: ENGINEERS.e2 } }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      const projected = (await call('admin', 'GET', `/v1/tickets/${number}`)).json();
      expect(projected.assignee).toBe(ENGINEERS.e1);

      const late = await call('e1', 'POST', `/v1/tickets/${number}/accept`, {});
      expect(late.statusCode).toBe(403);
      expect(late.json().detail).toBe('an engineer acts only on the tickets assigned to it');

      release();
      await lock;
      expect(await reassign.result()).toMatchObject({ status: 'assigned', assignee: ENGINEERS.e2 });
    } finally {
      release();
      await lock.catch(() => undefined);
    }
    const events = (await call('admin', 'GET', `/v1/tickets/${number}/events`)).json().events;
    expect(events.map((event: { type: string }) => event.type)).not.toContain('accepted');
    const state = await handleOf(number).query(ticketStateQuery);
    expect(state).toMatchObject({ status: 'assigned', assignee: ENGINEERS.e2 });
    expect(await versions(number)).toEqual({ workflow: state.version, projection: state.version });
  }, 60_000);
});

describe('a manual assign to an engineer at capacity', () => {
  it('is a 409 naming its load and capacity, through the API and straight to Temporal alike', async () => {
    const engineerId = `auth-full-${tag}`;
    const created = await call('admin', 'POST', '/v1/engineers', {
      id: engineerId,
      name: 'Full engineer',
      skills: [LINE],
      regions: [REGION],
      capacity: 1,
    });
    expect(created.statusCode).toBe(201);
    const first = await ticketAssignedTo(engineerId);
    // Assigning the ticket it already holds again does not count that ticket twice.
    expect((await act('supervisor', first, 'assign', { engineerId })).assignee).toBe(engineerId);

    const number = await plannedTicket();
    const before = await versions(number);
    const viaApi = await call('supervisor', 'POST', `/v1/tickets/${number}/assign`, { engineerId });
    expect(viaApi.statusCode).toBe(409);
    const message = `engineer ${engineerId} already holds 1 open tickets, its capacity is 1; send "overCapacity": true to assign it anyway`;
    expect(viaApi.json()).toMatchObject({
      title: 'Engineer at capacity',
      detail: message,
      openLoad: 1,
      capacity: 1,
    });
    expect(await refusal(direct(number, 'assign', { engineerId }, ACTORS.supervisor))).toEqual({
      type: FAILURE_AT_CAPACITY,
      message,
    });
    expect(await versions(number)).toEqual(before);

    // An engineer that does not exist: the API's words, straight to Temporal too.
    const unknown = await call('supervisor', 'POST', `/v1/tickets/${number}/assign`, {
      engineerId: 'nobody',
    });
    expect(unknown.statusCode).toBe(422);
    expect(await refusal(direct(number, 'assign', { engineerId: 'nobody' }, ACTORS.supervisor))).toEqual({
      type: FAILURE_INVALID_INPUT,
      message: unknown.json().detail,
    });
    expect(await versions(number)).toEqual(before);

    // Knowingly past capacity: assigned, and the timeline says so.
    const overloaded = await act('supervisor', number, 'assign', { engineerId, overCapacity: true });
    expect(overloaded).toMatchObject({ status: 'assigned', assignee: engineerId });
    const events = (await call('admin', 'GET', `/v1/tickets/${number}/events`)).json().events;
    expect(events.filter((event: { type: string }) => event.type === 'assigned').at(-1)).toMatchObject({
      data: { engineerId, how: 'manual', overCapacity: true },
    });
    expect((await call('admin', 'GET', `/v1/engineers/${engineerId}`)).json().openLoad).toBe(2);

    // And straight to Temporal, with the same override.
    const third = await plannedTicket();
    const state = await direct(third, 'assign', { engineerId, overCapacity: true }, ACTORS.supervisor);
    expect(state).toMatchObject({ status: 'assigned', assignee: engineerId });
  }, 60_000);
});

/** An engineer of the test's product line and region, with `capacity` places. */
async function engineerWith(id: string, capacity: number): Promise<void> {
  const created = await call('admin', 'POST', '/v1/engineers', {
    id,
    name: `Engineer ${id}`,
    skills: [LINE],
    regions: [REGION],
    capacity,
  });
  expect(created.statusCode).toBe(201);
}

const openLoadOf = async (engineerId: string): Promise<number> =>
  (await call('admin', 'GET', `/v1/engineers/${engineerId}`)).json().openLoad;

describe('manual assigns of several tickets to one engineer at the same moment', () => {
  it('through the API: exactly its free places are taken, the others are 409 at capacity', async () => {
    // Rounds of capacity N and N + 1 tickets, so a check that only reads the load meets the race.
    for (const capacity of [1, 2, 3]) {
      const engineerId = `race-${capacity}-${tag}`;
      await engineerWith(engineerId, capacity);
      const numbers = await Promise.all(Array.from({ length: capacity + 1 }, () => plannedTicket()));
      const answers = await Promise.all(
        numbers.map((number) => call('supervisor', 'POST', `/v1/tickets/${number}/assign`, { engineerId })),
      );
      const codes = answers.map((answer) => answer.statusCode).sort();
      expect(codes).toEqual([...Array.from({ length: capacity }, () => 200), 409]);
      const refused = answers.find((answer) => answer.statusCode === 409);
      expect(refused?.json()).toMatchObject({ title: 'Engineer at capacity', openLoad: capacity, capacity });
      expect(await openLoadOf(engineerId)).toBe(capacity);
    }
  }, 120_000);

  it('straight to Temporal: one takes the last place, the other is refused at capacity', async () => {
    const engineerId = `race-direct-${tag}`;
    await engineerWith(engineerId, 1);
    const numbers = await Promise.all([plannedTicket(), plannedTicket()]);
    const settled = await Promise.allSettled(
      numbers.map((number) => direct(number, 'assign', { engineerId }, ACTORS.supervisor)),
    );
    expect(settled.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = settled.find((outcome) => outcome.status === 'rejected');
    expect(await refusal(Promise.reject(rejected?.reason))).toEqual({
      type: FAILURE_AT_CAPACITY,
      message: `engineer ${engineerId} already holds 1 open tickets, its capacity is 1; send "overCapacity": true to assign it anyway`,
    });
    expect(await openLoadOf(engineerId)).toBe(1);
  }, 60_000);
});

describe('a manual assign whose ticket moves on while its engineer is checked', () => {
  it('is refused as an illegal transition, and the ticket goes on', async () => {
    const number = await plannedTicket();
    const handle = handleOf(number);
    const accepted = { waitForStage: WorkflowUpdateStage.ACCEPTED } as const;
    // A note whose write waits on the held row keeps the ticket's I/O busy, so the assign's engineer
    // check queues behind it while a cancel, validated later, applies at once.
    const { release, lock } = await lockProjection(number);
    try {
      const note = await handle.startUpdate(actionUpdates.note, {
        args: [{ actor: ACTORS.agent, input: { text: 'Customer called' } }],
        ...accepted,
      });
      const assign = await handle.startUpdate(actionUpdates.assign, {
        args: [{ actor: ACTORS.supervisor, input: { engineerId: ENGINEERS.e1 } }],
        ...accepted,
      });
      const cancel = await handle.startUpdate(actionUpdates.cancel, {
        args: [{ actor: ACTORS.agent, input: { reason: 'Customer fixed it' } }],
        ...accepted,
      });
      release();
      await lock;
      expect(await refusal(assign.result())).toEqual({
        type: FAILURE_ILLEGAL_TRANSITION,
        message: 'cannot assign a ticket that is cancelled; allowed now: none',
      });
      expect((await note.result()).status).toBe('planned');
      expect((await cancel.result()).status).toBe('cancelled');
    } finally {
      release();
      await lock.catch(() => undefined);
    }
    expect((await handle.result()).assignee).toBeNull();
    const events = (await call('admin', 'GET', `/v1/tickets/${number}/events`)).json().events;
    expect(events.map((event: { type: string }) => event.type)).not.toContain('assigned');
  }, 90_000);
});

describe('a manual assign refused after it reserved its engineer', () => {
  it('gives the place back before the refusal answers, not only with the next write', async () => {
    const engineerId = `given-back-${tag}`;
    await engineerWith(engineerId, 1);
    const number = await plannedTicket();
    const handle = handleOf(number);
    const accepted = { waitForStage: WorkflowUpdateStage.ACCEPTED } as const;
    // The ticket's row is held against writes but not against the place's reference to it, so the
    // cancel's write waits; the dispatch lock makes the assign's reservation wait until the cancel
    // has applied.
    const projection = await hold(
      (tx) => tx`select 1 from tickets where number = ${number} for no key update`,
    );
    try {
      const dispatch = await hold((tx) => tx`select pg_advisory_xact_lock(${DISPATCH_LOCK})`);
      const start = async () => {
        const assign = await handle.startUpdate(actionUpdates.assign, {
          args: [{ actor: ACTORS.supervisor, input: { engineerId } }],
          ...accepted,
        });
        const cancel = await handle.startUpdate(actionUpdates.cancel, {
          args: [{ actor: ACTORS.agent, input: { reason: 'Customer fixed it' } }],
          ...accepted,
        });
        return { assign, cancel };
      };
      const { assign, cancel } = await start().finally(async () => {
        dispatch.release();
        await dispatch.lock;
      });
      expect(await refusal(assign.result())).toEqual({
        type: FAILURE_ILLEGAL_TRANSITION,
        message: 'cannot assign a ticket that is cancelled; allowed now: none',
      });
      // The cancel's write still waits on the row: only the release freed the place.
      const [place] = await stack.database.db
        .select({ engineerId: ticketAssignments.engineerId, active: ticketAssignments.active })
        .from(ticketAssignments)
        .where(eq(ticketAssignments.ticketNumber, number));
      expect(place).toEqual({ engineerId, active: false });
      expect(await openLoadOf(engineerId)).toBe(0);
      projection.release();
      await projection.lock;
      expect((await cancel.result()).status).toBe('cancelled');
    } finally {
      projection.release();
      await projection.lock.catch(() => undefined);
    }
    expect(await openLoadOf(engineerId)).toBe(0);
    // The reservation, the refusal and the release replay as they ran.
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: inject('workflowBundlePath') },
        dataConverter: createDataConverter(stack.config.payloadKeys),
      },
      await handle.fetchHistory(),
    );
  }, 90_000);
});
