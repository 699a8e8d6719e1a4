import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ticketEvents } from '../../db/schema';
import { saveTicketChange } from '../../db/ticket-store';
import {
  actionInputSchema,
  applyAction,
  fireDue,
  openTicket,
  recordOpening,
  type ActionInput,
  type ActionName,
} from '../../domain/lifecycle';
import type { TicketChange, TicketIntake, TicketState } from '../../domain/ticket';
import {
  AGENT,
  intake,
  policy,
  serviceRecord,
  SUPERVISOR,
  TEST_CUSTOMER_ID,
  unhappyCallback,
} from '../support/fixtures';
import { ADMIN_KEY, startApi, type ApiStack } from '../support/stack';

/**
 * The returns and money figures (GET /v1/reports/returns, and the summary's `returns` section)
 * against a seeded dataset whose every figure is computed by hand below. The tickets are built by
 * the real lifecycle in February 2002, a period no other test touches. Business zone:
 * Asia/Shanghai; default policy (labour ¥80 + visit ¥50 for a repair: a quote without parts is
 * 13,000 fen; remedies above 10,000 fen wait for a manager).
 */
const slaPolicy = policy({ qcSampleRate: 0 });
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse('2002-02-04T10:00:00+08:00'); // Monday
const BOTH = ['purchase_proof', 'product'];
const OLD = { serialNumber: 'SN-OLD', purchaseDate: '1999-01-01' };
let stack: ApiStack;

class Seed {
  constructor(readonly state: TicketState) {}

  static async open(number: string, atMs: number, overrides: Partial<TicketIntake>) {
    const state = openTicket({
      number,
      intake: intake(overrides),
      customerId: TEST_CUSTOMER_ID,
      repeatOf: null,
      createdBy: AGENT,
      createdAtMs: atMs,
      policy: slaPolicy,
    });
    await save(state, recordOpening(state));
    await new Seed(state).act('acknowledge', {}, atMs + MIN);
    return new Seed(state);
  }

  async act<A extends ActionName>(action: A, input: Record<string, unknown>, atMs: number) {
    const parsed = actionInputSchema(action).parse(input) as ActionInput<A>;
    await save(
      this.state,
      applyAction(this.state, action, parsed, { nowMs: atMs, actor: SUPERVISOR, policy: slaPolicy }),
    );
    return this;
  }

  async due(atMs: number) {
    await save(this.state, fireDue(this.state, atMs, slaPolicy));
    return this;
  }
}

async function save(state: TicketState, change: TicketChange) {
  await saveTicketChange(stack.database.db, structuredClone(state), change);
}

/** An approved return through to its refund, `hours` after the approval. */
async function refundedReturn(number: string, model: string, amountFen: number, hours: number) {
  const ticket = await Seed.open(number, T0, {
    serviceType: 'return',
    product: { model, serialNumber: number, purchaseDate: '2002-02-01' },
  });
  await ticket.act('request-return', { returnReason: 'quality_defect', proofs: BOTH }, T0 + HOUR);
  await ticket.act('approve', {}, T0 + 2 * HOUR);
  await ticket.act('ship-back', { carrier: 'SF', trackingNumber: number }, T0 + 3 * HOUR);
  await ticket.act('receive-return', { signedBy: 'wh-1' }, T0 + DAY);
  await ticket.act('inspect-return', { appearance: 'pass', function: 'pass' }, T0 + DAY + HOUR);
  await ticket.act(
    'refund',
    { amountFen, method: 'alipay', reference: `RF-${number}` },
    T0 + 2 * HOUR + hours * HOUR,
  );
}

