import { randomInt } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { upsertLocation } from '../../db/parts-store';
import { returnRefusedReplacement } from '../../db/returns-store';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deliveries, stockMovements } from '../../db/schema';
import { startApi, type ApiStack } from '../support/stack';
import { runWorkerFor } from '../support/temporal';

/**
 * Seed 003's return and exchange, and seed 004's quote, through HTTP on the real stack
 * (PostgreSQL, the Temporal dev server, the real worker), with a 3-second approval clock and a
 * 6-second ship-back window and a 4-second quote expiry.
 */
const taskQueue = `returns-${process.pid}`;
const tag = `${process.pid}-${randomInt(1e9)}`;
const KEYS = {
  agent: `returns-agent-${tag}`,
  manager: `returns-manager-${tag}`,
  admin: `returns-admin-${tag}`,
  client: `returns-client-${tag}`,
  finance: `returns-finance-${tag}`,
  parts: `returns-parts-${tag}`,
};
const WAREHOUSE = `wh-${tag}`;
/** This file's own product model, so the report's figures by model are this file's. */
const MODEL = `KFR-R-${tag}`;
const REFURB = `refurb-${tag}`;
type Who = keyof typeof KEYS;
const DAY = 86_400_000;
const BOTH = ['purchase_proof', 'product'];

let stack: ApiStack;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  stack = await startApi({
    taskQueue,
    policy: {
      quoteExpiry: '4s',
      returnApproval: '3s',
      returnShipBack: '6s',
      refund: '1h',
      escalationStep: '1h',
      qcSampleRate: 0,
    },
    env: {
      API_KEYS: [
        `${KEYS.agent}:agent:agent-r`,
        `${KEYS.manager}:manager:mgr-r`,
        `${KEYS.admin}:admin:admin-r`,
        `${KEYS.client}:client:shop-r`,
        `${KEYS.finance}:finance:fin-r`,
        `${KEYS.parts}:parts:parts-r`,
      ].join(','),
    },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  await upsertLocation(stack.database.db, { id: WAREHOUSE, kind: 'warehouse', name: '中心仓' });
  await upsertLocation(stack.database.db, { id: REFURB, kind: 'warehouse', name: '翻新区' });
});

afterAll(async () => {
  await stopWorker?.();
  await stack?.close();
});

function call(who: Who, method: 'GET' | 'POST', url: string, payload?: unknown, headers = {}) {
  return stack.app.inject({
    method,
    url,
    payload: payload as Record<string, unknown> | undefined,
    headers: { authorization: `Bearer ${KEYS[who]}`, ...headers },
  });
}

async function act(who: Who, number: string, action: string, payload: Record<string, unknown> = {}) {
  const response = await call(who, 'POST', `/v1/tickets/${number}/${action}`, payload);
  if (response.statusCode !== 200) throw new Error(`${action}: ${response.statusCode} ${response.body}`);
  return response.json();
}

/** A day in the business time zone, `daysAgo` before today. */
const daysAgo = (days: number) =>
  new Date(Date.now() + 8 * 3_600_000 - days * DAY).toISOString().slice(0, 10);

async function create(serviceType: 'return' | 'exchange', purchaseDate: string, who: Who = 'agent') {
  const response = await call(who, 'POST', '/v1/tickets', {
    channel: 'phone',
    category: 'fault',
    priority: 'normal',
    serviceType,
    customer: { name: '王五', phone: `137${randomInt(10_000_000, 99_999_999)}` },
    product: { model: MODEL, serialNumber: `SN-${randomInt(1e9)}`, purchaseDate },
    description: 'Compressor noise from day one',
  });
  expect(response.statusCode).toBe(201);
  const number: string = response.json().number;
  await act('agent', number, 'acknowledge');
  return number;
}

async function timeline(number: string) {
  const events = (await call('admin', 'GET', `/v1/tickets/${number}/events`)).json().events as {
    type: string;
    data: Record<string, unknown>;
  }[];
  return events.map((event) =>
    event.type === 'notification' ? `notification:${event.data.kind}` : event.type,
  );
}

async function notifications(number: string) {
  const items = (await call('admin', 'GET', `/v1/tickets/${number}/notifications`)).json().items as {
    kind: string;
    recipientRole: string;
    channel: string;
  }[];
  return items.map((item) => [item.kind, item.recipientRole, item.channel]);
}

