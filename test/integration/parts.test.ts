import { randomInt } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { upsertEngineer } from '../../db/engineer-store';
import { upsertLocation } from '../../db/parts-store';
import { serviceRecord } from '../support/fixtures';
import { createOwnDatabase, runRelayFor } from '../support/relay';
import { createOwnNamespace, runWorkerFor } from '../support/temporal';
import { ADMIN_KEY, AGENT_KEY, startApi, type ApiStack } from '../support/stack';

/**
 * The parts catalogue, stock locations and the stock ledger against the real PostgreSQL: what the
 * parts group does (seed 003's 采购验收, 调货, 盘点, 报废) and what a manager approves.
 */
const tag = `${process.pid}-${randomInt(1e9)}`;
const PARTS_KEY = `test-parts-key-${tag}`;
const MANAGER_KEY = `test-manager-key-${tag}`;
const ENGINEER_KEY = `test-engineer-key-${tag}`;
const ENGINEER = `eng-parts-${tag}`;
const WAREHOUSE = `wh-${tag}`;
const VAN = `van-${tag}`;
let stack: ApiStack;
let stopRelay: (() => Promise<void>) | undefined;
let stopWorker: (() => Promise<void>) | undefined;

beforeAll(async () => {
  // A database of its own: its delivery relay sends this file's notices, and no other file's. Its
  // ticket numbers start again at 001, so its workflows live in a Temporal namespace of its own.
  const [databaseUrl, namespace] = await Promise.all([
    createOwnDatabase('parts'),
    createOwnNamespace('parts'),
  ]);
  stack = await startApi({
    taskQueue: `parts-${tag}`,
    policy: {},
    env: {
      API_KEYS: [
        `${ADMIN_KEY}:admin:ops-1`,
        `${AGENT_KEY}:agent:agent-7`,
        `${PARTS_KEY}:parts:parts-1`,
        `${MANAGER_KEY}:manager:mgr-1`,
        `${ENGINEER_KEY}:engineer:${ENGINEER}`,
        `test-flow-engineer-${tag}:engineer:eng-flow-${tag}`,
      ].join(','),
      PARTS_APPROVAL_THRESHOLD: '100000',
      DATABASE_URL: databaseUrl,
      TEMPORAL_NAMESPACE: namespace,
    },
  });
  stopRelay = await runRelayFor(stack.config, stack.database.db);
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  await upsertEngineer(stack.database.db, { id: ENGINEER, name: '李工', skills: ['aircon'], regions: [] });
  await upsertLocation(stack.database.db, { id: WAREHOUSE, kind: 'warehouse', name: '上海中心仓' });
  await upsertLocation(stack.database.db, { id: VAN, kind: 'van', name: '李工的车', engineerId: ENGINEER });
});

afterAll(async () => {
  await stopWorker?.();
  await stopRelay?.();
  await stack?.close();
});

