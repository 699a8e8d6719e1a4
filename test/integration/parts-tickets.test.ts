import { randomInt } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { settleReservations, upsertLocation } from '../../db/parts-store';
import { serviceRecord } from '../support/fixtures';
import { startApi, type ApiStack } from '../support/stack';
import { runWorkerFor } from '../support/temporal';

/**
 * Tickets use parts through HTTP on the real stack (PostgreSQL, the Temporal dev server, the real
 * worker): a requisition reserves stock nearest first, resolve issues what was used and returns the
 * rest, cancel releases it all; the ledger and on hand agree at every step.
 */
const tag = `${process.pid}-${randomInt(1e9)}`;
const LINE = `aircon-${tag}`;
const REGION = `minhang-${tag}`;
const ENGINEER = `eng-${tag}`;
const KEYS = {
  admin: `pt-admin-${tag}`,
  agent: `pt-agent-${tag}`,
  parts: `pt-parts-${tag}`,
  manager: `pt-manager-${tag}`,
  engineer: `pt-engineer-${tag}`,
};
type Who = keyof typeof KEYS;
const WAREHOUSE = `wh-${tag}`;
const VAN = `van-${tag}`;
let stack: ApiStack;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  stack = await startApi({
    taskQueue: `parts-tickets-${tag}`,
    policy: { qcSampleRate: 0 },
    env: {
      API_KEYS: [
        `${KEYS.admin}:admin:ops-1`,
        `${KEYS.agent}:agent:agent-7`,
        `${KEYS.parts}:parts:parts-1`,
        `${KEYS.manager}:manager:mgr-1`,
        `${KEYS.engineer}:engineer:${ENGINEER}`,
      ].join(','),
    },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  const engineer = await call('admin', 'POST', '/v1/engineers', {
    id: ENGINEER,
    name: '李工',
    skills: [LINE],
    regions: [REGION],
  });
  expect(engineer.statusCode).toBe(201);
  await upsertLocation(stack.database.db, { id: WAREHOUSE, kind: 'warehouse', name: '中心仓' });
  await upsertLocation(stack.database.db, { id: VAN, kind: 'van', name: '李工的车', engineerId: ENGINEER });
});

afterAll(async () => {
  await stopWorker?.();
  await stack?.close();
});

function call(
  who: Who,
  method: 'GET' | 'POST',
  url: string,
  payload?: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return stack.app.inject({
    method,
    url,
    payload,
    headers: { authorization: `Bearer ${KEYS[who]}`, ...headers },
  });
}

async function act(who: Who, number: string, action: string, payload: Record<string, unknown> = {}) {
  const response = await call(who, 'POST', `/v1/tickets/${number}/${action}`, payload);
  if (response.statusCode !== 200) throw new Error(`${action}: ${response.statusCode} ${response.body}`);
  return response.json();
}

async function newPart(
  stock: Record<string, number> = {},
  catalogue: Record<string, unknown> = {},
): Promise<string> {
  const partNumber = `P-${randomInt(1e9)}`;
  const created = await call('parts', 'POST', '/v1/parts', {
    partNumber,
    name: '风扇电容',
    specification: '25uF/450V',
    productLines: [LINE],
    unitCost: 3_000,
    unitPrice: 5_000,
    ...catalogue,
  });
  expect(created.statusCode).toBe(201);
  for (const [locationId, accepted] of Object.entries(stock)) {
    const receipt = await call('parts', 'POST', '/v1/stock/receipts', {
      partNumber,
      locationId: WAREHOUSE,
      accepted,
      reference: 'PO-1',
    });
    expect(receipt.statusCode).toBe(201);
    if (locationId !== WAREHOUSE) {
      const transfer = await call('parts', 'POST', '/v1/stock/transfers', {
        partNumber,
        from: WAREHOUSE,
        to: locationId,
        quantity: accepted,
      });
      expect(transfer.statusCode).toBe(201);
    }
  }
  return partNumber;
}