describe('a return or exchange up to the manager’s decision', () => {
  it('an eligible return: requested with both proofs (once per Idempotency-Key), approved in time, customer told', async () => {
    const number = await create('return', daysAgo(3));
    const body = { returnReason: 'quality_defect', proofs: BOTH, note: 'Customer brought the box' };
    const headers = { 'idempotency-key': `request-${number}` };
    const first = await call('agent', 'POST', `/v1/tickets/${number}/request-return`, body, headers);
    expect(first.statusCode).toBe(200);
    const again = await call('agent', 'POST', `/v1/tickets/${number}/request-return`, body, headers);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const requested = first.json();
    expect(requested.returnCase).toMatchObject({
      kind: 'return',
      returnReason: 'quality_defect',
      proofs: BOTH,
      eligibility: { eligible: true, windowDays: 7, lastDay: expect.any(String), reasons: [] },
      exception: null,
      decision: null,
    });
    expect(requested.sla.returnApproval).toMatchObject({ duration: '3s', metAt: null });
    expect(requested.allowedActions).toEqual(expect.arrayContaining(['approve', 'reject']));
    expect((await call('agent', 'POST', `/v1/tickets/${number}/approve`, {})).statusCode).toBe(403);

    const approved = await act('manager', number, 'approve', { note: 'Refund approved' });
    expect(approved.returnCase.decision).toMatchObject({ outcome: 'approved', actor: { id: 'mgr-r' } });
    expect(approved.sla.returnApproval.metAt).not.toBeNull();
    expect(approved.status).toBe('returning');
    expect(await timeline(number)).toEqual([
      'created',
      'acknowledged',
      'notification:ticket_acknowledged',
      'return_requested',
      'notification:return_approval_needed',
      'approved',
      'ship_back_due',
      'notification:return_decided',
    ]);
    expect(await notifications(number)).toEqual([
      ['ticket_acknowledged', 'customer', 'sms'],
      ['return_approval_needed', 'manager', 'internal'],
      ['return_decided', 'customer', 'sms'],
    ]);
  });
  it('an exchange out of its 15-day window and without the product is refused with the reasons; the ticket closes and a webhook is queued', async () => {
    const hook = await call('admin', 'POST', '/v1/webhooks', {
      url: 'https://crm.example.com/aftercare',
      eventTypes: ['return_refused'],
      secret: 'a-secret-of-sixteen-chars',
    });
    expect(hook.statusCode).toBe(201);
    const purchaseDate = daysAgo(20);
    const number = await create('exchange', purchaseDate);
    const refused = await act('agent', number, 'request-return', {
      returnReason: 'not_as_described',
      proofs: ['purchase_proof'],
    });
    expect(refused).toMatchObject({
      status: 'closed',
      closure: { reason: 'ineligible' },
      returnCase: {
        kind: 'exchange',
        eligibility: {
          eligible: false,
          missingProofs: ['product'],
          reasons: ['window_passed', 'missing_proofs'],
        },
        decision: { outcome: 'refused', actor: null },
      },
    });
    const events = (await call('admin', 'GET', `/v1/tickets/${number}/events`)).json().events;
    const lastDay = refused.returnCase.eligibility.lastDay;
    expect(events.find((event: { type: string }) => event.type === 'return_refused').data).toEqual({
      kind: 'exchange',
      ineligible: [`the 15-day exchange window ended on ${lastDay}`, 'missing proof: product'],
    });
    expect(await timeline(number)).toEqual([
      'created',
      'acknowledged',
      'notification:ticket_acknowledged',
      'return_requested',
      'return_refused',
      'notification:return_refused',
      'closed',
    ]);
    const decide = await call('manager', 'POST', `/v1/tickets/${number}/approve`, {});
    expect(decide.statusCode).toBe(409);
    expect(decide.json().allowedActions).toEqual(['reopen', 'note']);
    // Other test files' `["*"]` subscriptions share this database: count this subscription's deliveries.
    const queued = await stack.database.db
      .select({ subscriptionId: deliveries.subscriptionId })
      .from(deliveries)
      .where(
        and(
          eq(deliveries.ticketNumber, number),
          eq(deliveries.kind, 'webhook'),
          eq(deliveries.subscriptionId, hook.json().id),
        ),
      );
    expect(queued).toEqual([{ subscriptionId: hook.json().id }]);
  });

  it('an ineligible return sent as an exception is rejected by the manager with a reason the client does not see', async () => {
    const number = await create('return', daysAgo(12), 'client');
    const requested = await act('agent', number, 'request-return', {
      returnReason: 'changed_mind',
      proofs: BOTH,
      exception: 'Long-standing customer, unopened box',
    });
    expect(requested).toMatchObject({
      status: 'acknowledged',
      returnCase: { eligibility: { eligible: false } },
    });
    const missingReason = await call('manager', 'POST', `/v1/tickets/${number}/reject`, {});
    expect(missingReason.statusCode).toBe(400);
    expect(missingReason.json().detail).toMatch(/reason/);
    const rejected = await act('manager', number, 'reject', { reason: 'Opened and used for a week' });
    expect(rejected).toMatchObject({
      status: 'closed',
      closure: { reason: 'rejected' },
      returnCase: { decision: { outcome: 'rejected', reason: 'Opened and used for a week' } },
    });
    expect(await timeline(number)).toEqual([
      'created',
      'acknowledged',
      'notification:ticket_acknowledged',
      'return_requested',
      'notification:return_approval_needed',
      'return_rejected',
      'notification:return_decided',
      'closed',
    ]);
    const asClient = (await call('client', 'GET', `/v1/tickets/${number}`)).json();
    expect(asClient.returnCase).toMatchObject({
      exception: '***',
      decision: { outcome: 'rejected', reason: '***', actor: { id: '***' } },
    });
  });

  it('a request nobody decides escalates to the manager level when the approval clock passes', async () => {
    const number = await create('return', daysAgo(1));
    await act('agent', number, 'request-return', { returnReason: 'damaged_on_arrival', proofs: BOTH });
    const escalated = await vi.waitFor(
      async () => {
        const ticket = (await call('admin', 'GET', `/v1/tickets/${number}`)).json();
        const rows = ticket.escalations.filter((row: { clock: string }) => row.clock === 'returnApproval');
        if (rows.length === 0) throw new Error('not escalated yet');
        return ticket;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(escalated.escalations).toMatchObject([
      { clock: 'returnApproval', level: 2, reason: 'return_approval_missed', open: true },
    ]);
    expect(escalated.sla.returnApproval.breachedAt).not.toBeNull();
    expect(await notifications(number)).toContainEqual(['escalation', 'manager', 'internal']);
  });
});

describe('a return after approval: ship-back, receipt, inspection, refund', () => {
  async function approvedReturn(who: Who = 'agent', request: Record<string, unknown> = {}) {
    const number = await create('return', daysAgo(2), who);
    await act('agent', number, 'request-return', {
      returnReason: 'quality_defect',
      proofs: BOTH,
      ...request,
    });
    const approved = await act('manager', number, 'approve', {});
    expect(approved.sla.shipBack).toMatchObject({ duration: '6s', metAt: null });
    return number;
  }

  it('from request to refund: the customer ships it, logistics signs, inspection passes, finance refunds', async () => {
    const number = await approvedReturn('client', { paidWith: 'wechat_pay' });
    const shipped = await act('client', number, 'ship-back', {
      carrier: 'SF Express',
      trackingNumber: 'SF1234567890',
    });
    expect(shipped.returnCase.shipment).toMatchObject({
      carrier: 'SF Express',
      trackingNumber: 'SF1234567890',
    });
    expect(shipped.sla.shipBack.metAt).not.toBeNull();
    const early = await call('finance', 'POST', `/v1/tickets/${number}/refund`, {
      amountFen: 129_900,
      method: 'wechat_pay',
      reference: 'WX-1',
    });
    expect(early.statusCode).toBe(409);
    expect(early.json().allowedActions).toEqual(['receive-return', 'cancel', 'note']);
    expect((await act('agent', number, 'receive-return', { signedBy: 'warehouse-3' })).status).toBe(
      'inspecting',
    );
    const inspected = await act('agent', number, 'inspect-return', { appearance: 'pass', function: 'pass' });
    expect(inspected).toMatchObject({
      status: 'refunding',
      sla: { refund: { duration: '1h', metAt: null } },
    });
    const refundBody = { amountFen: 129_900, method: 'wechat_pay', reference: 'WX-1' };
    expect((await call('agent', 'POST', `/v1/tickets/${number}/refund`, refundBody)).statusCode).toBe(403);
    const fractional = await call('finance', 'POST', `/v1/tickets/${number}/refund`, {
      ...refundBody,
      amountFen: 12.5,
    });
    expect(fractional.statusCode).toBe(400);
    expect(fractional.json().detail).toMatch(/amountFen/);
    // Seed 003: through the original payment method, which the request recorded.
    const otherWay = await call('finance', 'POST', `/v1/tickets/${number}/refund`, {
      ...refundBody,
      method: 'alipay',
    });
    expect(otherWay.statusCode).toBe(409);
    expect(otherWay.json().detail).toContain('method must be the original payment method, wechat_pay');
    const refunded = await act('finance', number, 'refund', refundBody);
    expect(refunded).toMatchObject({
      status: 'closed',
      closure: { reason: 'refunded' },
      returnCase: {
        refund: { amountFen: 129_900, method: 'wechat_pay', reference: 'WX-1', actor: { id: 'fin-r' } },
      },
    });
    expect(await timeline(number)).toEqual([
      'created',
      'acknowledged',
      'notification:ticket_acknowledged',
      'return_requested',
      'notification:return_approval_needed',
      'approved',
      'ship_back_due',
      'notification:return_decided',
      'return_shipped',
      'notification:return_inbound',
      'return_received',
      'notification:return_received',
      'return_inspected',
      'notification:refund_due',
      'refunded',
      'notification:refund_issued',
      'closed',
    ]);
    expect(await notifications(number)).toContainEqual(['refund_due', 'finance', 'internal']);
    expect(await notifications(number)).toContainEqual(['return_inbound', 'parts', 'internal']);
    const asClient = (await call('client', 'GET', `/v1/tickets/${number}`)).json();
    expect(asClient.returnCase).toMatchObject({
      receipt: { signedBy: '***', actor: { id: '***' } },
      refund: { amountFen: 129_900, method: 'wechat_pay', actor: { id: '***' } },
    });
  });

  it('a return whose ship-back window lapses: reminded at half, cancelled after, its workflow ended', async () => {
    const number = await approvedReturn();
    const cancelled = await vi.waitFor(
      async () => {
        const ticket = (await call('admin', 'GET', `/v1/tickets/${number}`)).json();
        if (ticket.status !== 'cancelled') throw new Error(`still ${ticket.status}`);
        return ticket;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(cancelled.allowedActions).toEqual([]);
    expect(cancelled.sla.shipBack.breachedAt).not.toBeNull();
    expect(await timeline(number)).toEqual([
      'created',
      'acknowledged',
      'notification:ticket_acknowledged',
      'return_requested',
      'notification:return_approval_needed',
      'approved',
      'ship_back_due',
      'notification:return_decided',
      'notification:ship_back_reminder',
      'return_lapsed',
      'notification:return_lapsed',
      'cancelled',
    ]);
    const handle = stack.temporal.workflow.getHandle(`ticket-${number}`);
    await vi.waitFor(async () => expect((await handle.describe()).status.name).toBe('COMPLETED'));
  });

  it('a failed inspection goes to negotiation, settled by sending the product back', async () => {
    const number = await approvedReturn();
    await act('agent', number, 'receive-return', { signedBy: 'warehouse-3' });
    const failed = await act('agent', number, 'inspect-return', { appearance: 'fail', function: 'pass' });
    expect(failed).toMatchObject({ status: 'negotiating', allowedActions: ['settle-return', 'note'] });
    const settled = await act('agent', number, 'settle-return', {
      outcome: 'returned_to_customer',
      note: 'Deep scratches; customer takes it back',
    });
    expect(settled).toMatchObject({ status: 'closed', closure: { reason: 'returned_to_customer' } });
    expect((await timeline(number)).slice(-6)).toEqual([
      'return_received',
      'notification:return_received',
      'return_inspected',
      'notification:return_inspection_failed',
      'return_settled',
      'closed',
    ]);
  });
});

/** A product in the catalogue with `onHand` units received into the warehouse. */
async function productInStock(onHand: number): Promise<string> {
  const partNumber = `KFR-${randomInt(1e9)}`;
  const created = await call('parts', 'POST', '/v1/parts', {
    partNumber,
    name: '空调整机',
    specification: 'KFR-35GW',
    productLines: ['air-conditioner'],
    unitCost: 150_000,
    unitPrice: 299_900,
  });
  expect(created.statusCode).toBe(201);
  if (onHand > 0) {
    const receipt = await call('parts', 'POST', '/v1/stock/receipts', {
      partNumber,
      locationId: WAREHOUSE,
      accepted: onHand,
      reference: 'PO-EX',
    });
    expect(receipt.statusCode).toBe(201);
  }
  return partNumber;
}

/** Each location's on hand and reserved, checked against the ledger's applied rows. */
async function stockOf(partNumber: string) {
  const rows = await stack.database.db.execute<{
    location_id: string;
    on_hand: number;
    reserved: number;
    ledger: number;
  }>(sql`
    select l.location_id, l.on_hand, l.reserved,
           (select coalesce(sum(m.quantity), 0)::int from stock_movements m
            where m.part_number = l.part_number and m.location_id = l.location_id and m.status = 'applied') as ledger
    from stock_levels l where l.part_number = ${partNumber} order by l.location_id`);
  for (const row of rows) expect(row.on_hand, `${row.location_id} on hand = ledger`).toBe(row.ledger);
  return Object.fromEntries(
    rows.map((row) => [row.location_id, { onHand: row.on_hand, reserved: row.reserved }]),
  );
}

async function ticketMovements(number: string) {
  const rows = await stack.database.db
    .select({
      kind: stockMovements.kind,
      locationId: stockMovements.locationId,
      quantity: stockMovements.quantity,
      reason: stockMovements.reason,
    })
    .from(stockMovements)
    .where(eq(stockMovements.ticketNumber, number))
    .orderBy(stockMovements.id);
  return rows.map((row) => [row.kind, row.locationId, row.quantity, row.reason]);
}

describe('an exchange after approval: replacement from stock, acceptance, the unit back in stock', () => {
  async function approvedExchange() {
    const number = await create('exchange', daysAgo(10), 'client');
    await act('agent', number, 'request-return', { returnReason: 'quality_defect', proofs: BOTH });
    const approved = await act('manager', number, 'approve', {});
    expect(approved.status).toBe('exchanging');
    return number;
  }

  it('from request to the customer’s acceptance: the replacement leaves stock, the returned unit comes back', async () => {
    const partNumber = await productInStock(3);
    const number = await approvedExchange();
    const ship = { partNumber, carrier: 'SF Express', trackingNumber: 'SF555' };
    const unreserved = await call('parts', 'POST', `/v1/tickets/${number}/ship-replacement`, ship);
    expect(unreserved.statusCode).toBe(409);
    expect(unreserved.json().detail).toContain('reserve the replacement with parts-request first');
    expect(await ticketMovements(number)).toEqual([]);

    const reserved = await call('parts', 'POST', `/v1/tickets/${number}/parts-request`, {
      lines: [{ partNumber, quantity: 1 }],
    });
    expect(reserved.statusCode).toBe(201);
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 3, reserved: 1 } });
    const shipped = await act('parts', number, 'ship-replacement', ship);
    expect(shipped).toMatchObject({
      status: 'replacement_shipped',
      returnCase: { replacements: [{ round: 1, ...ship, accepted: null }] },
    });
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 2, reserved: 0 } });

    expect((await act('client', number, 'confirm-replacement', { accepted: true })).status).toBe(
      'awaiting_unit',
    );
    const unknown = await call('parts', 'POST', `/v1/tickets/${number}/receive-unit`, {
      partNumber,
      locationId: 'nowhere',
      disposition: 'refurbish',
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().detail).toBe('no stock location nowhere');
    const closed = await act('parts', number, 'receive-unit', {
      partNumber,
      locationId: REFURB,
      disposition: 'refurbish',
    });
    expect(closed).toMatchObject({
      status: 'closed',
      closure: { reason: 'exchanged' },
      returnCase: { returnedUnit: { partNumber, locationId: REFURB, disposition: 'refurbish' } },
    });
    expect(await stockOf(partNumber)).toEqual({
      [REFURB]: { onHand: 1, reserved: 0 },
      [WAREHOUSE]: { onHand: 2, reserved: 0 },
    });
    expect(await ticketMovements(number)).toEqual([
      ['issue', WAREHOUSE, -1, null],
      ['receipt', REFURB, 1, 'customer unit: refurbish'],
    ]);
    expect(await timeline(number)).toEqual([
      'created',
      'acknowledged',
      'notification:ticket_acknowledged',
      'return_requested',
      'notification:return_approval_needed',
      'approved',
      'notification:return_decided',
      'notification:replacement_needed',
      'replacement_shipped',
      'notification:replacement_shipped',
      'replacement_confirmed',
      'notification:replacement_answered',
      'unit_received',
      'notification:unit_to_inspect',
      'closed',
    ]);
    expect(await notifications(number)).toEqual(
      expect.arrayContaining([
        ['replacement_answered', 'parts', 'internal'],
        ['unit_to_inspect', 'qc', 'internal'],
      ]),
    );
  });

  it('waits for stock on its parts clock, then a refused replacement comes back into stock once and a new round starts; a scrapped unit leaves on hand unchanged', async () => {
    const partNumber = await productInStock(0);
    const number = await approvedExchange();
    const short = await call('parts', 'POST', `/v1/tickets/${number}/parts-request`, {
      lines: [{ partNumber, quantity: 1 }],
    });
    expect(short.json().shortfalls).toMatchObject([{ partNumber, quantity: 1 }]);
    const waiting = (await call('admin', 'GET', `/v1/tickets/${number}`)).json();
    expect(waiting.sla.partsWait).toMatchObject({ metAt: null });

    await call('parts', 'POST', '/v1/stock/receipts', {
      partNumber,
      locationId: WAREHOUSE,
      accepted: 2,
      reference: 'PO-2',
    });
    await call('parts', 'POST', `/v1/tickets/${number}/parts-request`, {
      lines: [{ partNumber, quantity: 1 }],
    });
    await act('parts', number, 'ship-replacement', { partNumber, carrier: 'EMS', trackingNumber: 'E1' });
    await act('parts', number, 'receive-unit', { partNumber, locationId: WAREHOUSE, disposition: 'scrap' });
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 1, reserved: 0 } });
    const refused = await act('client', number, 'confirm-replacement', { accepted: false, note: 'Dented' });
    expect(refused.status).toBe('exchanging');
    expect(refused.sla.partsWait.metAt).not.toBeNull();
    // The refused replacement is back where it left from, once: a retried step books nothing again.
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 2, reserved: 0 } });
    const again = await returnRefusedReplacement(stack.database.db, {
      ticketNumber: number,
      issueKey: `exchange:${number}:replacement:1`,
      key: `exchange:${number}:replacement:1:refused`,
      actorId: 'retry',
    });
    expect(again).toBe(1);
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 2, reserved: 0 } });
    await call('parts', 'POST', `/v1/tickets/${number}/parts-request`, {
      lines: [{ partNumber, quantity: 1 }],
    });
    await act('parts', number, 'ship-replacement', { partNumber, carrier: 'EMS', trackingNumber: 'E2' });
    const accepted = await act('client', number, 'confirm-replacement', { accepted: true });
    expect(accepted).toMatchObject({ status: 'closed', closure: { reason: 'exchanged' } });
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 1, reserved: 0 } });
    expect(await ticketMovements(number)).toEqual([
      ['issue', WAREHOUSE, -1, null],
      ['receipt', WAREHOUSE, 1, 'customer unit: scrap'],
      ['scrap', WAREHOUSE, -1, 'customer unit: scrap'],
      ['customer_return', WAREHOUSE, 1, 'refused replacement'],
      ['issue', WAREHOUSE, -1, null],
    ]);
  });
});

