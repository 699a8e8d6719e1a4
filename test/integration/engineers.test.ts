import { randomInt } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  releaseManualAssignment,
  reserveEngineer,
  reserveManualAssignment,
  upsertEngineer,
  type EngineerInput,
} from '../../db/engineer-store';
import { escalations, ticketAssignments, tickets } from '../../db/schema';
import type { DispatchNeeds } from '../../domain/dispatch';
import { uniqueTicketNumber } from '../support/fixtures';
import { ADMIN_KEY, AGENT_KEY, startApi, type ApiStack } from '../support/stack';

/** `/v1/engineers`, `/v1/escalations` and the dispatch reservation, against the real PostgreSQL. */
const tag = `${process.pid}-${randomInt(1e9)}`;
const ENGINEER_KEY = `test-engineer-key-${tag}`;
const QC_KEY = `test-qc-key-${tag}`;
let stack: ApiStack;

beforeAll(async () => {
  stack = await startApi({
    taskQueue: `engineers-${tag}`,
    policy: {},
    env: {
      API_KEYS: [
        `${ADMIN_KEY}:admin:ops-1`,
        `${AGENT_KEY}:agent:agent-7`,
        `${ENGINEER_KEY}:engineer:eng-1`,
        `${QC_KEY}:qc:qc-1`,
      ].join(','),
    },
  });
});

afterAll(async () => {
  await stack?.close();
});

const call = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>, key = ADMIN_KEY) =>
  stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });

/** A bare ticket row for assignments and escalations to point at; these tests never read its state. */
async function ticketRow(): Promise<string> {
  const number = uniqueTicketNumber();
  const now = new Date().toISOString();
  await stack.database.db.insert(tickets).values({
    number,
    version: 1,
    status: 'planned',
    channel: 'phone',
    category: 'fault',
    priority: 'normal',
    createdBy: 'agent-7',
    createdAt: now,
    updatedAt: now,
    state: sql`'{}'::jsonb`,
  });
  return number;
}

/** Engineers of a product line no other test uses, so only they can match. */
async function engineersFor(productLine: string, engineers: Record<string, Partial<EngineerInput>>) {
  for (const [id, overrides] of Object.entries(engineers)) {
    await upsertEngineer(stack.database.db, {
      id,
      name: id,
      skills: [productLine],
      regions: [],
      ...overrides,
    });
  }
}

const reserve = (
  ticketNumber: string,
  needs: DispatchNeeds,
  options: { attempt?: number; exclude?: string[] } = {},
) =>
  reserveEngineer(stack.database.db, {
    ticketNumber,
    attempt: options.attempt ?? 1,
    needs,
    exclude: options.exclude ?? [],
    assignedAt: new Date().toISOString(),
  });

const openLoadOf = async (id: string): Promise<number> =>
  (await call('GET', `/v1/engineers/${id}`)).json().openLoad;