/** Each location's on hand and reserved, read from the levels and checked against the ledger. */
async function stockOf(partNumber: string): Promise<Record<string, { onHand: number; reserved: number }>> {
  const rows = await stack.database.db.execute<{
    location_id: string;
    on_hand: number;
    reserved: number;
    ledger: number;
    held: number;
  }>(sql`
    select l.location_id, l.on_hand, l.reserved,
           (select coalesce(sum(m.quantity), 0)::int from stock_movements m
            where m.part_number = l.part_number and m.location_id = l.location_id and m.status = 'applied') as ledger,
           (select coalesce(sum(r.quantity), 0)::int from part_reservations r
            where r.part_number = l.part_number and r.location_id = l.location_id
              and r.status in ('reserved', 'awaiting_approval')) as held
    from stock_levels l where l.part_number = ${partNumber} order by l.location_id`);
  for (const row of rows) {
    expect(row.on_hand, `${row.location_id} on hand = ledger`).toBe(row.ledger);
    expect(row.reserved, `${row.location_id} reserved = open reservations`).toBe(row.held);
  }
  return Object.fromEntries(
    rows.map((row) => [row.location_id, { onHand: row.on_hand, reserved: row.reserved }]),
  );
}

async function newTicket(model = 'KFR-35GW'): Promise<string> {
  const response = await call('agent', 'POST', '/v1/tickets', {
    channel: 'phone',
    category: 'fault',
    priority: 'normal',
    customer: { name: '张三', phone: `139${randomInt(10_000_000, 99_999_999)}`, region: REGION },
    product: {
      model,
      line: LINE,
      serialNumber: `SN-${randomInt(1e9)}`,
      purchaseDate: '2026-03-15',
    },
    description: '外机风扇不转',
  });
  expect(response.statusCode).toBe(201);
  return response.json().number;
}

/** A ticket in service with this file's engineer. */
async function ticketInService(model?: string): Promise<string> {
  const number = await newTicket(model);
  await act('agent', number, 'acknowledge');
  await act('agent', number, 'plan', {
    measures: '更换电容',
    department: 'field-service',
    customerConfirmed: true,
  });
  await vi.waitFor(
    async () => {
      const ticket = (await call('admin', 'GET', `/v1/tickets/${number}`)).json();
      expect(ticket.status).toBe('assigned');
    },
    { timeout: 15_000, interval: 100 },
  );
  await act('engineer', number, 'accept');
  await act('engineer', number, 'start', { mode: 'onsite' });
  return number;
}