const call = (
  method: 'GET' | 'POST',
  url: string,
  payload?: Record<string, unknown>,
  key = PARTS_KEY,
  headers: Record<string, string> = {},
) => stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}`, ...headers } });

/** A part of this test's own, so other tests sharing the database cannot touch its stock. */
async function newPart(overrides: Record<string, unknown> = {}): Promise<string> {
  const partNumber = `FM-${randomInt(1e9)}`;
  const created = await call('POST', '/v1/parts', {
    partNumber,
    name: '外机风扇电机',
    specification: '220V 45W',
    productLines: ['aircon'],
    unitCost: 12_000,
    unitPrice: 18_000,
    ...overrides,
  });
  expect(created.statusCode, created.body).toBe(201);
  return partNumber;
}

const receive = (partNumber: string, accepted: number, rejected = 0, at = WAREHOUSE) =>
  call('POST', '/v1/stock/receipts', {
    partNumber,
    locationId: at,
    accepted,
    rejected,
    reference: 'PO-2026-118 格力配件',
  });

async function onHand(partNumber: string): Promise<Record<string, number>> {
  const part = (await call('GET', `/v1/parts/${partNumber}`)).json();
  return Object.fromEntries(
    part.stock.map((level: { locationId: string; onHand: number }) => [level.locationId, level.onHand]),
  );
}

/** On hand at every location equals the sum of the ledger's applied movements there. */
async function expectLedgerAgrees(partNumber: string): Promise<void> {
  const rows = await stack.database.db.execute<{ location_id: string; on_hand: number; ledger: number }>(sql`
    select l.location_id, l.on_hand, coalesce(sum(m.quantity) filter (where m.status = 'applied'), 0)::int as ledger
    from stock_levels l
    left join stock_movements m on m.part_number = l.part_number and m.location_id = l.location_id
    where l.part_number = ${partNumber}
    group by l.location_id, l.on_hand`);
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) expect(row.on_hand, row.location_id).toBe(row.ledger);
}

describe('the parts catalogue', () => {
  it('adds a part with 201, replaces it with 200, and reads it with its stock', async () => {
    const partNumber = await newPart({ valuable: true, safetyStock: 5 });
    const replaced = await call('POST', '/v1/parts', {
      partNumber,
      name: '外机风扇电机',
      productLines: ['aircon', 'heat-pump'],
      unitCost: 12_500,
      unitPrice: 19_000,
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.headers.location).toBe(`/v1/parts/${partNumber}`);
    const read = await call('GET', `/v1/parts/${partNumber}`, undefined, AGENT_KEY);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({
      partNumber,
      productLines: ['aircon', 'heat-pump'],
      unitCost: 12_500,
      unitPrice: 19_000,
      valuable: false,
      safetyStock: 0,
      stock: [],
      totals: { onHand: 0, reserved: 0, available: 0 },
    });
    const listed = await call('GET', '/v1/parts?productLine=heat-pump');
    expect(listed.json().items.map((part: { partNumber: string }) => part.partNumber)).toContain(partNumber);
  });

  it('refuses bad input with a 400 naming the field, an unknown part with 404, and other roles with 403', async () => {
    const bad = await call('POST', '/v1/parts', {
      partNumber: 'has space',
      name: 'x',
      productLines: [],
      unitCost: -1,
      unitPrice: 1.5,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((error: { field: string }) => error.field)).toEqual(
      expect.arrayContaining(['body.partNumber', 'body.productLines', 'body.unitCost', 'body.unitPrice']),
    );
    expect((await call('GET', `/v1/parts/NOPE-${tag}`)).statusCode).toBe(404);
    const byAgent = await call('POST', '/v1/parts', { partNumber: 'X1' }, AGENT_KEY);
    expect(byAgent.statusCode).toBe(403);
    expect(byAgent.json().detail).toBe('role agent may not manage parts and stock locations');
  });
});

describe('stock locations', () => {
  it('adds warehouses and one van per engineer, and renames them', async () => {
    const warehouse = await call('POST', '/v1/stock-locations', {
      id: `wh2-${tag}`,
      kind: 'warehouse',
      name: '苏州仓',
    });
    expect(warehouse.statusCode).toBe(201);
    expect(warehouse.headers.location).toBe(`/v1/stock-locations/wh2-${tag}`);
    const engineer = `eng-zhao-${tag}`;
    await upsertEngineer(stack.database.db, { id: engineer, name: '赵工', skills: ['aircon'], regions: [] });
    const van = await call('POST', '/v1/stock-locations', {
      id: `van2-${tag}`,
      kind: 'van',
      name: '赵工的车',
      engineerId: engineer,
    });
    expect(van.statusCode).toBe(201);
    expect(van.json()).toMatchObject({ id: `van2-${tag}`, kind: 'van', engineerId: engineer });
    const renamed = await call('POST', '/v1/stock-locations', {
      id: WAREHOUSE,
      kind: 'warehouse',
      name: '上海总仓',
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().name).toBe('上海总仓');
    const vans = await call('GET', '/v1/stock-locations?kind=van', undefined, ENGINEER_KEY);
    expect(vans.json().items.map((location: { id: string }) => location.id)).toEqual([VAN, `van2-${tag}`]);
  });

  it('refuses a van without an engineer, an unknown engineer, a second van and a changed kind', async () => {
    const noEngineer = await call('POST', '/v1/stock-locations', { id: `v-${tag}`, kind: 'van', name: 'x' });
    expect(noEngineer.statusCode).toBe(400);
    const unknown = await call('POST', '/v1/stock-locations', {
      id: `v-${tag}`,
      kind: 'van',
      name: 'x',
      engineerId: `ghost-${tag}`,
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().detail).toBe(`no engineer ghost-${tag}`);
    const second = await call('POST', '/v1/stock-locations', {
      id: `v2-${tag}`,
      kind: 'van',
      name: 'x',
      engineerId: ENGINEER,
    });
    expect(second.statusCode).toBe(409);
    expect(second.json().detail).toBe(`engineer ${ENGINEER} already has van ${VAN}`);
    const changed = await call('POST', '/v1/stock-locations', { id: VAN, kind: 'warehouse', name: 'x' });
    expect(changed.statusCode).toBe(409);
  });
});

describe('the stock ledger', () => {
  it('receives a purchase: inspected stock comes in, what failed inspection goes back to the supplier', async () => {
    const partNumber = await newPart();
    const receipt = await receive(partNumber, 10, 2);
    expect(receipt.statusCode, receipt.body).toBe(201);
    expect(receipt.json()).toMatchObject({
      status: 'applied',
      movements: [
        { kind: 'receipt', quantity: 12, locationId: WAREHOUSE, value: 144_000, actorId: 'parts-1' },
        { kind: 'supplier_return', quantity: -2, locationId: WAREHOUSE },
      ],
    });
    expect(await onHand(partNumber)).toEqual({ [WAREHOUSE]: 10 });
    await expectLedgerAgrees(partNumber);
    const nothing = await receive(partNumber, 0, 0);
    expect(nothing.statusCode).toBe(422);
  });

  it('transfers stock to a van, and refuses to move more than is available, writing nothing', async () => {
    const partNumber = await newPart();
    await receive(partNumber, 5);
    const transfer = await call('POST', '/v1/stock/transfers', {
      partNumber,
      from: WAREHOUSE,
      to: VAN,
      quantity: 3,
    });
    expect(transfer.statusCode).toBe(201);
    expect(transfer.json().movements).toMatchObject([
      { kind: 'transfer_out', locationId: WAREHOUSE, quantity: -3, reference: VAN },
      { kind: 'transfer_in', locationId: VAN, quantity: 3, reference: WAREHOUSE },
    ]);
    const short = await call('POST', '/v1/stock/transfers', {
      partNumber,
      from: WAREHOUSE,
      to: VAN,
      quantity: 3,
    });
    expect(short.statusCode).toBe(409);
    expect(short.json().detail).toBe(
      `part ${partNumber}: location ${WAREHOUSE} has 2 available (2 on hand, 0 reserved); 3 asked`,
    );
    const same = await call('POST', '/v1/stock/transfers', { partNumber, from: VAN, to: VAN, quantity: 1 });
    expect(same.statusCode).toBe(422);
    const nowhere = await call('POST', '/v1/stock/transfers', {
      partNumber,
      from: VAN,
      to: `nowhere-${tag}`,
      quantity: 1,
    });
    expect(nowhere.statusCode).toBe(404);
    expect(await onHand(partNumber)).toEqual({ [WAREHOUSE]: 2, [VAN]: 3 });
    await expectLedgerAgrees(partNumber);
  });

  it('answers a repeated request with the same Idempotency-Key once, and refuses the key with another body', async () => {
    const partNumber = await newPart();
    const body = { partNumber, locationId: WAREHOUSE, accepted: 4, reference: 'PO-7' };
    const headers = { 'idempotency-key': `receipt-${tag}` };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => call('POST', '/v1/stock/receipts', body, PARTS_KEY, headers)),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(answers.map((answer) => answer.json().operationId)).size).toBe(1);
    expect(answers.filter((answer) => answer.headers['idempotent-replayed'] === 'true')).toHaveLength(4);
    expect(await onHand(partNumber)).toEqual({ [WAREHOUSE]: 4 });
    const other = await call('POST', '/v1/stock/receipts', { ...body, accepted: 5 }, PARTS_KEY, headers);
    expect(other.statusCode).toBe(422);
    expect(other.json().detail).toBe(
      `Idempotency-Key "receipt-${tag}" was first used with a different request`,
    );
  });

  it('never oversells: 20 concurrent scraps of one unit from 10 on hand take exactly 10', async () => {
    const partNumber = await newPart({ unitCost: 100 });
    await receive(partNumber, 10);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('POST', '/v1/stock/scraps', {
          partNumber,
          locationId: WAREHOUSE,
          quantity: 1,
          reason: '受潮生锈',
        }),
      ),
    );
    const codes = answers.map((answer) => answer.statusCode).sort();
    expect(codes.filter((code) => code === 201)).toHaveLength(10);
    expect(codes.filter((code) => code === 409)).toHaveLength(10);
    expect(await onHand(partNumber)).toEqual({ [WAREHOUSE]: 0 });
    await expectLedgerAgrees(partNumber);
  });

  it('holds a scrap worth more than the threshold for a manager, who approves or rejects it once', async () => {
    const partNumber = await newPart({ unitCost: 60_000 });
    await receive(partNumber, 5);
    const small = await call('POST', '/v1/stock/scraps', {
      partNumber,
      locationId: WAREHOUSE,
      quantity: 1,
      reason: '外壳破损',
    });
    expect(small.statusCode).toBe(201);
    const large = await call('POST', '/v1/stock/scraps', {
      partNumber,
      locationId: WAREHOUSE,
      quantity: 2,
      reason: '型号淘汰',
    });
    expect(large.statusCode).toBe(202);
    const [pending] = large.json().movements;
    expect(pending).toMatchObject({ status: 'pending', value: 120_000, quantity: -2 });
    expect(await onHand(partNumber)).toEqual({ [WAREHOUSE]: 4 });
    const byParts = await call('POST', `/v1/stock/movements/${pending.id}/approve`, {});
    expect(byParts.statusCode).toBe(403);
    const approved = await call('POST', `/v1/stock/movements/${pending.id}/approve`, undefined, MANAGER_KEY);
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'applied', decidedBy: 'mgr-1' });
    expect(await onHand(partNumber)).toEqual({ [WAREHOUSE]: 2 });
    const again = await call(
      'POST',
      `/v1/stock/movements/${pending.id}/reject`,
      { reason: 'x' },
      MANAGER_KEY,
    );
    expect(again.statusCode).toBe(409);
    expect(again.json().detail).toBe(`stock movement ${pending.id} is applied, not pending`);

    const gain = await call('POST', '/v1/stock/adjustments', {
      partNumber,
      locationId: WAREHOUSE,
      quantity: 3,
      reason: '盘盈：货架后发现',
    });
    expect(gain.statusCode).toBe(202);
    const rejected = await call(
      'POST',
      `/v1/stock/movements/${gain.json().movements[0].id}/reject`,
      { reason: '复盘无误' },
      MANAGER_KEY,
    );
    expect(rejected.json()).toMatchObject({ status: 'rejected', reason: '盘盈：货架后发现; 复盘无误' });
    expect(await onHand(partNumber)).toEqual({ [WAREHOUSE]: 2 });
    const loss = await call('POST', '/v1/stock/adjustments', {
      partNumber,
      locationId: WAREHOUSE,
      quantity: -1,
      reason: '盘亏',
    });
    expect(loss.statusCode).toBe(201);
    expect(await onHand(partNumber)).toEqual({ [WAREHOUSE]: 1 });
    expect((await call('POST', '/v1/stock/movements/2147483647/approve', {}, MANAGER_KEY)).statusCode).toBe(
      404,
    );
    await expectLedgerAgrees(partNumber);
  });

  it('values large movements exactly, and refuses one that would take the stock out of range', async () => {
    const partNumber = await newPart({ unitCost: 1_000_000_000 });
    const large = await receive(partNumber, 1_000_000);
    expect(large.statusCode).toBe(201);
    expect(large.json().movements[0].value).toBe(1_000_000_000_000_000);
    await stack.database.db.execute(
      sql`update stock_levels set on_hand = 2147483000 where part_number = ${partNumber}`,
    );
    const beyond = await receive(partNumber, 1_000_000);
    expect(beyond.statusCode).toBe(422);
    expect(beyond.json().detail).toBe('the quantity would take the stock out of range');
  });

  it('lists the ledger with filters and cursor pages', async () => {
    const partNumber = await newPart();
    await receive(partNumber, 6, 1);
    await call('POST', '/v1/stock/transfers', { partNumber, from: WAREHOUSE, to: VAN, quantity: 2 });
    const all = await call('GET', `/v1/stock/movements?partNumber=${partNumber}`);
    expect(all.json().items.map((row: { kind: string }) => row.kind)).toEqual([
      'receipt',
      'supplier_return',
      'transfer_out',
      'transfer_in',
    ]);
    const inVan = await call('GET', `/v1/stock/movements?partNumber=${partNumber}&locationId=${VAN}`);
    expect(inVan.json().items).toHaveLength(1);
    const kinds = await call('GET', `/v1/stock/movements?partNumber=${partNumber}&kind=receipt,transfer_in`);
    expect(kinds.json().items).toHaveLength(2);
    const first = await call('GET', `/v1/stock/movements?partNumber=${partNumber}&limit=3`);
    expect(first.json().items).toHaveLength(3);
    const next = await call(
      'GET',
      `/v1/stock/movements?partNumber=${partNumber}&limit=3&cursor=${first.json().nextCursor}`,
    );
    expect(next.json()).toMatchObject({ items: [{ kind: 'transfer_in' }], nextCursor: null });
    const future = await call(
      'GET',
      `/v1/stock/movements?partNumber=${partNumber}&from=2999-01-01T00:00:00Z`,
    );
    expect(future.json().items).toEqual([]);
    const badKind = await call('GET', '/v1/stock/movements?kind=theft');
    expect(badKind.statusCode).toBe(400);
  });

  it('shows an engineer its own van’s stock only, and lets it move none', async () => {
    const partNumber = await newPart();
    await receive(partNumber, 5);
    await call('POST', '/v1/stock/transfers', { partNumber, from: WAREHOUSE, to: VAN, quantity: 2 });
    const part = (await call('GET', `/v1/parts/${partNumber}`, undefined, ENGINEER_KEY)).json();
    expect(part.stock).toEqual([{ locationId: VAN, onHand: 2, reserved: 0, available: 2 }]);
    expect(part.totals).toEqual({ onHand: 2, reserved: 0, available: 2 });
    const ledger = await call('GET', `/v1/stock/movements?partNumber=${partNumber}`, undefined, ENGINEER_KEY);
    expect(ledger.json().items.map((row: { locationId: string }) => row.locationId)).toEqual([VAN]);
    const warehouse = await call(
      'GET',
      `/v1/stock/movements?locationId=${WAREHOUSE}`,
      undefined,
      ENGINEER_KEY,
    );
    expect(warehouse.statusCode).toBe(403);
    const receipt = await call(
      'POST',
      '/v1/stock/receipts',
      { partNumber, locationId: VAN, accepted: 1, reference: 'x' },
      ENGINEER_KEY,
    );
    expect(receipt.statusCode).toBe(403);
    expect((await call('GET', '/v1/stock/movements', undefined, AGENT_KEY)).statusCode).toBe(403);
  });
});

describe('safety stock', () => {
  /** The low-stock notices sent about a part: which crossing, to whom, what they said. */
  const noticesOf = (partNumber: string) =>
    stack.database.db.execute<{ delivery_id: string; subject: string; body: string }>(sql`
      select o.delivery_id, o.subject, o.body from outbox_messages o
      where o.delivery_id like ${`low-stock:${partNumber}:%`}
      order by o.delivery_id`);

  it('tells the parts group and the supervisor once per fall below the safety stock, re-armed when it is back', async () => {
    const partNumber = await newPart({ safetyStock: 5 });
    // A new part has nothing available: below its safety stock from the start, but nothing fell.
    expect((await call('GET', `/v1/parts/${partNumber}`)).json().lowStock).toBe(true);
    await receive(partNumber, 10);
    const scrap = (quantity: number) =>
      call('POST', '/v1/stock/scraps', { partNumber, locationId: WAREHOUSE, quantity, reason: '损坏' });
    expect((await scrap(3)).statusCode).toBe(201); // 7 available
    expect((await call('GET', `/v1/parts/${partNumber}`)).json().lowStock).toBe(false);
    expect((await scrap(3)).statusCode).toBe(201); // 4: below 5
    expect((await scrap(1)).statusCode).toBe(201); // 3: still below, no second notice
    expect(
      (await call('GET', `/v1/parts?lowStock=true`))
        .json()
        .items.map((part: { partNumber: string }) => part.partNumber),
    ).toContain(partNumber);
    await vi.waitFor(async () => expect(await noticesOf(partNumber)).toHaveLength(2), { timeout: 10_000 });
    const notices = await noticesOf(partNumber);
    expect(notices.map((notice) => notice.delivery_id)).toEqual([
      `low-stock:${partNumber}:1:parts`,
      `low-stock:${partNumber}:1:supervisor`,
    ]);
    expect(notices[0]).toMatchObject({
      subject: `配件 ${partNumber} 低于安全库存`,
      body: `配件 ${partNumber}（外机风扇电机）可用库存 4，低于安全库存 5，请及时采购或调货。`,
    });
    const recipients = await stack.database.db.execute<{ recipient_role: string }>(sql`
      select recipient_role from notifications where key like ${`low-stock:${partNumber}:1:%`} order by key`);
    expect(recipients.map((row) => row.recipient_role)).toEqual(['parts', 'supervisor']);

    // Back above (re-armed), then a raised safety stock puts it below again: a second crossing.
    await receive(partNumber, 10);
    const raised = await call('POST', '/v1/parts', {
      partNumber,
      name: '外机风扇电机',
      productLines: ['aircon'],
      unitCost: 12_000,
      unitPrice: 18_000,
      safetyStock: 20,
    });
    expect(raised.json()).toMatchObject({ lowStock: true, totals: { available: 13 } });
    await vi.waitFor(async () => expect(await noticesOf(partNumber)).toHaveLength(4), { timeout: 10_000 });
  });

  it('suggests what to buy from the last 90 days’ issues and the safety stock', async () => {
    const partNumber = await newPart({ safetyStock: 20, unitCost: 500 });
    await receive(partNumber, 8);
    const suggestion = async () =>
      (await call('GET', '/v1/parts/reorder'))
        .json()
        .items.find((line: { partNumber: string }) => line.partNumber === partNumber);
    expect(await suggestion()).toEqual({
      partNumber,
      name: '外机风扇电机',
      available: 8,
      safetyStock: 20,
      issuedInLookback: 0,
      suggestedQuantity: 12,
      unitCost: 500,
      estimatedCost: 6_000,
    });
    // 9 issued to tickets in the window (3 a month), 30 issued before it.
    await stack.database.db.execute(sql`
      insert into stock_movements (operation_id, kind, status, part_number, location_id, quantity, value, actor_id, at)
      values ('old', 'issue', 'applied', ${partNumber}, ${WAREHOUSE}, -30, 15000, 'eng', now() - interval '100 days'),
             ('new', 'issue', 'applied', ${partNumber}, ${WAREHOUSE}, -9, 4500, 'eng', now() - interval '10 days')`);
    expect(await suggestion()).toMatchObject({ issuedInLookback: 9, suggestedQuantity: 15 });
    await receive(partNumber, 40);
    expect(await suggestion()).toBeUndefined();
    expect((await call('GET', '/v1/parts/reorder', undefined, ENGINEER_KEY)).statusCode).toBe(403);
  });
});

describe('the parts process end to end (issue 21)', () => {
  const LINE = `flow-line-${tag}`;
  const FLOW_ENGINEER = `eng-flow-${tag}`;
  const FLOW_KEY = `test-flow-engineer-${tag}`;
  const FLOW_VAN = `van-flow-${tag}`;

  beforeAll(async () => {
    await upsertEngineer(stack.database.db, { id: FLOW_ENGINEER, name: '周工', skills: [LINE], regions: [] });
    await upsertLocation(stack.database.db, {
      id: FLOW_VAN,
      kind: 'van',
      name: '周工的车',
      engineerId: FLOW_ENGINEER,
    });
  });

  const act = async (key: string, number: string, action: string, payload: Record<string, unknown> = {}) => {
    const response = await call('POST', `/v1/tickets/${number}/${action}`, payload, key);
    expect(response.statusCode, `${action}: ${response.body}`).toBe(200);
    return response.json();
  };
  const newTicket = async () => {
    const response = await call(
      'POST',
      '/v1/tickets',
      {
        channel: 'phone',
        category: 'fault',
        priority: 'normal',
        customer: { name: '张三', phone: `139${randomInt(10_000_000, 99_999_999)}` },
        product: {
          model: 'KFR-50LW',
          line: LINE,
          serialNumber: `SN-${randomInt(1e9)}`,
          purchaseDate: '2026-03-15',
        },
        description: '压缩机不启动',
      },
      AGENT_KEY,
    );
    expect(response.statusCode).toBe(201);
    return response.json().number as string;
  };
  const slaOf = async (number: string) =>
    (await call('GET', `/v1/tickets/${number}`, undefined, ADMIN_KEY)).json().sla;

  it('catalogue → inspected receipt → van → a valuable part approved, a short one transferred → resolve → cancel', async () => {
    const compressor = await newPart({ name: '压缩机', valuable: true, unitCost: 90_000 });
    const capacitor = await newPart({ name: '风扇电容', unitCost: 3_000, safetyStock: 5 });
    expect((await receive(capacitor, 5, 1)).statusCode).toBe(201);
    expect((await receive(compressor, 1)).statusCode).toBe(201);
    // The capacitors go to another engineer's van: the ticket's engineer will have to get one sent.
    await call('POST', '/v1/stock/transfers', {
      partNumber: capacitor,
      from: WAREHOUSE,
      to: VAN,
      quantity: 5,
    });
    await expectLedgerAgrees(capacitor);

    const number = await newTicket();
    await act(AGENT_KEY, number, 'acknowledge');
    await act(AGENT_KEY, number, 'plan', {
      measures: '更换压缩机和电容',
      department: 'field-service',
      customerConfirmed: true,
    });
    await vi.waitFor(
      async () =>
        expect((await call('GET', `/v1/tickets/${number}`, undefined, ADMIN_KEY)).json().assignee).toBe(
          FLOW_ENGINEER,
        ),
      { timeout: 15_000, interval: 100 },
    );
    await act(FLOW_KEY, number, 'accept');
    await act(FLOW_KEY, number, 'start', { mode: 'onsite' });

    const first = await call(
      'POST',
      `/v1/tickets/${number}/parts-request`,
      {
        lines: [
          { partNumber: compressor, quantity: 1 },
          { partNumber: capacitor, quantity: 1 },
        ],
      },
      FLOW_KEY,
    );
    expect(first.json()).toMatchObject({
      reservations: [{ partNumber: compressor, locationId: WAREHOUSE, status: 'awaiting_approval' }],
      shortfalls: [
        { partNumber: capacitor, quantity: 1, proposals: [{ kind: 'transfer', from: VAN, quantity: 1 }] },
      ],
    });
    expect(await slaOf(number)).toMatchObject({ partsWait: { metAt: null }, partsApproval: { metAt: null } });

    // The parts group sends the capacitor over (调货): arriving in the engineer's van, it is
    // reserved for the waiting ticket there, which stops waiting for parts.
    const sent = await call('POST', '/v1/stock/transfers', {
      partNumber: capacitor,
      from: VAN,
      to: FLOW_VAN,
      quantity: 1,
    });
    expect(sent.json().served).toEqual([{ ticketNumber: number, ready: true }]);
    const reserved = (await call('GET', `/v1/tickets/${number}/parts`, undefined, FLOW_KEY)).json().items;
    expect(reserved).toMatchObject([
      { partNumber: compressor, status: 'awaiting_approval' },
      { partNumber: capacitor, locationId: FLOW_VAN, quantity: 1, status: 'reserved' },
    ]);
    expect(await slaOf(number)).toMatchObject({
      partsWait: { metAt: expect.any(String) },
      partsApproval: { metAt: null },
    });
    await expectLedgerAgrees(capacitor);
    const [valuable] = first.json().reservations;
    expect(
      (await call('POST', `/v1/tickets/${number}/parts/${valuable.id}/approve`, undefined, MANAGER_KEY))
        .statusCode,
    ).toBe(200);
    const clocks = await slaOf(number);
    expect(clocks.partsWait.metAt).not.toBeNull();
    expect(clocks.partsApproval.metAt).not.toBeNull();

    await act(FLOW_KEY, number, 'resolve', {
      ...serviceRecord,
      parts: [
        {
          partNumber: compressor,
          quantity: 1,
          unitPriceFen: 150_000,
          oldPartDisposition: 'returned_to_supplier',
        },
        { partNumber: capacitor, quantity: 1, unitPriceFen: 5_000, oldPartDisposition: 'given_to_customer' },
      ],
    });
    const issued = (await call('GET', `/v1/stock/movements?ticket=${number}`)).json().items;
    expect(
      issued.map((row: { partNumber: string; kind: string; quantity: number }) => [
        row.partNumber,
        row.kind,
        row.quantity,
      ]),
    ).toEqual([
      [compressor, 'issue', -1],
      [capacitor, 'issue', -1],
    ]);
    expect(await onHand(capacitor)).toEqual({ [WAREHOUSE]: 0, [VAN]: 4, [FLOW_VAN]: 0 });
    expect(await onHand(compressor)).toEqual({ [WAREHOUSE]: 0 });
    await expectLedgerAgrees(capacitor);
    await expectLedgerAgrees(compressor);

    // Another ticket holds a compressor, then is cancelled: it is released.
    await receive(compressor, 1);
    const other = await newTicket();
    await act(AGENT_KEY, other, 'acknowledge');
    const held = await call(
      'POST',
      `/v1/tickets/${other}/parts-request`,
      { lines: [{ partNumber: compressor, quantity: 1 }] },
      AGENT_KEY,
    );
    expect(held.json().reservations).toMatchObject([{ status: 'awaiting_approval' }]);
    await act(AGENT_KEY, other, 'cancel', { reason: '客户取消' });
    const part = (await call('GET', `/v1/parts/${compressor}`)).json();
    expect(part.totals).toEqual({ onHand: 1, reserved: 0, available: 1 });
    await expectLedgerAgrees(compressor);

    // The capacitor fell below its safety stock of 5 once (5 → 4 when the ticket reserved one): one notice each.
    const notices = async () =>
      (
        await stack.database.db.execute<{ delivery_id: string }>(sql`
        select delivery_id from outbox_messages where delivery_id like ${`low-stock:${capacitor}:%`} order by delivery_id`)
      ).map((row) => row.delivery_id);
    await vi.waitFor(
      async () =>
        expect(await notices()).toEqual([
          `low-stock:${capacitor}:1:parts`,
          `low-stock:${capacitor}:1:supervisor`,
        ]),
      { timeout: 10_000 },
    );
  });
});

describe('stock-takes (盘点) as counted quantities', () => {
  const count = (lines: Record<string, unknown>[], headers: Record<string, string> = {}, key = PARTS_KEY) =>
    call('POST', '/v1/stock/counts', { lines, reason: '12月月度盘点' }, key, headers);
  const ledgerOf = async (partNumber: string) =>
    (await call('GET', `/v1/stock/movements?partNumber=${partNumber}`)).json().items;
  const waitingTicket = async (partNumber: string) => {
    const created = await call(
      'POST',
      '/v1/tickets',
      {
        channel: 'phone',
        category: 'fault',
        priority: 'normal',
        customer: { name: '赵六', phone: `138${randomInt(10_000_000, 99_999_999)}` },
        description: '内机漏水',
      },
      AGENT_KEY,
    );
    const { number } = created.json();
    const requested = await call(
      'POST',
      `/v1/tickets/${number}/parts-request`,
      { lines: [{ partNumber, quantity: 2 }] },
      AGENT_KEY,
    );
    expect(requested.statusCode, requested.body).toBe(201);
    return number as string;
  };

  it('books the difference from on hand as adjustments, none where the count agrees, once per key', async () => {
    const fan = await newPart({ unitCost: 12_000 });
    const filter = await newPart({ unitCost: 500 });
    await receive(fan, 10);
    await call('POST', '/v1/stock/transfers', { partNumber: fan, from: WAREHOUSE, to: VAN, quantity: 2 });
    const lines = [
      { partNumber: fan, locationId: WAREHOUSE, counted: 7 },
      { partNumber: fan, locationId: VAN, counted: 2 },
      { partNumber: filter, locationId: WAREHOUSE, counted: 3 },
    ];
    const headers = { 'idempotency-key': `count-${tag}` };
    const counted = await count(lines, headers);
    expect(counted.statusCode, counted.body).toBe(201);
    // Lines are booked in part-number order (the parts' rows are locked in that order).
    expect(counted.json().movements).toHaveLength(2);
    expect(counted.json()).toMatchObject({
      status: 'applied',
      movements: expect.arrayContaining([
        expect.objectContaining({
          kind: 'adjustment',
          partNumber: fan,
          locationId: WAREHOUSE,
          quantity: -1,
          value: 12_000,
          reason: '12月月度盘点',
          reference: 'count: 7 counted, 8 booked',
          actorId: 'parts-1',
        }),
        expect.objectContaining({
          kind: 'adjustment',
          partNumber: filter,
          locationId: WAREHOUSE,
          quantity: 3,
          value: 1_500,
        }),
      ]),
      served: [],
    });
    expect(await onHand(fan)).toEqual({ [WAREHOUSE]: 7, [VAN]: 2 });
    expect(await onHand(filter)).toEqual({ [WAREHOUSE]: 3 });
    await expectLedgerAgrees(fan);
    await expectLedgerAgrees(filter);
    const again = await count(lines, headers);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(counted.json());
    expect(await onHand(fan)).toEqual({ [WAREHOUSE]: 7, [VAN]: 2 });
    const reused = await count([{ partNumber: fan, locationId: WAREHOUSE, counted: 1 }], headers);
    expect(reused.statusCode).toBe(422);
    // Counted again as booked: nothing to adjust, nothing written.
    const agreeing = await count([{ partNumber: fan, locationId: WAREHOUSE, counted: 7 }]);
    expect(agreeing.json()).toMatchObject({ status: 'applied', movements: [] });
    expect((await ledgerOf(fan)).length).toBe(4);
  });

  it('holds a count worth more than the threshold for a manager; approved, a gain serves a waiting ticket', async () => {
    const motor = await newPart({ unitCost: 12_000 });
    const number = await waitingTicket(motor);
    const found = await count([{ partNumber: motor, locationId: WAREHOUSE, counted: 10 }]);
    expect(found.statusCode).toBe(202);
    const [pending] = found.json().movements;
    expect(pending).toMatchObject({ status: 'pending', quantity: 10, value: 120_000 });
    expect(await onHand(motor)).toEqual({});
    const approved = await call('POST', `/v1/stock/movements/${pending.id}/approve`, {}, MANAGER_KEY);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(await onHand(motor)).toEqual({ [WAREHOUSE]: 10 });
    await expectLedgerAgrees(motor);
    const held = (await call('GET', `/v1/tickets/${number}/parts`, undefined, AGENT_KEY)).json().items;
    expect(held).toMatchObject([{ locationId: WAREHOUSE, quantity: 2, status: 'reserved' }]);
    const ticket = (await call('GET', `/v1/tickets/${number}`, undefined, ADMIN_KEY)).json();
    expect(ticket.sla.partsWait.metAt).not.toBeNull();
  });

  it('refuses a count below what tickets hold, and bad input, naming the problem and writing nothing', async () => {
    const pump = await newPart({ unitCost: 100 });
    await receive(pump, 3);
    const number = await waitingTicket(pump);
    const before = await ledgerOf(pump);
    const below = await count([
      { partNumber: pump, locationId: VAN, counted: 4 },
      { partNumber: pump, locationId: WAREHOUSE, counted: 1 },
    ]);
    expect(below.statusCode).toBe(409);
    expect(below.json().detail).toBe(
      `part ${pump} at ${WAREHOUSE}: counted 1 is below the 2 reserved for tickets; release those reservations first`,
    );
    const twice = await count([
      { partNumber: pump, locationId: WAREHOUSE, counted: 3 },
      { partNumber: pump, locationId: VAN, counted: 1 },
      { partNumber: pump, locationId: WAREHOUSE, counted: 2 },
    ]);
    expect(twice.statusCode).toBe(422);
    expect(twice.json().detail).toBe(`lines 0 and 2 both count part ${pump} at ${WAREHOUSE}`);
    const negative = await count([{ partNumber: pump, locationId: WAREHOUSE, counted: -1 }]);
    expect(negative.statusCode).toBe(400);
    expect(negative.json().detail).toContain('lines.0.counted');
    const nowhere = await count([{ partNumber: pump, locationId: `nowhere-${tag}`, counted: 1 }]);
    expect(nowhere.statusCode).toBe(404);
    expect(nowhere.json().detail).toBe(`no stock location nowhere-${tag}`);
    const noReason = await call('POST', '/v1/stock/counts', {
      lines: [{ partNumber: pump, locationId: WAREHOUSE, counted: 1 }],
    });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().detail).toContain('reason');
    expect((await count([], {})).statusCode).toBe(400);
    expect(
      (await count([{ partNumber: pump, locationId: WAREHOUSE, counted: 3 }], {}, ENGINEER_KEY)).statusCode,
    ).toBe(403);
    expect(await ledgerOf(pump)).toEqual(before);
    expect(await onHand(pump)).toEqual({ [WAREHOUSE]: 3 });
    // Once the ticket no longer holds them (cancelled), the loss can be booked.
    await call('POST', `/v1/tickets/${number}/cancel`, { reason: '客户取消' }, AGENT_KEY);
    expect((await count([{ partNumber: pump, locationId: WAREHOUSE, counted: 1 }])).statusCode).toBe(201);
    expect(await onHand(pump)).toEqual({ [WAREHOUSE]: 1 });
    await expectLedgerAgrees(pump);
  });
});