describe('an out-of-warranty repair: quoted from the price list, consented or expired', () => {
  async function outOfWarranty() {
    const response = await call('client', 'POST', '/v1/tickets', {
      channel: 'app',
      category: 'fault',
      priority: 'normal',
      serviceType: 'repair',
      customer: { name: '赵六', phone: `136${randomInt(10_000_000, 99_999_999)}`, email: 'zhao@example.com' },
      product: { model: 'KFR-35GW', serialNumber: `SN-${randomInt(1e9)}`, purchaseDate: '2020-05-01' },
      description: 'Fan capacitor bulging',
    });
    expect(response.statusCode).toBe(201);
    const number: string = response.json().number;
    await act('agent', number, 'acknowledge');
    return number;
  }

  it('quoted, consented, serviced, paid and invoiced by e-mail: the quote in fen from the catalogue and the repair fees', async () => {
    const partNumber = await productInStock(0);
    const number = await outOfWarranty();
    const early = await call('agent', 'POST', `/v1/tickets/${number}/resolve`, {
      diagnosis: 'Capacitor',
      fix: 'Replaced',
      functionalTest: 'passed',
    });
    expect(early.statusCode).toBe(409);
    expect(early.json().detail).toContain('out of warranty: the customer consents to a quote first');
    const unknown = await call('agent', 'POST', `/v1/tickets/${number}/quote`, {
      parts: [{ partNumber: 'NO-SUCH-PART', quantity: 1 }],
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().detail).toBe('parts.partNumber: not in the catalogue: NO-SUCH-PART');
    const quoted = await act('agent', number, 'quote', { parts: [{ partNumber, quantity: 1 }] });
    expect(quoted).toMatchObject({
      status: 'awaiting_consent',
      allowedActions: ['consent', 'cancel', 'note'],
      quote: {
        round: 1,
        totalFen: 299_900 + 8_000 + 5_000,
        status: 'pending',
        lines: [
          { kind: 'part', partNumber, quantity: 1, unitPriceFen: 299_900, amountFen: 299_900 },
          { kind: 'labor', amountFen: 8_000 },
          { kind: 'visit', amountFen: 5_000 },
        ],
      },
      sla: { quoteExpiry: { duration: '4s', metAt: null } },
    });
    const consented = await act('client', number, 'consent', { accepted: true });
    expect(consented).toMatchObject({ status: 'acknowledged', quote: { status: 'accepted' } });
    const resolved = await act('agent', number, 'resolve', {
      diagnosis: 'Capacitor bulging',
      fix: 'Replaced the capacitor',
      functionalTest: 'passed',
    });
    expect(resolved.serviceRecords[0].input).toMatchObject({ quoteRound: 1, quotedFen: 312_900 });
    expect(resolved.sla.payment).toMatchObject({ metAt: null, breachedAt: null });
    const wrongAmount = await call('finance', 'POST', `/v1/tickets/${number}/record-payment`, {
      amountFen: 300_000,
      method: 'wechat_pay',
      reference: 'WX-P1',
    });
    expect(wrongAmount.statusCode).toBe(409);
    expect(wrongAmount.json().detail).toContain(
      "amountFen must be the consented quote's total, 312900 (¥3,129.00)",
    );
    const paid = await act('finance', number, 'record-payment', {
      amountFen: 312_900,
      method: 'wechat_pay',
      reference: 'WX-P1',
    });
    expect(paid.payment).toMatchObject({ amountFen: 312_900, method: 'wechat_pay', reference: 'WX-P1' });
    expect(paid.sla.payment.metAt).not.toBeNull();
    const invoiced = await act('finance', number, 'send-invoice', { invoiceNumber: 'INV-2026-000123' });
    expect(invoiced.invoice).toMatchObject({ invoiceNumber: 'INV-2026-000123' });
    const events = await timeline(number);
    expect(events.slice(0, 9)).toEqual([
      'created',
      'acknowledged',
      'notification:ticket_acknowledged',
      'quoted',
      'notification:quote_sent',
      'notification:quote_sent',
      'quote_accepted',
      'notification:quote_consented',
      'resolved',
    ]);
    expect(events.slice(-4)).toEqual([
      'payment_recorded',
      'notification:payment_received',
      'invoice_sent',
      'notification:invoice_sent',
    ]);
    expect(await notifications(number)).toEqual(
      expect.arrayContaining([
        ['quote_sent', 'customer', 'sms'],
        ['quote_sent', 'customer', 'email'],
        ['quote_consented', 'agent', 'internal'],
        ['payment_received', 'customer', 'sms'],
        ['invoice_sent', 'customer', 'email'],
      ]),
    );
  });

  it('a quote that expires: the ticket closes as declined, nothing charged', async () => {
    const number = await outOfWarranty();
    await act('agent', number, 'quote', {});
    const closed = await vi.waitFor(
      async () => {
        const ticket = (await call('admin', 'GET', `/v1/tickets/${number}`)).json();
        if (ticket.status !== 'closed') throw new Error(`still ${ticket.status}`);
        return ticket;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(closed).toMatchObject({
      closure: { reason: 'declined' },
      quote: { status: 'expired', totalFen: 13_000 },
      serviceRecords: [],
    });
    expect(await timeline(number)).toEqual([
      'created',
      'acknowledged',
      'notification:ticket_acknowledged',
      'quoted',
      'notification:quote_sent',
      'notification:quote_sent',
      'quote_expired',
      'closed',
    ]);
  });

  const reservationsOf = async (number: string) =>
    (await call('admin', 'GET', `/v1/tickets/${number}/parts`)).json().items;
  async function reservedFor(number: string, partNumber: string, quantity: number) {
    const requested = await call('agent', 'POST', `/v1/tickets/${number}/parts-request`, {
      lines: [{ partNumber, quantity }],
    });
    expect(requested.statusCode).toBe(201);
    expect(requested.json().reservations).toMatchObject([{ locationId: WAREHOUSE, quantity }]);
  }

  it('parts the ticket holds go back to stock when the customer declines, and when the quote expires', async () => {
    const partNumber = await productInStock(5);
    const declined = await outOfWarranty();
    const expired = await outOfWarranty();
    await reservedFor(declined, partNumber, 2);
    await reservedFor(expired, partNumber, 1);
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 5, reserved: 3 } });

    await act('agent', declined, 'quote', {});
    await act('agent', expired, 'quote', {});
    const answer = await act('client', declined, 'consent', { accepted: false });
    expect(answer).toMatchObject({ status: 'closed', closure: { reason: 'declined' } });
    expect(await reservationsOf(declined)).toMatchObject([{ status: 'released', issuedQuantity: 0 }]);
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 5, reserved: 1 } });

    // The expiry is the ticket's own clock: its workflow releases what it held after closing it.
    await vi.waitFor(
      async () => {
        expect(await reservationsOf(expired)).toMatchObject([{ status: 'released', issuedQuantity: 0 }]);
      },
      { timeout: 20_000, interval: 200 },
    );
    const ticket = (await call('admin', 'GET', `/v1/tickets/${expired}`)).json();
    expect(ticket).toMatchObject({ status: 'closed', closure: { reason: 'declined' } });
    expect(await stockOf(partNumber)).toEqual({ [WAREHOUSE]: { onHand: 5, reserved: 0 } });
  });
});