describe('parts for tickets', () => {
  it('reserves nearest first, proposes what is short, and issues what the resolve used', async () => {
    const capacitor = await newPart({ [WAREHOUSE]: 8, [VAN]: 2 });
    const motor = await newPart();
    const number = await ticketInService();
    const body = {
      lines: [
        { partNumber: capacitor, quantity: 3 },
        { partNumber: motor, quantity: 1 },
      ],
    };
    const headers = { 'idempotency-key': `req-${tag}` };
    const requested = await call('engineer', 'POST', `/v1/tickets/${number}/parts-request`, body, headers);
    expect(requested.statusCode, requested.body).toBe(201);
    expect(requested.json()).toMatchObject({
      ticketNumber: number,
      reservations: [
        {
          partNumber: capacitor,
          locationId: VAN,
          quantity: 2,
          status: 'reserved',
          freeUnderWarranty: true,
          charged: 0,
        },
        { partNumber: capacitor, locationId: WAREHOUSE, quantity: 1, status: 'reserved' },
      ],
      shortfalls: [{ partNumber: motor, quantity: 1, proposals: [{ kind: 'purchase', quantity: 1 }] }],
    });
    // The shortfall starts the waiting-for-parts clock (policy partsWait, 2 business days).
    const waiting = (await call('admin', 'GET', `/v1/tickets/${number}`)).json();
    expect(waiting.sla.partsWait).toMatchObject({ duration: '2bd', metAt: null, breached: false });
    const repeated = await call('engineer', 'POST', `/v1/tickets/${number}/parts-request`, body, headers);
    expect(repeated.headers['idempotent-replayed']).toBe('true');
    expect(repeated.json()).toEqual(requested.json());
    expect(await stockOf(capacitor)).toEqual({
      [VAN]: { onHand: 2, reserved: 2 },
      [WAREHOUSE]: { onHand: 8, reserved: 1 },
    });

    const resolved = await act('engineer', number, 'resolve', {
      ...serviceRecord,
      parts: [{ partNumber: capacitor, quantity: 2, unitPriceFen: 5_000, oldPartDisposition: 'recycled' }],
    });
    expect(resolved.status).toBe('resolved');
    expect(resolved.sla.partsWait.metAt).not.toBeNull();
    const settled = (await call('engineer', 'GET', `/v1/tickets/${number}/parts`)).json().items;
    expect(settled).toMatchObject([
      { locationId: VAN, status: 'issued', issuedQuantity: 2, oldPartDisposition: 'recycled' },
      { locationId: WAREHOUSE, status: 'released', issuedQuantity: 0, oldPartDisposition: null },
    ]);
    expect(await stockOf(capacitor)).toEqual({
      [VAN]: { onHand: 0, reserved: 0 },
      [WAREHOUSE]: { onHand: 8, reserved: 0 },
    });
    const issues = await call('parts', 'GET', `/v1/stock/movements?ticket=${number}`);
    expect(issues.json().items).toMatchObject([
      {
        kind: 'issue',
        partNumber: capacitor,
        locationId: VAN,
        quantity: -2,
        value: 6_000,
        actorId: ENGINEER,
      },
    ]);
    const late = await call('engineer', 'POST', `/v1/tickets/${number}/parts-request`, {
      lines: [{ partNumber: capacitor, quantity: 1 }],
    });
    expect(late.statusCode).toBe(409);
    expect(late.json().detail).toBe(
      `ticket ${number} is resolved; parts are requested before it is resolved`,
    );
  });

  it('releases everything a cancelled ticket held, once, whoever settles it again', async () => {
    const partNumber = await newPart({ [WAREHOUSE]: 5 });
    const number = await newTicket();
    await act('agent', number, 'acknowledge');
    const requested = await call('agent', 'POST', `/v1/tickets/${number}/parts-request`, {
      lines: [{ partNumber, quantity: 2 }],
    });
    expect(requested.json().reservations).toMatchObject([{ locationId: WAREHOUSE, quantity: 2 }]);
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 5, reserved: 2 } });
    await act('agent', number, 'cancel', { reason: '客户自行修好' });
    const [reservation] = (await call('agent', 'GET', `/v1/tickets/${number}/parts`)).json().items;
    expect(reservation).toMatchObject({ status: 'released', issuedQuantity: 0 });
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 5, reserved: 0 } });
    // A retried settlement (the same key, or any later one) finds nothing left to settle.
    const again = await settleReservations(stack.database.db, {
      ticketNumber: number,
      outcome: 'issue',
      used: { [partNumber]: 2 },
      dispositions: {},
      key: `parts:${number}:retry`,
      actorId: 'ops-1',
    });
    expect(again).toMatchObject({ issued: 0, released: 0 });
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 5, reserved: 0 } });
  });

  it('a changed plan releases what it no longer needs, once, and stops waiting for what it dropped', async () => {
    const capacitor = await newPart({ [WAREHOUSE]: 8, [VAN]: 2 });
    const motor = await newPart();
    const number = await ticketInService();
    const requested = await call('engineer', 'POST', `/v1/tickets/${number}/parts-request`, {
      lines: [
        { partNumber: capacitor, quantity: 4 },
        { partNumber: motor, quantity: 1 },
      ],
    });
    expect(requested.json().shortfalls).toMatchObject([{ partNumber: motor, quantity: 1 }]);
    expect(await stockOf(capacitor)).toEqual({
      [VAN]: { onHand: 2, reserved: 2 },
      [WAREHOUSE]: { onHand: 8, reserved: 2 },
    });
    const plan = { measures: '只换一个电容', department: 'field-service', customerConfirmed: true };
    // The new plan needs 3 capacitors and no motor: the newest capacitor (the warehouse's second) is
    // released, the motor no longer awaited, and the waiting-for-parts clock stops.
    const replanned = await act('agent', number, 'plan', {
      ...plan,
      parts: [{ partNumber: capacitor, quantity: 3 }],
    });
    expect(replanned.sla.partsWait.metAt).not.toBeNull();
    expect(await stockOf(capacitor)).toEqual({
      [VAN]: { onHand: 2, reserved: 2 },
      [WAREHOUSE]: { onHand: 8, reserved: 1 },
    });
    const held = (await call('engineer', 'GET', `/v1/tickets/${number}/parts`)).json().items;
    expect(
      held.map((row: { locationId: string; quantity: number; status: string }) => [
        row.locationId,
        row.quantity,
        row.status,
      ]),
    ).toEqual([
      [VAN, 2, 'reserved'],
      [WAREHOUSE, 1, 'reserved'],
      [WAREHOUSE, 1, 'released'],
    ]);
    const timeline = (await call('admin', 'GET', `/v1/tickets/${number}/events`)).json().events;
    const released = timeline.filter((event: { type: string }) => event.type === 'parts_released');
    expect(released).toMatchObject([
      {
        actorId: 'agent-7',
        data: {
          reason: 'plan_changed',
          released: [{ partNumber: capacitor, quantity: 1 }],
          withdrawn: [{ partNumber: motor, quantity: 1 }],
        },
      },
    ]);
    expect(timeline.at(-1).type).toBe('parts_ready');
    // The same plan again lets nothing else go and records nothing; a plan without parts keeps them.
    await act('agent', number, 'plan', { ...plan, parts: [{ partNumber: capacitor, quantity: 3 }] });
    await act('agent', number, 'plan', plan);
    expect(await stockOf(capacitor)).toEqual({
      [VAN]: { onHand: 2, reserved: 2 },
      [WAREHOUSE]: { onHand: 8, reserved: 1 },
    });
    const after = (await call('admin', 'GET', `/v1/tickets/${number}/events`)).json().events;
    expect(after.filter((event: { type: string }) => event.type === 'parts_released')).toHaveLength(1);
    // A plan that needs no parts releases all of them; the ledger never moved.
    await act('agent', number, 'plan', { ...plan, parts: [] });
    expect(await stockOf(capacitor)).toEqual({
      [VAN]: { onHand: 2, reserved: 0 },
      [WAREHOUSE]: { onHand: 8, reserved: 0 },
    });
    const ledger = (await call('parts', 'GET', `/v1/stock/movements?partNumber=${capacitor}`)).json().items;
    expect(ledger.map((row: { kind: string }) => row.kind)).toEqual([
      'receipt',
      'receipt',
      'transfer_out',
      'transfer_in',
    ]);
    const bad = await call('agent', 'POST', `/v1/tickets/${number}/plan`, {
      ...plan,
      parts: [{ partNumber: 'no spaces', quantity: 1 }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('parts');
    await act('engineer', number, 'resolve', { ...serviceRecord, parts: [] });
  });

  it('stock arriving serves waiting tickets, oldest first, each unit once under concurrent receipts', async () => {
    const partNumber = await newPart();
    const acknowledged = async () => {
      const number = await newTicket();
      await act('agent', number, 'acknowledge');
      return number;
    };
    // The last one is its engineer's: its van comes first.
    const waiting = [await acknowledged(), await acknowledged(), await ticketInService()];
    const cancelled = await newTicket();
    await act('agent', cancelled, 'acknowledge');
    for (const number of [waiting[0], cancelled, waiting[1], waiting[2]]) {
      const requested = await call('agent', 'POST', `/v1/tickets/${number ?? ''}/parts-request`, {
        lines: [{ partNumber, quantity: 2 }],
      });
      expect(requested.json().shortfalls).toMatchObject([{ partNumber, quantity: 2 }]);
    }
    await act('agent', cancelled, 'cancel', { reason: '客户取消' });
    const receive = (accepted: number, key: string) =>
      call(
        'parts',
        'POST',
        '/v1/stock/receipts',
        { partNumber, locationId: WAREHOUSE, accepted, reference: 'PO-2' },
        { 'idempotency-key': `${key}-${tag}` },
      );
    const receipts = await Promise.all([receive(3, 'a'), receive(2, 'b')]);
    expect(receipts.map((receipt) => receipt.statusCode)).toEqual([201, 201]);
    // Five units for three tickets waiting for two each: the two oldest get theirs, the third one.
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 5, reserved: 5 } });
    const heldBy = async (number: string) =>
      (await call('agent', 'GET', `/v1/tickets/${number}/parts`))
        .json()
        .items.reduce((sum: number, row: { quantity: number }) => sum + row.quantity, 0);
    expect([
      await heldBy(waiting[0] ?? ''),
      await heldBy(waiting[1] ?? ''),
      await heldBy(waiting[2] ?? ''),
      await heldBy(cancelled),
    ]).toEqual([2, 2, 1, 0]);
    const served = receipts.flatMap((receipt) => receipt.json().served);
    expect(
      served
        .filter((ticket: { ready: boolean }) => ticket.ready)
        .map((ticket: { ticketNumber: string }) => ticket.ticketNumber)
        .sort(),
    ).toEqual([waiting[0], waiting[1]].sort());
    const partsWait = async (number: string) =>
      (await call('admin', 'GET', `/v1/tickets/${number}`)).json().sla.partsWait;
    expect((await partsWait(waiting[0] ?? '')).metAt).not.toBeNull();
    expect((await partsWait(waiting[1] ?? '')).metAt).not.toBeNull();
    expect((await partsWait(waiting[2] ?? '')).metAt).toBeNull();
    // A receipt repeated is one receipt: nothing more is reserved.
    const again = await receive(3, 'a');
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 5, reserved: 5 } });

    // The last ticket's unit arrives in its engineer's van: nearest first, as a request takes it.
    const toVan = () =>
      call('parts', 'POST', '/v1/stock/receipts', {
        partNumber,
        locationId: VAN,
        accepted: 1,
        reference: 'PO-3',
      });
    expect((await toVan()).json().served).toEqual([{ ticketNumber: waiting[2], ready: true }]);
    expect((await partsWait(waiting[2] ?? '')).metAt).not.toBeNull();
    const timeline = (await call('admin', 'GET', `/v1/tickets/${waiting[2] ?? ''}/events`)).json().events;
    expect(timeline.at(-1)).toMatchObject({ type: 'parts_ready', actorId: 'parts-1' });
    // A ticket without an engineer is not served from anyone's van; moved to a warehouse, it is.
    const unassigned = await acknowledged();
    await call('agent', 'POST', `/v1/tickets/${unassigned}/parts-request`, {
      lines: [{ partNumber, quantity: 1 }],
    });
    expect((await toVan()).json().served).toEqual([]);
    const transfer = await call('parts', 'POST', '/v1/stock/transfers', {
      partNumber,
      from: VAN,
      to: WAREHOUSE,
      quantity: 1,
    });
    expect(transfer.json().served).toEqual([{ ticketNumber: unassigned, ready: true }]);
    expect((await partsWait(unassigned)).metAt).not.toBeNull();
    expect(await stockOf(partNumber)).toEqual({
      [VAN]: { onHand: 1, reserved: 1 },
      [WAREHOUSE]: { onHand: 6, reserved: 6 },
    });
    await act('agent', unassigned, 'cancel', { reason: '客户取消' });
    await act('engineer', waiting[2] ?? '', 'resolve', { ...serviceRecord, parts: [] });
  });

  it('stops waiting only when nothing is awaited; a new request for a part replaces what was awaited', async () => {
    const motor = await newPart();
    const capacitor = await newPart({ [WAREHOUSE]: 1 });
    const number = await newTicket();
    await act('agent', number, 'acknowledge');
    const ask = (partNumber: string) =>
      call('agent', 'POST', `/v1/tickets/${number}/parts-request`, { lines: [{ partNumber, quantity: 1 }] });
    const partsWait = async () => (await call('admin', 'GET', `/v1/tickets/${number}`)).json().sla.partsWait;
    expect((await ask(motor)).json().shortfalls).toHaveLength(1);
    // The capacitor is there, but the motor is still awaited: the ticket keeps waiting.
    expect((await ask(capacitor)).json().shortfalls).toEqual([]);
    expect((await partsWait()).metAt).toBeNull();
    // Asked again, the motor is awaited once, not twice: one unit arriving serves the ticket.
    expect((await ask(motor)).json().shortfalls).toHaveLength(1);
    const receipt = await call('parts', 'POST', '/v1/stock/receipts', {
      partNumber: motor,
      locationId: WAREHOUSE,
      accepted: 2,
      reference: 'PO-4',
    });
    expect(receipt.json().served).toEqual([{ ticketNumber: number, ready: true }]);
    expect(await stockOf(motor)).toEqual({ [WAREHOUSE]: { onHand: 2, reserved: 1 } });
    expect((await partsWait()).metAt).not.toBeNull();
    await act('agent', number, 'cancel', { reason: '客户取消' });
  });

  it('issues a valuable part only once a manager approved it; a refused one is available again', async () => {
    const compressor = await newPart(
      { [WAREHOUSE]: 3 },
      { name: '压缩机', valuable: true, unitCost: 90_000 },
    );
    const number = await ticketInService();
    const ask = () =>
      call('engineer', 'POST', `/v1/tickets/${number}/parts-request`, {
        lines: [{ partNumber: compressor, quantity: 1 }],
      });
    const [first] = (await ask()).json().reservations;
    const [second] = (await ask()).json().reservations;
    expect(first).toMatchObject({ status: 'awaiting_approval', locationId: WAREHOUSE, decidedBy: null });
    const sla = async () => (await call('admin', 'GET', `/v1/tickets/${number}`)).json().sla;
    expect((await sla()).partsApproval).toMatchObject({ duration: '4bh', metAt: null });
    expect(await stockOf(compressor)).toEqual({ [WAREHOUSE]: { onHand: 3, reserved: 2 } });
    const decide = (id: number, decision: string, who: Who = 'manager') =>
      call(who, 'POST', `/v1/tickets/${number}/parts/${id}/${decision}`);
    expect((await decide(first.id, 'approve', 'engineer')).statusCode).toBe(403);
    const approved = await decide(first.id, 'approve');
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'reserved', decidedBy: 'mgr-1' });
    expect((await decide(first.id, 'reject')).statusCode).toBe(409);
    expect((await sla()).partsApproval.metAt).toBeNull();
    expect((await decide(second.id, 'reject')).json()).toMatchObject({ status: 'released' });
    // Nothing left awaiting approval: the approval clock has stopped.
    expect((await sla()).partsApproval.metAt).not.toBeNull();
    expect(await stockOf(compressor)).toEqual({ [WAREHOUSE]: { onHand: 3, reserved: 1 } });
    // Awaiting approval at resolve, a part is not issued: it is released with what was not used.
    const [third] = (await ask()).json().reservations;
    await act('engineer', number, 'resolve', {
      ...serviceRecord,
      parts: [
        {
          partNumber: compressor,
          quantity: 2,
          unitPriceFen: 150_000,
          oldPartDisposition: 'returned_to_supplier',
        },
      ],
    });
    const settled = (await call('engineer', 'GET', `/v1/tickets/${number}/parts`)).json().items;
    expect(
      settled.map((row: { id: number; status: string; issuedQuantity: number }) => [
        row.id,
        row.status,
        row.issuedQuantity,
      ]),
    ).toEqual([
      [first.id, 'issued', 1],
      [second.id, 'released', 0],
      [third.id, 'released', 0],
    ]);
    expect(settled[0].oldPartDisposition).toBe('returned_to_supplier');
    expect(await stockOf(compressor)).toEqual({ [WAREHOUSE]: { onHand: 2, reserved: 0 } });
  });

  it('50 concurrent requests for the last 10 units reserve exactly 10', async () => {
    const partNumber = await newPart({ [WAREHOUSE]: 10 });
    const number = await newTicket();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        call('agent', 'POST', `/v1/tickets/${number}/parts-request`, {
          lines: [{ partNumber, quantity: 1 }],
        }),
      ),
    );
    expect(answers.filter((answer) => answer.statusCode !== 201).map((answer) => answer.body)).toEqual([]);
    const reserved = answers.flatMap((answer) => answer.json().reservations);
    expect(reserved).toHaveLength(10);
    expect(answers.filter((answer) => answer.json().shortfalls.length === 1)).toHaveLength(40);
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 10, reserved: 10 } });
  });

  it('refuses a part nobody stocks a number for, a stranger’s ticket, and a role that may not ask', async () => {
    const number = await newTicket();
    const unknown = await call('agent', 'POST', `/v1/tickets/${number}/parts-request`, {
      lines: [{ partNumber: `NOPE-${tag}`, quantity: 1 }],
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().detail).toBe(`no part NOPE-${tag}`);
    // Not assigned to this engineer: as far as it is concerned, there is no such ticket.
    const stranger = await call('engineer', 'POST', `/v1/tickets/${number}/parts-request`, {
      lines: [{ partNumber: `NOPE-${tag}`, quantity: 1 }],
    });
    expect(stranger.statusCode).toBe(404);
    const empty = await call('agent', 'POST', `/v1/tickets/${number}/parts-request`, { lines: [] });
    expect(empty.statusCode).toBe(400);
  });
});