beforeAll(async () => {
  stack = await startApi({ taskQueue: `returns-report-${process.pid}`, policy: {} });

  // Requests: two returns of model A for a defect, approved and refunded 50 h and 26 h after the
  // approval (¥1,299 and ¥999); a return of model A for a changed mind, out of its 7-day window:
  // refused; an exchange of model B, rejected by the manager.
  await refundedReturn('WO20020204-101', 'RPT-A', 129_900, 50);
  await refundedReturn('WO20020204-102', 'RPT-A', 99_900, 26);
  const late = await Seed.open('WO20020204-103', T0, {
    serviceType: 'return',
    product: { model: 'RPT-A', serialNumber: 'SN-103', purchaseDate: '2002-01-01' },
  });
  await late.act('request-return', { returnReason: 'changed_mind', proofs: BOTH }, T0 + HOUR);
  const exchange = await Seed.open('WO20020204-104', T0, {
    serviceType: 'exchange',
    product: { model: 'RPT-B', serialNumber: 'SN-104', purchaseDate: '2002-01-30' },
  });
  await exchange.act('request-return', { returnReason: 'quality_defect', proofs: BOTH }, T0 + HOUR);
  await exchange.act('reject', { reason: 'Damage by misuse' }, T0 + 2 * HOUR);

  // Quotes: Q1 round 1 accepted, round 2 (more work found) declined; Q2 round 1 expired, the ticket
  // reopened, round 2 accepted, repaired and paid ¥130; Q3 round 1 accepted, repaired, paid ¥130.
  const q1 = await Seed.open('WO20020204-201', T0, { product: { model: 'RPT-C', ...OLD } });
  await q1.act('quote', {}, T0 + HOUR);
  await q1.act('consent', { accepted: true }, T0 + 2 * HOUR);
  await q1.act('quote', {}, T0 + 3 * HOUR);
  await q1.act('consent', { accepted: false }, T0 + 4 * HOUR);
  const q2 = await Seed.open('WO20020204-202', T0, { product: { model: 'RPT-C', ...OLD } });
  await q2.act('quote', {}, T0 + HOUR);
  await q2.due(T0 + 49 * HOUR);
  await q2.act('reopen', { reason: 'The customer wants it after all' }, T0 + 3 * DAY);
  await q2.act('quote', {}, T0 + 3 * DAY + HOUR);
  await q2.act('consent', { accepted: true }, T0 + 3 * DAY + 2 * HOUR);
  await q2.act('resolve', serviceRecord, T0 + 3 * DAY + 3 * HOUR);
  const payment = { amountFen: 13_000, method: 'wechat_pay', reference: 'PAY-202' };
  await q2.act('record-payment', payment, T0 + 3 * DAY + 4 * HOUR);
  const q3 = await Seed.open('WO20020204-203', T0, { product: { model: 'RPT-C', ...OLD } });
  await q3.act('quote', {}, T0 + HOUR);
  await q3.act('consent', { accepted: true }, T0 + 2 * HOUR);
  await q3.act('resolve', serviceRecord, T0 + 3 * HOUR);
  await q3.act('record-payment', { ...payment, reference: 'PAY-203' }, T0 + 4 * HOUR);

  // Remedies on a complaint: a ¥50 voucher (granted at once), a 12-month extension worth ¥200
  // (a manager approves), a ¥300 gifted part (a manager rejects: no cost).
  const complaint = await Seed.open('WO20020204-301', T0, { product: { model: 'RPT-D', ...OLD } });
  complaint.state.quoteBeforeWork = false;
  await complaint.act('resolve', serviceRecord, T0 + HOUR);
  await complaint.act('callback', unhappyCallback, T0 + 2 * HOUR);
  await complaint.act('offer-remedy', { kind: 'voucher', valueFen: 5_000 }, T0 + 3 * HOUR);
  await complaint.act(
    'offer-remedy',
    { kind: 'extended_warranty', valueFen: 20_000, months: 12 },
    T0 + 4 * HOUR,
  );
  await complaint.act('decide-remedy', { approved: true }, T0 + 5 * HOUR);
  await complaint.act(
    'offer-remedy',
    { kind: 'gifted_part', valueFen: 30_000, partNumber: 'FM-220' },
    T0 + 6 * HOUR,
  );
  await complaint.act('decide-remedy', { approved: false, reason: 'Too much' }, T0 + 7 * HOUR);
});

afterAll(async () => {
  await stack?.close();
});