describe('a remedy on a complaint’s follow-up', () => {
  it('a remedy above the policy’s value needs a manager’s approval, then the customer is told', async () => {
    const number = await create('return', daysAgo(1));
    // A repair in warranty: resolved at the desk, then a 2-star callback opens the follow-up.
    await act('admin', number, 'classify', { serviceType: 'repair' });
    await act('agent', number, 'resolve', {
      diagnosis: 'Noise',
      fix: 'Tightened the fan',
      functionalTest: 'passed',
    });
    const scores = {
      responsiveness: 2,
      professionalism: 2,
      attitude: 2,
      resolution: 2,
      overall: 2,
      recommend: 2,
    };
    expect(
      (
        await act('agent', number, 'callback', {
          channel: 'phone',
          scores,
          dissatisfaction: 'lacks_expertise',
        })
      ).status,
    ).toBe('follow_up');

    const remedy = {
      kind: 'gifted_part',
      valueFen: 25_000,
      partNumber: 'FILTER-1',
      note: 'Sorry for the noise',
    };
    expect((await call('agent', 'POST', `/v1/tickets/${number}/offer-remedy`, remedy)).statusCode).toBe(403);
    const offered = await act('admin', number, 'offer-remedy', remedy);
    expect(offered.remedies).toMatchObject([{ id: 1, kind: 'gifted_part', status: 'awaiting_approval' }]);
    expect(offered.sla.remedyApproval).toMatchObject({ duration: '1bd', metAt: null });
    const decided = await act('manager', number, 'decide-remedy', { approved: true });
    expect(decided.remedies).toMatchObject([{ status: 'granted', decidedBy: 'mgr-r' }]);
    expect(decided.sla.remedyApproval.metAt).not.toBeNull();
    expect((await timeline(number)).slice(-5)).toEqual([
      'remedy_offered',
      'notification:remedy_approval_needed',
      'remedy_decided',
      'remedy_granted',
      'notification:remedy_granted',
    ]);
    expect(await notifications(number)).toEqual(
      expect.arrayContaining([
        ['remedy_approval_needed', 'manager', 'internal'],
        ['remedy_granted', 'customer', 'sms'],
      ]),
    );
  });
});