describe('the parts report', () => {
  const today = DateTime.now().setZone('Asia/Shanghai').toISODate() ?? '';
  const report = async () => {
    const response = await call('parts', 'GET', `/v1/reports/parts?from=${today}&to=${today}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };

  it('counts parts cost at unit cost per ticket, stock-outs and the parts most used per model', async () => {
    const model = `KFR-72LW-${tag}`;
    const partNumber = await newPart({ [WAREHOUSE]: 4 });
    const before = await report();
    const number = await ticketInService(model);
    const requested = await call('engineer', 'POST', `/v1/tickets/${number}/parts-request`, {
      lines: [{ partNumber, quantity: 5 }],
    });
    expect(requested.json().shortfalls).toMatchObject([{ partNumber, quantity: 1 }]);
    await act('engineer', number, 'resolve', {
      ...serviceRecord,
      parts: [{ partNumber, quantity: 3, unitPriceFen: 5_000, oldPartDisposition: 'given_to_customer' }],
    });
    const after = await report();
    // Today's figures are the whole database's: a test file running beside this one (two at a time) may
    // issue parts between the two reads, so the totals grew by at least this ticket's share; this
    // ticket's own model and part are exact.
    expect(after.issued.quantity - before.issued.quantity).toBeGreaterThanOrEqual(3);
    expect(after.issued.value - before.issued.value).toBeGreaterThanOrEqual(9_000);
    expect(after.issued.tickets - before.issued.tickets).toBeGreaterThanOrEqual(1);
    expect(after.stockOuts.tickets - before.stockOuts.tickets).toBeGreaterThanOrEqual(1);
    expect(
      after.stockOuts.ticketsRequestingParts - before.stockOuts.ticketsRequestingParts,
    ).toBeGreaterThanOrEqual(1);
    expect(after.topConsumed).toContainEqual({ model, partNumber, quantity: 3, value: 9_000 });
    expect(after.averagePartsCostPerTicket).toBe(Math.round(after.issued.value / after.issued.tickets));
    expect(after.turnover).toBe(Number((after.issued.value / after.stockNow.value).toFixed(2)));
    expect((await call('engineer', 'GET', `/v1/reports/parts?from=${today}&to=${today}`)).statusCode).toBe(
      403,
    );
  });
});