/** Every figure of February 2002, by hand from the tickets above. */
const FEBRUARY = {
  requests: [
    {
      kind: 'return',
      returnReason: 'quality_defect',
      model: 'RPT-A',
      requested: 2,
      approved: 2,
      refused: 0,
      rejected: 0,
    },
    {
      kind: 'exchange',
      returnReason: 'quality_defect',
      model: 'RPT-B',
      requested: 1,
      approved: 0,
      refused: 0,
      rejected: 1,
    },
    {
      kind: 'return',
      returnReason: 'changed_mind',
      model: 'RPT-A',
      requested: 1,
      approved: 0,
      refused: 1,
      rejected: 0,
    },
  ],
  // 129,900 + 99,900 fen; (50 + 26) / 2 hours from approval to refund.
  refunds: { count: 2, totalFen: 229_800, averageHours: 38, maxHours: 50 },
  outOfWarrantyRevenue: { payments: 2, totalFen: 26_000 },
  remedies: [
    { kind: 'extended_warranty', granted: 1, costFen: 20_000 },
    { kind: 'voucher', granted: 1, costFen: 5_000 },
  ],
  // Five rounds answered: accepted Q1/1, Q2/2, Q3/1; declined Q1/2; expired Q2/1: 3 / 5.
  quotes: { accepted: 3, declined: 1, expired: 1, acceptanceRate: 0.6 },
};

function get(url: string) {
  return stack.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
}

describe('the returns and money figures against a hand-computed month', () => {
  it('GET /v1/reports/returns: requests by kind, reason and model, refund time, revenue, remedy cost, quote rounds', async () => {
    const response = await get('/v1/reports/returns?from=2002-02-01&to=2002-02-28');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ from: '2002-02-01', to: '2002-02-28', ...FEBRUARY });
  });

  it('the summary report carries the same figures in its returns section, and in its CSV', async () => {
    const response = await get('/v1/reports/summary?from=2002-02-01&to=2002-02-28');
    expect(response.statusCode).toBe(200);
    expect(response.json().returns).toEqual(FEBRUARY);
    const csv = (await get('/v1/reports/summary?from=2002-02-01&to=2002-02-28&format=csv')).body;
    expect(csv.split('\r\n')).toEqual(
      expect.arrayContaining([
        'returnRequests,return quality_defect (RPT-A),2',
        'refunds,averageHours,38',
        'outOfWarrantyRevenue,totalFen,26000',
        'remedyCostFen,extended_warranty,20000',
        'quotes,acceptanceRate,0.6',
      ]),
    );
  });

  it('every quote round stays on the ticket, the consented one marked accepted', async () => {
    const ticket = (await get('/v1/tickets/WO20020204-202')).json();
    expect(
      ticket.quotes.map((quote: { round: number; status: string }) => [quote.round, quote.status]),
    ).toEqual([
      [1, 'expired'],
      [2, 'accepted'],
    ]);
    expect(ticket.quote).toMatchObject({ round: 2, status: 'accepted' });
  });

  it('a month with none of it has empty figures and no rate', async () => {
    const response = await get('/v1/reports/returns?from=2002-01-01&to=2002-01-31');
    expect(response.json()).toMatchObject({
      requests: [],
      refunds: { count: 0, totalFen: 0, averageHours: null, maxHours: null },
      outOfWarrantyRevenue: { payments: 0, totalFen: 0 },
      remedies: [],
      quotes: { accepted: 0, declined: 0, expired: 0, acceptanceRate: null },
    });
  });
});

describe('the summary’s service costs in fen', () => {
  it('averages the service records in fen, a record written in yuan before fen everywhere counted ×100', async () => {
    const jan = Date.parse('2003-01-06T10:00:00+08:00');
    const fen = await Seed.open('WO20030106-001', jan, {});
    await fen.act('resolve', serviceRecord, jan + HOUR); // 18,000 fen of parts, a 5,000 fen visit
    const yuan = await Seed.open('WO20030106-002', jan, {});
    await yuan.act('resolve', { ...serviceRecord, fees: { visitFen: 3_000 } }, jan + HOUR);
    // What the yuan-era record wrote: ¥100 of parts, a ¥10 visit.
    await stack.database.db
      .update(ticketEvents)
      .set({
        data: sql`(${ticketEvents.data} - 'partsCostFen' - 'visitCostFen') || '{"partsCost":100,"visitCost":10}'::jsonb`,
      })
      .where(and(eq(ticketEvents.ticketNumber, 'WO20030106-002'), eq(ticketEvents.type, 'resolved')));
    const summary = (await get('/v1/reports/summary?from=2003-01-01&to=2003-01-31')).json();
    // Parts (18,000 + 10,000) / 2, visits (5,000 + 1,000) / 2.
    expect(summary.costs).toEqual({ averagePartsCostFen: 14_000, averageVisitCostFen: 3_000 });
  });
});