describe('the returns report', () => {
  it('counts this file’s requests by kind, reason and model, and its refunds, revenue, remedies and quotes', async () => {
    const response = await call('admin', 'GET', `/v1/reports/returns?from=${daysAgo(1)}&to=${daysAgo(0)}`);
    expect(response.statusCode).toBe(200);
    const report = response.json();
    const mine = report.requests.filter((row: { model: string }) => row.model === MODEL);
    expect(mine).toEqual(
      expect.arrayContaining([
        {
          kind: 'return',
          returnReason: 'quality_defect',
          model: MODEL,
          requested: 4,
          approved: 4,
          refused: 0,
          rejected: 0,
        },
        {
          kind: 'exchange',
          returnReason: 'quality_defect',
          model: MODEL,
          requested: 2,
          approved: 2,
          refused: 0,
          rejected: 0,
        },
        {
          kind: 'exchange',
          returnReason: 'not_as_described',
          model: MODEL,
          requested: 1,
          approved: 0,
          refused: 1,
          rejected: 0,
        },
        {
          kind: 'return',
          returnReason: 'changed_mind',
          model: MODEL,
          requested: 1,
          approved: 0,
          refused: 0,
          rejected: 1,
        },
        {
          kind: 'return',
          returnReason: 'damaged_on_arrival',
          model: MODEL,
          requested: 1,
          approved: 0,
          refused: 0,
          rejected: 0,
        },
      ]),
    );
    expect(report.refunds.count).toBeGreaterThanOrEqual(1);
    expect(report.refunds.totalFen).toBeGreaterThanOrEqual(129_900);
    expect(report.refunds.averageHours).toBeGreaterThanOrEqual(0);
    expect(report.outOfWarrantyRevenue.totalFen).toBeGreaterThanOrEqual(312_900);
    expect(report.remedies).toEqual(
      expect.arrayContaining([
        { kind: 'gifted_part', granted: expect.any(Number), costFen: expect.any(Number) },
      ]),
    );
    expect(report.quotes.accepted).toBeGreaterThanOrEqual(1);
    expect(report.quotes.expired).toBeGreaterThanOrEqual(1);
    expect(report.quotes.acceptanceRate).toBeGreaterThan(0);
    expect(report.quotes.acceptanceRate).toBeLessThan(1);
    const forbidden = await call('client', 'GET', `/v1/reports/returns?from=${daysAgo(0)}&to=${daysAgo(0)}`);
    expect(forbidden.statusCode).toBe(403);
  });
});