describe('engineers API', () => {
  const id = `wang-${tag}`;
  const body = { id, name: '王工', skills: [`washer-${tag}`], regions: ['minhang'] };

  it('creates an engineer with 201, a location header and the defaults', async () => {
    const created = await call('POST', '/v1/engineers', body);
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe(`/v1/engineers/${id}`);
    expect(created.json()).toMatchObject({
      ...body,
      location: null,
      capacity: 3,
      active: true,
      openLoad: 0,
    });
  });

  it('replaces an engineer with the same id with 200, and stamps updatedAt', async () => {
    const before = (await call('GET', `/v1/engineers/${id}`)).json();
    const replaced = await call('POST', '/v1/engineers', {
      ...body,
      capacity: 5,
      location: { latitude: 31.1, longitude: 121.4 },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ capacity: 5, location: { latitude: 31.1, longitude: 121.4 } });
    expect(replaced.json().createdAt).toBe(before.createdAt);
    expect(Date.parse(replaced.json().updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
  });

  it('reads one engineer, and answers 404 for an unknown one', async () => {
    const found = await call('GET', `/v1/engineers/${id}`);
    expect(found.statusCode).toBe(200);
    expect(found.json()).toMatchObject({ id, name: '王工', skills: [`washer-${tag}`] });
    const unknown = await call('GET', `/v1/engineers/nobody-${tag}`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(unknown.json().detail).toBe(`no engineer nobody-${tag}`);
  });

  it('lists engineers filtered by skill, region and active', async () => {
    const skill = `dishwasher-${tag}`;
    await engineersFor(skill, {
      [`li-${tag}`]: { regions: ['pudong', 'minhang'] },
      [`zhao-${tag}`]: { regions: ['pudong'], active: false },
      [`sun-${tag}`]: { regions: ['xuhui'] },
    });
    const ids = async (query: string): Promise<string[]> =>
      (await call('GET', `/v1/engineers?${query}`))
        .json()
        .items.map((engineer: { id: string }) => engineer.id);
    expect(await ids(`skill=${skill}`)).toEqual([`li-${tag}`, `sun-${tag}`, `zhao-${tag}`]);
    expect(await ids(`skill=${skill}&region=pudong`)).toEqual([`li-${tag}`, `zhao-${tag}`]);
    expect(await ids(`skill=${skill}&region=pudong&active=true`)).toEqual([`li-${tag}`]);
    expect(await ids(`skill=${skill}&active=false`)).toEqual([`zhao-${tag}`]);
    expect(await ids(`skill=${skill}&region=elsewhere`)).toEqual([]);
  });

  it('counts the active ticket_assignments rows as the open load', async () => {
    const engineer = `load-${tag}`;
    await engineersFor(`oven-${tag}`, { [engineer]: {} });
    const assignment = async (active: boolean) => ({
      ticketNumber: await ticketRow(),
      engineerId: engineer,
      attempt: 1,
      active,
      assignedAt: new Date().toISOString(),
    });
    await stack.database.db
      .insert(ticketAssignments)
      .values([await assignment(true), await assignment(true), await assignment(false)]);
    expect(await openLoadOf(engineer)).toBe(2);
    const listed = (await call('GET', `/v1/engineers?skill=oven-${tag}`)).json().items;
    expect(listed).toMatchObject([{ id: engineer, openLoad: 2 }]);
  });

  it('answers 400 naming each field a bad body breaks', async () => {
    const bad = await call('POST', '/v1/engineers', {
      id: 'Bad Id!',
      name: 'x',
      skills: [],
      capacity: 51,
    });
    expect(bad.statusCode).toBe(400);
    const detail: string = bad.json().detail;
    expect(detail).toMatch(/body\.id: must be 1–64 characters/);
    expect(detail).toMatch(/body\.skills/);
    expect(detail).toMatch(/body\.capacity/);
    const tooLong = await call('POST', '/v1/engineers', { ...body, id: 'a'.repeat(65) });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().detail).toMatch(/body\.id/);
    const unknownField = await call('POST', '/v1/engineers', { ...body, phone: '13812345678' });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.json().detail).toMatch(/phone/);
    const badLocation = await call('POST', '/v1/engineers', {
      ...body,
      location: { latitude: 91, longitude: 0 },
    });
    expect(badLocation.statusCode).toBe(400);
    expect(badLocation.json().detail).toMatch(/body\.location\.latitude/);
    const badFilter = await call('GET', '/v1/engineers?active=yes');
    expect(badFilter.statusCode).toBe(400);
    expect(badFilter.json().detail).toMatch(/querystring\.active/);
  });

  it('answers 403 naming the role and what it may not do, when the role lacks the permission', async () => {
    const agentManages = await call('POST', '/v1/engineers', body, AGENT_KEY);
    expect(agentManages.statusCode).toBe(403);
    expect(agentManages.json().detail).toBe('role agent may not manage engineers');
    expect((await call('GET', '/v1/engineers', undefined, AGENT_KEY)).statusCode).toBe(200);
    const engineerReads = await call('GET', `/v1/engineers/${id}`, undefined, ENGINEER_KEY);
    expect(engineerReads.statusCode).toBe(403);
    expect(engineerReads.json().detail).toBe('role engineer may not read engineers');
  });
});

describe('dispatch reservation', () => {
  it('reserves the least-loaded matching engineer and counts the place', async () => {
    const line = `dryer-${tag}`;
    await engineersFor(line, { [`busy-${tag}`]: {}, [`idle-${tag}`]: {} });
    expect(await reserve(await ticketRow(), { productLine: line })).toBe(`busy-${tag}`);
    const second = await ticketRow();
    expect(await reserve(second, { productLine: line })).toBe(`idle-${tag}`);
    expect(await openLoadOf(`idle-${tag}`)).toBe(1);
    const [row] = await stack.database.db
      .select()
      .from(ticketAssignments)
      .where(sql`${ticketAssignments.ticketNumber} = ${second}`);
    expect(row).toMatchObject({ engineerId: `idle-${tag}`, attempt: 1, active: true });
  });

  it('never reserves past capacity: nobody left answers null', async () => {
    const line = `fridge-${tag}`;
    await engineersFor(line, { [`solo-${tag}`]: { capacity: 2 } });
    expect(await reserve(await ticketRow(), { productLine: line })).toBe(`solo-${tag}`);
    expect(await reserve(await ticketRow(), { productLine: line })).toBe(`solo-${tag}`);
    const third = await ticketRow();
    expect(await reserve(third, { productLine: line })).toBeNull();
    expect(await openLoadOf(`solo-${tag}`)).toBe(2);
    const rows = await stack.database.db
      .select()
      .from(ticketAssignments)
      .where(sql`${ticketAssignments.ticketNumber} = ${third}`);
    expect(rows).toEqual([]);
  });

  it('passes over the engineers who declined or stayed silent', async () => {
    const line = `heater-${tag}`;
    await engineersFor(line, { [`first-${tag}`]: {}, [`second-${tag}`]: {} });
    const number = await ticketRow();
    expect(await reserve(number, { productLine: line }, { exclude: [`first-${tag}`] })).toBe(`second-${tag}`);
    const everyone = [`first-${tag}`, `second-${tag}`];
    expect(await reserve(await ticketRow(), { productLine: line }, { exclude: everyone })).toBeNull();
  });

  it('gives a retried attempt the same engineer, and a new attempt moves the place', async () => {
    const line = `freezer-${tag}`;
    await engineersFor(line, { [`m-${tag}`]: {} });
    const number = await ticketRow();
    expect(await reserve(number, { productLine: line })).toBe(`m-${tag}`);
    // An engineer who sorts first now matches too; the retried attempt still answers as it did.
    await engineersFor(line, { [`a-${tag}`]: {} });
    expect(await reserve(number, { productLine: line })).toBe(`m-${tag}`);
    expect(await openLoadOf(`m-${tag}`)).toBe(1);

    // The engineer declined: the next attempt goes to the other one and frees the first place.
    expect(await reserve(number, { productLine: line }, { attempt: 2, exclude: [`m-${tag}`] })).toBe(
      `a-${tag}`,
    );
    expect(await openLoadOf(`m-${tag}`)).toBe(0);
    expect(await openLoadOf(`a-${tag}`)).toBe(1);

    // Both declined: nobody matches, the ticket's place is given up, and a retry agrees.
    const both = { attempt: 3, exclude: [`m-${tag}`, `a-${tag}`] };
    expect(await reserve(number, { productLine: line }, both)).toBeNull();
    expect(await openLoadOf(`a-${tag}`)).toBe(0);
    expect(await reserve(number, { productLine: line }, both)).toBeNull();
  });

  it("counts a ticket's own place as free when a new attempt weighs its engineer again", async () => {
    const line = `boiler-${tag}`;
    await engineersFor(line, { [`only-${tag}`]: { capacity: 1 } });
    const number = await ticketRow();
    expect(await reserve(number, { productLine: line })).toBe(`only-${tag}`);
    expect(await reserve(number, { productLine: line }, { attempt: 2 })).toBe(`only-${tag}`);
    expect(await openLoadOf(`only-${tag}`)).toBe(1);
  });

  it('gives 20 tickets dispatched at once exactly the 6 places two engineers of capacity 3 have', async () => {
    const line = `cooker-${tag}`;
    await engineersFor(line, { [`x-${tag}`]: {}, [`y-${tag}`]: {} });
    const numbers = await Promise.all(Array.from({ length: 20 }, () => ticketRow()));
    const chosen = await Promise.all(numbers.map((number) => reserve(number, { productLine: line })));
    expect(chosen.filter((id) => id === `x-${tag}`)).toHaveLength(3);
    expect(chosen.filter((id) => id === `y-${tag}`)).toHaveLength(3);
    expect(chosen.filter((id) => id === null)).toHaveLength(14);
    expect(await openLoadOf(`x-${tag}`)).toBe(3);
    expect(await openLoadOf(`y-${tag}`)).toBe(3);
  });
});

const assignManually = (ticketNumber: string, engineerId: string, overCapacity = false) =>
  reserveManualAssignment(stack.database.db, {
    ticketNumber,
    engineerId,
    overCapacity,
    attempt: 0,
    assignedAt: new Date().toISOString(),
  });

const assignmentOf = async (ticketNumber: string) =>
  (
    await stack.database.db
      .select({ engineerId: ticketAssignments.engineerId, active: ticketAssignments.active })
      .from(ticketAssignments)
      .where(sql`${ticketAssignments.ticketNumber} = ${ticketNumber}`)
  )[0];

describe('manual assign reservation', () => {
  it('gives 8 tickets assigned at once to an engineer of capacity 2 exactly its 2 places', async () => {
    const id = `manual-${tag}`;
    await engineersFor(`manual-line-${tag}`, { [id]: { capacity: 2 } });
    const numbers = await Promise.all(Array.from({ length: 8 }, () => ticketRow()));
    const answers = await Promise.all(numbers.map((number) => assignManually(number, id)));
    expect(answers.filter((answer) => answer === null)).toHaveLength(2);
    expect(answers.filter((answer) => answer !== null)).toEqual(
      Array.from({ length: 6 }, () =>
        expect.objectContaining({ kind: 'atCapacity', openLoad: 2, capacity: 2 }),
      ),
    );
    expect(await openLoadOf(id)).toBe(2);
  });

  it('counts the places automatic dispatch reserved, and dispatch counts its places', async () => {
    const line = `shared-line-${tag}`;
    const id = `shared-${tag}`;
    await engineersFor(line, { [id]: { capacity: 2 } });
    expect(await reserve(await ticketRow(), { productLine: line })).toBe(id);
    expect(await assignManually(await ticketRow(), id)).toBeNull();
    expect(await reserve(await ticketRow(), { productLine: line })).toBeNull();
    expect(await assignManually(await ticketRow(), id)).toMatchObject({ kind: 'atCapacity', openLoad: 2 });
    expect(await openLoadOf(id)).toBe(2);
  });

  it('refuses an unknown or inactive engineer, writing nothing; overCapacity reserves past capacity', async () => {
    const id = `full-${tag}`;
    await engineersFor(`full-line-${tag}`, { [id]: { capacity: 1 }, [`off-${tag}`]: { active: false } });
    const held = await ticketRow();
    expect(await assignManually(held, id)).toBeNull();
    // Assigned again to the engineer that holds it: the ticket is not counted against itself.
    expect(await assignManually(held, id)).toBeNull();
    expect(await openLoadOf(id)).toBe(1);

    const number = await ticketRow();
    expect(await assignManually(number, `nobody-${tag}`)).toEqual({
      kind: 'unknownEngineer',
      message: `engineerId: no active engineer "nobody-${tag}"`,
    });
    expect(await assignManually(number, `off-${tag}`)).toMatchObject({ kind: 'unknownEngineer' });
    expect(await assignManually(number, id)).toMatchObject({ kind: 'atCapacity', openLoad: 1, capacity: 1 });
    expect(await assignmentOf(number)).toBeUndefined();
    expect(await assignManually(number, id, true)).toBeNull();
    expect(await assignmentOf(number)).toEqual({ engineerId: id, active: true });
    expect(await openLoadOf(id)).toBe(2);
  });

  it("gives a refused assign's place back to what the ticket's state says, once", async () => {
    const [before, after] = [`before-${tag}`, `after-${tag}`];
    await engineersFor(`release-line-${tag}`, { [before]: { capacity: 1 }, [after]: { capacity: 1 } });
    const held = await ticketRow();
    expect(await assignManually(held, before)).toBeNull();
    // Reassigned: the place moves, and the assign is then refused while the state still names `before`.
    expect(await assignManually(held, after)).toBeNull();
    expect([await openLoadOf(before), await openLoadOf(after)]).toEqual([0, 1]);
    const release = { ticketNumber: held, engineerId: after, assignee: before, holds: true };
    expect(await releaseManualAssignment(stack.database.db, release)).toBe(true);
    expect(await assignmentOf(held)).toEqual({ engineerId: before, active: true });
    expect([await openLoadOf(before), await openLoadOf(after)]).toEqual([1, 0]);
    // A retried release finds the row no longer the reservation's: nothing changes.
    expect(await releaseManualAssignment(stack.database.db, release)).toBe(false);
    expect(await assignmentOf(held)).toEqual({ engineerId: before, active: true });

    // A ticket nobody held: its reserved place is let go.
    const fresh = await ticketRow();
    expect(await assignManually(fresh, after)).toBeNull();
    const none = { ticketNumber: fresh, engineerId: after, assignee: null, holds: false };
    expect(await releaseManualAssignment(stack.database.db, none)).toBe(true);
    expect(await assignmentOf(fresh)).toEqual({ engineerId: after, active: false });
    expect(await openLoadOf(after)).toBe(0);

    // A row another write took since (here another assign) is left alone.
    const taken = await ticketRow();
    expect(await assignManually(taken, after)).toBeNull();
    expect(await assignManually(taken, before, true)).toBeNull();
    const stale = { ticketNumber: taken, engineerId: after, assignee: null, holds: false };
    expect(await releaseManualAssignment(stack.database.db, stale)).toBe(false);
    expect(await assignmentOf(taken)).toEqual({ engineerId: before, active: true });
  });
});

describe('escalations listing', () => {
  const reasonA = `deadline_missed_${tag}`;
  const reasonB = `not_taken_up_${tag}`;
  let one: string;
  let two: string;
  // Ids in the order the API must list them: newest first, a tie in fire time by id descending.
  const expectedA = () => [
    `${two}:customerContact:1`,
    `${two}:callback:1`,
    `${one}:resolution:1`,
    `${one}:plan:1`,
    `${one}:firstResponse:1`,
  ];

  beforeAll(async () => {
    one = await ticketRow();
    two = await ticketRow();
    const row = (id: string, level: number, reason: string, firedAt: string) => ({
      id,
      ticketNumber: id.split(':')[0] ?? '',
      clock: id.split(':')[1] ?? '',
      level,
      reason,
      missedDeadline: firedAt,
      firedAt,
    });
    await stack.database.db.insert(escalations).values([
      {
        ...row(`${one}:firstResponse:1`, 1, reasonA, '2026-11-20T10:00:00.000Z'),
        acknowledgedAt: '2026-11-20T10:05:00.000Z',
        acknowledgedBy: 'sup-1',
      },
      row(`${one}:plan:1`, 1, reasonA, '2026-11-20T10:00:00.000Z'),
      {
        ...row(`${one}:resolution:1`, 1, reasonA, '2026-11-20T10:30:00.000Z'),
        supersededBy: `${one}:resolution:1:L2`,
      },
      row(`${one}:resolution:1:L2`, 2, reasonB, '2026-11-20T11:00:00.000Z'),
      // Two fired within one millisecond: a page may end between them.
      row(`${two}:callback:1`, 1, reasonA, '2026-11-20T12:00:00.123456Z'),
      row(`${two}:customerContact:1`, 1, reasonA, '2026-11-20T12:00:00.123789Z'),
    ]);
  });

  const list = async (query: string, key = ADMIN_KEY) => {
    const response = await call('GET', `/v1/escalations?${query}`, undefined, key);
    expect(response.statusCode).toBe(200);
    return response.json() as { items: Array<Record<string, unknown>>; nextCursor: string | null };
  };
  const ids = async (query: string) => (await list(query)).items.map((item) => item.id);

  it('lists an escalation with its level, reason, deadline, acknowledgement and climb', async () => {
    const { items } = await list(`ticket=${one}`);
    expect(items.map((item) => item.id)).toEqual([
      `${one}:resolution:1:L2`,
      `${one}:resolution:1`,
      `${one}:plan:1`,
      `${one}:firstResponse:1`,
    ]);
    expect(items[3]).toMatchObject({
      ticketNumber: one,
      clock: 'firstResponse',
      level: 1,
      reason: reasonA,
      missedDeadline: '2026-11-20T10:00:00.000Z',
      firedAt: '2026-11-20T10:00:00.000Z',
      acknowledgedAt: '2026-11-20T10:05:00.000Z',
      acknowledgedBy: 'sup-1',
      supersededBy: null,
      open: false,
    });
    expect(Date.parse(String(items[3]?.recordedAt))).not.toBeNaN();
    expect(items[1]).toMatchObject({
      supersededBy: `${one}:resolution:1:L2`,
      acknowledgedAt: null,
      open: false,
    });
  });

  it('filters by ticket, level and reason', async () => {
    expect(await ids(`ticket=${one}&level=2`)).toEqual([`${one}:resolution:1:L2`]);
    expect(await ids(`reason=${encodeURIComponent(reasonB)}`)).toEqual([`${one}:resolution:1:L2`]);
    expect(await ids(`ticket=${two}&level=2`)).toEqual([]);
  });

  it('filters by fire time: from inclusive, to exclusive', async () => {
    const window = 'firedFrom=2026-11-20T10:30:00Z&firedTo=2026-11-20T19:00:00%2B08:00';
    expect(await ids(`ticket=${one}&${window}`)).toEqual([`${one}:resolution:1`]);
  });

  it('calls an escalation open while nobody acknowledged it and it has not climbed', async () => {
    expect(await ids(`ticket=${one}&open=true`)).toEqual([`${one}:resolution:1:L2`, `${one}:plan:1`]);
    expect(await ids(`ticket=${one}&open=false`)).toEqual([`${one}:resolution:1`, `${one}:firstResponse:1`]);
  });

  it.each([1, 2, 5])('pages newest first, %i at a time, without skipping or repeating', async (limit) => {
    const seen: unknown[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(
        `reason=${encodeURIComponent(reasonA)}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(limit);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(seen).toEqual(expectedA());
    expect(pages).toBe(Math.ceil(expectedA().length / limit));
  });

  it('refuses a cursor it did not issue and bad filters, naming them', async () => {
    const cursor = await call('GET', '/v1/escalations?cursor=not-a-cursor');
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json().detail).toBe('querystring.cursor: is not a cursor this API returned');
    const forged = Buffer.from(JSON.stringify({ firedAt: 'yesterday', id: 'x' })).toString('base64url');
    expect((await call('GET', `/v1/escalations?cursor=${forged}`)).statusCode).toBe(400);
    for (const [query, field] of [
      ['level=4', 'querystring.level'],
      ['open=maybe', 'querystring.open'],
      ['firedFrom=yesterday', 'querystring.firedFrom'],
      ['limit=101', 'querystring.limit'],
    ] as const) {
      const response = await call('GET', `/v1/escalations?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json().detail).toMatch(field);
    }
  });

  it('lets qc read escalations but not an engineer', async () => {
    expect((await list(`ticket=${one}`, QC_KEY)).items).toHaveLength(4);
    const forbidden = await call('GET', '/v1/escalations', undefined, ENGINEER_KEY);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().detail).toBe('role engineer may not read escalations');
  });
});
