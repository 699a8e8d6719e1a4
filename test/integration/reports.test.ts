import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { upsertEngineer } from '../../db/engineer-store';
import {
  recordStockRequest,
  reserveForTicket,
  settleReservations,
  upsertLocation,
  upsertPart,
} from '../../db/parts-store';
import { saveTicketChange } from '../../db/ticket-store';
import {
  actionInputSchema,
  applyAction,
  applyDispatchResult,
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
  satisfiedCallback,
  serviceRecord,
  SUPERVISOR,
  TEST_CUSTOMER_ID,
  unhappyCallback,
} from '../support/fixtures';
import { ADMIN_KEY, startApi, type ApiStack } from '../support/stack';

/**
 * The reports against a seeded dataset whose every figure is computed by hand below. The tickets
 * are built by the real lifecycle (so their state and timeline are what the workflow would write)
 * in March 2001, a period no other test touches. Business zone: Asia/Shanghai.
 */
const slaPolicy = policy({ qcSampleRate: 0 });
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse('2001-03-05T10:00:00+08:00'); // Monday
const T1 = Date.parse('2001-04-02T10:00:00+08:00'); // Monday
const iso = (ms: number) => new Date(ms).toISOString();
const followUp = { contactMade: true, cause: 'Rude engineer', improvementPlan: 'Coaching' };
let stack: ApiStack;

const plan = { measures: 'Fix it', department: 'service', customerConfirmed: true };
const QUALITY_FAULT = {
  complaintType: 'component_damaged',
  problemType: 'quality',
  liability: 'product_quality',
} as const;

class Seed {
  constructor(readonly state: TicketState) {}

  static async open(
    number: string,
    atMs: number,
    overrides: Partial<TicketIntake>,
    repeatOf: string | null = null,
  ) {
    const state = openTicket({
      number,
      intake: intake(overrides),
      customerId: TEST_CUSTOMER_ID,
      repeatOf,
      createdBy: AGENT,
      createdAtMs: atMs,
      policy: slaPolicy,
    });
    await save(state, recordOpening(state));
    return new Seed(state);
  }

  async act<A extends ActionName>(action: A, input: ActionInput<A> | Record<string, unknown>, atMs: number) {
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

  async dispatchTo(engineerId: string, atMs: number) {
    this.state.dispatch.attempt += 1;
    await save(
      this.state,
      applyDispatchResult(this.state, this.state.dispatch.attempt, engineerId, atMs, slaPolicy),
    );
    return this;
  }
}

async function save(state: TicketState, change: TicketChange) {
  await saveTicketChange(stack.database.db, structuredClone(state), change);
}

beforeAll(async () => {
  // The on-time arrival target is the policy file's, not seed 004's 95 %.
  stack = await startApi({
    taskQueue: `reports-${process.pid}`,
    policy: { targets: { onTimeArrivalPercent: 80 } },
  });
  await upsertEngineer(stack.database.db, { id: 'eng-report', name: 'Report', skills: ['x'], regions: [] });
  const noRoot = {
    diagnosis: 'Asked about modes',
    fix: 'Explained the remote',
    functionalTest: 'not_applicable',
  };
  // A: phone fault, acknowledged after 5 min, on site 2 h after creation, fixed once, happy customer.
  const a = await Seed.open('WO20010305-001', T0, { channel: 'phone' });
  await a.act('acknowledge', {}, T0 + 5 * MIN);
  await a.act('classify', QUALITY_FAULT, T0 + 5 * MIN);
  await a.act('plan', plan, T0 + 6 * MIN);
  await a.dispatchTo('eng-report', T0 + 7 * MIN);
  await a.act('accept', {}, T0 + 8 * MIN);
  await a.act('schedule', { slotStart: new Date(T0 + 2 * HOUR).toISOString() }, T0 + 9 * MIN);
  await a.act('start', { mode: 'onsite' }, T0 + 2 * HOUR);
  await a.act('resolve', serviceRecord, T0 + 150 * MIN); // Worn bearing, parts 180, visit 50
  await a.act('callback', satisfiedCallback, T0 + 3 * HOUR);
  // B: urgent web complaint, acknowledged after 20 min (escalated at 10), QC fails, fixed again, unhappy.
  const b = await Seed.open('WO20010305-002', T0, {
    channel: 'web',
    category: 'complaint',
    priority: 'urgent',
  });
  await b.due(T0 + 10 * MIN);
  await b.act('escalation-ack', {}, T0 + 15 * MIN);
  await b.act('acknowledge', {}, T0 + 20 * MIN);
  await b.act(
    'classify',
    { complaintType: 'poor_attitude', problemType: 'service', liability: 'service' },
    T0 + 20 * MIN,
  );
  await b.act('plan', { ...plan, dispatch: false }, T0 + 21 * MIN);
  await b.act('resolve', { ...serviceRecord, parts: [], fees: { visitFen: 0 } }, T0 + 60 * MIN);
  await b.act(
    'qc-review',
    {
      aspects: { compliance: 60, effectiveness: 50, communication: 70 }, // 60
      responsible: { id: 'eng-report', role: 'engineer' },
    },
    T0 + 70 * MIN,
  );
  await b.act('plan', { ...plan, dispatch: false }, T0 + 80 * MIN);
  await b.act(
    'resolve',
    { ...serviceRecord, rootCause: 'Loose wire', parts: [], fees: { visitFen: 3_000 } },
    T0 + 4 * HOUR,
  );
  await b.act(
    'qc-review',
    { aspects: { compliance: 95, effectiveness: 88, communication: 87 } }, // 90
    T0 + 4.5 * HOUR,
  );
  await b.act('callback', { ...unhappyCallback, satisfaction: 'dissatisfied' }, T0 + 5 * HOUR); // 4,4,2,4,3,3
  // Handling B's complaint: a revisit ¥80 and staff time ¥40.50 recorded, a ¥50 voucher granted.
  await b.act(
    'record-handling-cost',
    {
      items: [
        { kind: 'revisit', amountFen: 8_000 },
        { kind: 'staff_time', amountFen: 4_050 },
      ],
    },
    T0 + 5 * HOUR,
  );
  await b.act('offer-remedy', { kind: 'voucher', valueFen: 5_000 }, T0 + 5 * HOUR);
  // C: app consultation, acknowledged after 2 min, resolved 8 days later (past its 5 business days).
  const c = await Seed.open('WO20010305-003', T0, { channel: 'app', category: 'consultation' });
  await c.act('acknowledge', {}, T0 + 2 * MIN);
  await c.act(
    'classify',
    { complaintType: 'component_damaged', problemType: 'product', liability: 'customer_use' },
    T0 + 2 * MIN,
  );
  await c.act('plan', { ...plan, dispatch: false }, T0 + 3 * MIN);
  await c.act('resolve', noRoot, T0 + 8 * DAY);
  await c.act('callback', { ...satisfiedCallback, satisfaction: 'very_satisfied' }, T0 + 8 * DAY + HOUR);
  // D: critical phone fault nobody acknowledged (escalated at 10 min), cancelled at 30 min.
  const d = await Seed.open('WO20010305-004', T0, { channel: 'phone', priority: 'critical' });
  await d.due(T0 + 10 * MIN);
  await d.act('classify', { complaintType: 'slow_handling' }, T0 + 20 * MIN); // cancelled: not counted
  await d.act('cancel', { reason: 'Duplicate' }, T0 + 30 * MIN);
  // E: wechat repeat fault opened 00:30 Monday local (Sunday 16:30 UTC), acknowledged after 8 min.
  const eAt = Date.parse('2001-03-04T16:30:00Z');
  const e = await Seed.open('WO20010305-005', eAt, { channel: 'wechat' }, 'WO20010101-001');
  await e.act('acknowledge', {}, eAt + 8 * MIN);
  // F: 00:30 Wednesday local — the day after the period, though still Tuesday in UTC.
  await Seed.open('WO20010307-001', Date.parse('2001-03-06T16:30:00Z'), { channel: 'email' });
  await seedParts();
  await seedServiceKpis();
});

/**
 * April 2001 (Monday 2 to Tuesday 3, T1 10:00 local): four tickets for the service KPIs.
 * G: planned at +6 min, offered at +7 (1 min: in time), declined at +10 (3 min), offered again at +11
 *    and accepted at +12 (1 min), booked at +13 (1 min after the accept); the visit rebooked at +14
 *    from 11:00 to 12:00–13:00, engineer starts 12:30 (on time), on site 1 h, callback owed at 13:30
 *    but made 30 h later (its clock ran out at 24 h).
 * H: planned at +6 min, offered only at +12 (6 min: late); nobody answered, so the acceptance clock
 *    ran out at +27 and it was offered again at +28, accepted at +30 (2 min), booked only at +70
 *    (40 min after the accept: late); visit booked 12:00 (no end), engineer starts 12:15 (late), on
 *    site 1.5 h; two unhappy callbacks: the first followed up in 30 min (in time), the second after
 *    2 h (its 1 h clock ran out).
 * I: a complaint nobody answered for 25 h (its first response ran out at 10 min), planned for an
 *    engineer at 25 h + 1 min but never offered to one, resolved at 26 h, QC 75 (pass), its callback
 *    never made (ran out at 24 h).
 * J: planned at +6 min, offered only at +20 (14 min: late), accepted at +21 (1 min), served remotely
 *    from +60 (no visit to book), still in service.
 */
async function seedServiceKpis() {
  const product = (model: string) => ({ product: { model, serialNumber: `SN-${model}` } });
  const g = await Seed.open('WO20010402-001', T1, product('MODEL-G'));
  await g.act('acknowledge', {}, T1 + 5 * MIN);
  await g.act('plan', plan, T1 + 6 * MIN);
  await g.dispatchTo('eng-report', T1 + 7 * MIN);
  await g.act('decline', { reason: 'Time conflict' }, T1 + 10 * MIN);
  await g.dispatchTo('eng-report', T1 + 11 * MIN);
  await g.act('accept', {}, T1 + 12 * MIN);
  await g.act('schedule', { slotStart: iso(T1 + HOUR) }, T1 + 13 * MIN);
  await g.act('schedule', { slotStart: iso(T1 + 2 * HOUR), slotEnd: iso(T1 + 3 * HOUR) }, T1 + 14 * MIN);
  await g.act('start', { mode: 'onsite' }, T1 + 150 * MIN);
  await g.act('resolve', serviceRecord, T1 + 210 * MIN); // Worn bearing
  await g.due(T1 + 210 * MIN + DAY);
  await g.act('callback', satisfiedCallback, T1 + 210 * MIN + 30 * HOUR);

  const h = await Seed.open('WO20010402-002', T1, product('MODEL-H'));
  await h.act('acknowledge', {}, T1 + 5 * MIN);
  await h.act('plan', plan, T1 + 6 * MIN);
  await h.dispatchTo('eng-report', T1 + 12 * MIN);
  await h.due(T1 + 27 * MIN); // the 15 min acceptance clock: acceptance_missed, back to dispatch
  await h.dispatchTo('eng-report', T1 + 28 * MIN);
  await h.act('accept', {}, T1 + 30 * MIN);
  await h.act('schedule', { slotStart: iso(T1 + 2 * HOUR) }, T1 + 70 * MIN);
  await h.act('start', { mode: 'onsite' }, T1 + 135 * MIN);
  await h.act('resolve', serviceRecord, T1 + 225 * MIN); // Worn bearing
  await h.act('callback', unhappyCallback, T1 + 4 * HOUR); // follow-up due at 5 h
  await h.act('follow-up', followUp, T1 + 270 * MIN);
  await h.act('callback', unhappyCallback, T1 + 5 * HOUR); // follow-up due at 6 h
  await h.due(T1 + 6 * HOUR);
  await h.act('follow-up', followUp, T1 + 7 * HOUR);
  await h.act('callback', satisfiedCallback, T1 + 450 * MIN);

  const i = await Seed.open('WO20010402-003', T1, { ...product('MODEL-G'), category: 'complaint' });
  await i.due(T1 + 10 * MIN);
  await i.act('escalation-ack', {}, T1 + 15 * MIN);
  await i.act('acknowledge', {}, T1 + 25 * HOUR);
  await i.act('plan', plan, T1 + 25 * HOUR + MIN);
  await i.act('resolve', { ...serviceRecord, rootCause: 'Loose wire' }, T1 + 26 * HOUR);
  await i.act('qc-review', { score: 75 }, T1 + 26.5 * HOUR);
  await i.due(T1 + 50.5 * HOUR);

  const j = await Seed.open('WO20010402-004', T1, product('MODEL-J'));
  await j.act('acknowledge', {}, T1 + 5 * MIN);
  await j.act('plan', plan, T1 + 6 * MIN);
  await j.dispatchTo('eng-report', T1 + 20 * MIN);
  await j.act('accept', {}, T1 + 21 * MIN);
  await j.act('start', { mode: 'remote' }, T1 + 60 * MIN);
}

/**
 * Parts through the real stock functions, their times then moved into the period (the parts
 * figures count what was requested and issued in it): E asks for 5 compressors of the 4 in stock
 * (a stock-out) and 2 fan motors, and uses 3 and 2; F, created the day after the period, was given a
 * fan motor on the 6th. Unit cost 30.00 and 12.50 yuan; the price is never counted.
 */
async function seedParts() {
  const db = stack.database.db;
  await upsertLocation(db, { id: 'wh-report', kind: 'warehouse', name: '报表仓' });
  for (const [partNumber, unitCost, quantity] of [
    ['RPT-COMP', 3000, 4],
    ['RPT-FAN', 1250, 10],
  ] as const) {
    await upsertPart(db, { partNumber, name: partNumber, productLines: ['x'], unitCost, unitPrice: 99_900 });
    await recordStockRequest(db, {
      partNumber,
      lines: [{ kind: 'receipt', locationId: 'wh-report', quantity }],
      actorId: 'parts-report',
      approvalThresholdFen: 1_000_000,
    });
  }
  const use = async (
    ticketNumber: string,
    asked: Record<string, number>,
    used: Record<string, number>,
    at: string,
  ) => {
    const lines = Object.entries(asked).map(([partNumber, quantity]) => ({ partNumber, quantity }));
    await reserveForTicket(db, {
      ticketNumber,
      lines,
      assignee: null,
      freeUnderWarranty: false,
      actorId: 'agent',
    });
    await settleReservations(db, {
      ticketNumber,
      outcome: 'issue',
      used,
      dispositions: {},
      key: `report-${ticketNumber}`,
      actorId: 'eng-report',
    });
    await db.execute(sql`update stock_movements set at = ${at} where ticket_number = ${ticketNumber}`);
    await db.execute(
      sql`update part_reservations set requested_at = ${at} where ticket_number = ${ticketNumber}`,
    );
    await db.execute(sql`update part_shortfalls set at = ${at} where ticket_number = ${ticketNumber}`);
  };
  await use(
    'WO20010305-005',
    { 'RPT-COMP': 5, 'RPT-FAN': 2 },
    { 'RPT-COMP': 3, 'RPT-FAN': 2 },
    '2001-03-05T06:00:00Z',
  );
  await use('WO20010307-001', { 'RPT-FAN': 1 }, { 'RPT-FAN': 1 }, '2001-03-06T02:00:00Z');
}

afterAll(async () => {
  await stack?.close();
});

const get = (url: string, key = ADMIN_KEY) =>
  stack.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

describe('the summary report', () => {
  it('computes every KPI of SPEC 1.14 exactly as by hand', async () => {
    const response = await get('/v1/reports/summary?from=2001-03-05&to=2001-03-06');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      period: { from: '2001-03-05', to: '2001-03-06', timeZone: 'Asia/Shanghai' },
      tickets: {
        total: 5, // A–E; F falls on the 7th in Shanghai
        byStatus: { acknowledged: 1, cancelled: 1, closed: 2, follow_up: 1 },
        byCategory: { complaint: 1, consultation: 1, fault: 3 },
        byPriority: { critical: 1, normal: 3, urgent: 1 },
        byChannel: { app: 1, phone: 2, web: 1, wechat: 1 },
      },
      // Acknowledged after 300, 1200, 120, 480 s (D cancelled): mean 2100 / 4 = 525;
      // p90 = 480 + 0.7 × (1200 − 480) = 984; in time A, C, E of A, B, C, E = 75 %.
      firstResponse: { averageSeconds: 525, p90Seconds: 984, compliancePercent: 75 },
      // Resolved in time A and B (second cycle); C after 8 days: 2 / 3. Creation to the last
      // resolution: A 150 min, B 4 h, C 8 days: (9000 + 14400 + 691200) / 3 = 238200 s.
      resolution: { compliancePercent: 66.7, averageSeconds: 238_200 },
      // No return, exchange, quote, payment or refund in this set; B's ¥50 voucher is its one remedy.
      returns: {
        requests: [],
        refunds: { count: 0, totalFen: 0, averageHours: null, maxHours: null },
        outOfWarrantyRevenue: { payments: 0, totalFen: 0 },
        remedies: [{ kind: 'voucher', granted: 1, costFen: 5_000 }],
        quotes: { accepted: 0, declined: 0, expired: 0, acceptanceRate: null },
      },
      averageSecondsToOnSite: 7200, // only A went on site, 2 h after creation
      completionRatePercent: 75, // A, B, C of the 4 not cancelled
      firstTimeFixRatePercent: 66.7, // A and C fixed once; B needed a second service
      // B (re-serviced) and E (repeat of an earlier ticket) of the 4 not cancelled (D, a duplicate
      // cancelled before any work, is no repair that could come back).
      repeatRepairRatePercent: 50,
      // Callbacks A (all 5), B (4, 4, 2, 4, 3, 3), C (all 5).
      csat: {
        callbacks: 3,
        responsiveness: 4.67,
        professionalism: 4.67,
        attitude: 4,
        resolution: 4.67,
        overall: 4.33,
        recommend: 4.33,
      },
      csatTrend: [
        { date: '2001-03-05', overall: 4 }, // A 5 and B 3
        { date: '2001-03-13', overall: 5 }, // C
      ],
      escalations: { total: 2, byLevel: { '1': 2 }, byReason: { first_response_missed: 2 } },
      topCauses: [
        { cause: 'Worn bearing', count: 2 }, // A and B's first service
        { cause: 'Loose wire', count: 1 },
      ],
      // Serviced A, B, C: parts 180 + 0 + 0 = 180 → 60; visits 50 + 30 + 0 = 80 → 26.67.
      costs: { averagePartsCostFen: 6_000, averageVisitCostFen: 2_667 },
      // Owed when resolved (A), after QC (B) and when resolved (C); each made within the hour.
      callbacks: { owed: 3, within24h: 3, within24hPercent: 100 },
      // B opened as a complaint (answered at 20 min) and complained again on its callback (never
      // followed up, due 1 h later): 1 of 2 answered within 24 h, 0 of 1 follow-ups in time; B is
      // the one ticket with a complaint and it has two.
      complaints: {
        responses: 2,
        within24h: 1,
        responseWithin24hPercent: 50,
        followUps: 1,
        followUpsInTime: 0,
        followUpCompliancePercent: 0,
        repeatRatePercent: 100,
        // B, the one complaint: 8000 + 4050 recorded and its 5000 voucher.
        handlingCost: {
          complaints: 1,
          recordedFen: 12_050,
          remediesFen: 5_000,
          totalFen: 17_050,
          averageFenPerComplaint: 17_050,
        },
      },
      // Classified A, B, C (D's classification does not count: cancelled); callbacks A, B, C.
      complaintAnalysis: {
        complaintTypes: [
          { key: 'component_damaged', label: '零部件损坏', count: 2, sharePercent: 66.7 }, // A, C
          { key: 'poor_attitude', label: '服务态度差', count: 1, sharePercent: 33.3 }, // B
        ],
        problemTypes: [
          { key: 'product', label: 'P 产品', count: 1, sharePercent: 33.3 },
          { key: 'quality', label: 'Q 质量', count: 1, sharePercent: 33.3 },
          { key: 'service', label: 'S 服务', count: 1, sharePercent: 33.3 },
        ],
        liabilities: [
          { key: 'customer_use', label: '客户使用', count: 1, sharePercent: 33.3 },
          { key: 'product_quality', label: '产品质量', count: 1, sharePercent: 33.3 },
          { key: 'service', label: '服务过失', count: 1, sharePercent: 33.3 },
        ],
        dissatisfaction: [{ key: 'poor_attitude', label: '态度差', count: 1, sharePercent: 100 }], // B
        satisfaction: [
          { key: 'dissatisfied', label: '不满意', count: 1, sharePercent: 33.3 }, // B
          { key: 'satisfied', label: '满意', count: 1, sharePercent: 33.3 }, // A
          { key: 'very_satisfied', label: '非常满意', count: 1, sharePercent: 33.3 }, // C
        ],
      },
      // A: booked for 12:00, started 12:00, resolved 12:30.
      visits: { booked: 1, onTime: 1, onTimeArrivalPercent: 100, averageSecondsOnSite: 1800 },
      // Only A's plan asked for an engineer (B's and C's did not; D was cancelled, E never planned):
      // planned at 6 min, offered at 7, accepted at 8, booked at 9 — each within its standard.
      dispatch: {
        ticketsToDispatch: 1,
        offeredWithin5m: 1,
        offeredWithin5mPercent: 100,
        offers: 1,
        answeredWithin15m: 1,
        answeredWithin15mPercent: 100,
        accepted: 1,
        bookedWithin30m: 1,
        bookedWithin30mPercent: 100,
      },
      // B: 60 (aspects 60, 50, 70), then 90 (95, 88, 87).
      qualityChecks: {
        reviews: 2,
        passRatePercent: 50,
        byBand: { excellent: 1, fail: 1 },
        aspects: {
          compliance: { reviews: 2, average: 77.5, byBand: { fail: 1, excellent: 1 } },
          effectiveness: { reviews: 2, average: 69, byBand: { fail: 1, pass: 1 } },
          communication: { reviews: 2, average: 78.5, byBand: { pass: 2 } },
        },
      },
      // Runs per clock over A–E (D's too); first response ran out on B and D. C's resolution was
      // late, but no breach was fired for it in this seed.
      timeouts: {
        firstResponse: { runs: 5, timeouts: 2, ratePercent: 40 },
        plan: { runs: 5, timeouts: 0, ratePercent: 0 }, // A, B twice, C, E
        resolution: { runs: 6, timeouts: 0, ratePercent: 0 }, // A–E, B twice
        criticalTemporaryPlan: { runs: 1, timeouts: 0, ratePercent: 0 },
        dispatchAccept: { runs: 1, timeouts: 0, ratePercent: 0 },
        customerContact: { runs: 1, timeouts: 0, ratePercent: 0 },
        callback: { runs: 3, timeouts: 0, ratePercent: 0 },
        complaintFollowUp: { runs: 1, timeouts: 0, ratePercent: 0 },
        rectification: { runs: 1, timeouts: 0, ratePercent: 0 }, // B's failed review
      },
      repairsByModel: [{ model: 'KFR-35GW/ABC123', repairs: 3, repeatRepairs: 1, sharePercent: 100 }],
      // The complaint sub-types of the 3 classified tickets (A, B, C).
      topProblems: [
        { problem: 'component_damaged', label: '零部件损坏', count: 2, sharePercent: 66.7 },
        { problem: 'poor_attitude', label: '服务态度差', count: 1, sharePercent: 33.3 },
      ],
      targets: [
        { kpi: 'firstTimeFixRatePercent', value: 66.7, target: 90, met: false },
        { kpi: 'callbackWithin24hPercent', value: 100, target: 90, met: true },
        { kpi: 'complaintResponseWithin24hPercent', value: 50, target: 100, met: false },
        { kpi: 'onTimeArrivalPercent', value: 100, target: 80, met: true }, // the policy's 80
        { kpi: 'dispatchWithin5mPercent', value: 100, target: 100, met: true },
        { kpi: 'offersAnsweredWithin15mPercent', value: 100, target: 100, met: true },
        { kpi: 'bookedWithin30mPercent', value: 100, target: 100, met: true },
      ],
      // Issued: 3 × 3000 + 2 × 1250 to E, 1 × 1250 to F = 12,750 fen over 2 tickets; E was short.
      parts: {
        issued: { quantity: 6, value: 12_750, tickets: 2 },
        averagePartsCostPerTicket: 6_375,
        // The stock now is every part's (other files' too): its turnover is checked by formula below.
        stockNow: { onHand: expect.any(Number), value: expect.any(Number) },
        turnover: expect.any(Number),
        stockOuts: { tickets: 1, ticketsRequestingParts: 2, sharePercent: 50 },
        topConsumed: [
          { model: 'KFR-35GW/ABC123', partNumber: 'RPT-COMP', quantity: 3, value: 9_000 },
          { model: 'KFR-35GW/ABC123', partNumber: 'RPT-FAN', quantity: 3, value: 3_750 },
        ],
      },
    });
    // Seed 003's 配件库存周转率: what was issued at cost over the stock's value at cost now.
    const { parts } = response.json();
    expect(parts.stockNow.value).toBeGreaterThan(0);
    expect(parts.turnover).toBe(Number((12_750 / parts.stockNow.value).toFixed(2)));
  });

  it('answers CSV with one figure a row', async () => {
    const response = await get('/v1/reports/summary?from=2001-03-05&to=2001-03-06&format=csv');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = response.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('section,metric,value');
    expect(lines).toEqual(
      expect.arrayContaining([
        'tickets,total,5',
        'byStatus,closed,2',
        'firstResponse,p90Seconds,984',
        'resolution,compliancePercent,66.7',
        'csat,attitude,4',
        'escalationsByReason,first_response_missed,2',
        'topCauses,Worn bearing,2',
        'costs,averageVisitCostFen,2667',
        'parts,issuedQuantity,6',
        'parts,issuedValue,12750',
        'parts,ticketsIssuedParts,2',
        'parts,averagePartsCostPerTicket,6375',
        expect.stringMatching(/^parts,turnover,\d+(\.\d+)?$/),
        'partsStockOuts,tickets,1',
        'partsStockOuts,ticketsRequestingParts,2',
        'partsStockOuts,sharePercent,50',
        'partsTopConsumed,RPT-COMP (KFR-35GW/ABC123),3',
        'partsTopConsumed,RPT-FAN (KFR-35GW/ABC123),3',
        'resolution,averageSeconds,238200',
        'callbacks,within24hPercent,100',
        'complaints,responseWithin24hPercent,50',
        'complaints,repeatRatePercent,100',
        'visits,onTimeArrivalPercent,100',
        'qualityChecks,passRatePercent,50',
        'qualityChecksByBand,fail,1',
        'timeoutRatePercent,firstResponse,40',
        'repairShareByModelPercent,KFR-35GW/ABC123,100',
        'topProblemsSharePercent,component_damaged,66.7',
        'complaintHandlingCost,averageFenPerComplaint,17050',
        'complaintTypes,poor_attitude,1',
        'satisfactionSharePercent,very_satisfied,33.3',
        'qualityChecksAspectAverage,effectiveness,69',
        'qualityChecksAspectByBand,communication.pass,2',
        'kpi,onTimeArrivalPercent,100',
        'kpiTarget,onTimeArrivalPercent,80',
        'kpiMet,firstTimeFixRatePercent,false',
        'dispatch,ticketsToDispatch,1',
        'dispatch,offeredWithin5mPercent,100',
        'dispatch,answeredWithin15m,1',
        'dispatch,bookedWithin30mPercent,100',
        'kpi,offersAnsweredWithin15mPercent,100',
        'kpiTarget,bookedWithin30mPercent,100',
        'kpiMet,dispatchWithin5mPercent,true',
      ]),
    );
  });

  it('draws the period as valid SVG with its figures', async () => {
    const response = await get('/v1/reports/summary.svg?from=2001-03-05&to=2001-03-06');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(XMLValidator.validate(response.body)).toBe(true);
    for (const figure of [
      '75 %',
      '66.7 %',
      '4.67',
      '2001-03-05 – 2001-03-06',
      '5 tickets',
      '2001-03-13: 5',
      '6 issued to 2 tickets, ¥127.50; average ¥63.75 per ticket; stock-outs delayed 1 of 2 tickets (50 %)',
      'Top: RPT-COMP (KFR-35GW/ABC123) × 3, RPT-FAN (KFR-35GW/ABC123) × 3',
      'First-time fix: 66.7 % (target ≥ 90 %) ✗ below target',
      'On-time arrival: 100 % (target ≥ 80 %) ✓',
      'Offers answered within 15 min: 100 % (target ≥ 100 %) ✓',
      'Top problems: 零部件损坏 (66.7 %), 服务态度差 (33.3 %)',
    ]) {
      expect(response.body).toContain(figure);
    }
  });

  it('measures seed 004’s service KPIs by their formulas (docs/api.md), as by hand', async () => {
    const response = await get('/v1/reports/summary?from=2001-04-02&to=2001-04-03');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      tickets: { total: 4, byStatus: { closed: 2, resolved: 1, in_service: 1 } },
      // Creation to the last resolution: G 210 min, H 225 min, I 26 h: (12600 + 13500 + 93600) / 3.
      resolution: { averageSeconds: 39_900 },
      // Owed: G (made after 30 h), H three times (each within the hour), I (never): 3 of 5.
      callbacks: { owed: 5, within24h: 3, within24hPercent: 60 },
      complaints: {
        // I opened as a complaint, first answered at 25 h (late); H's two complaints were followed
        // up at 30 min and 2 h (both within 24 h): 2 of 3.
        responses: 3,
        within24h: 2,
        responseWithin24hPercent: 66.7,
        // H's follow-ups against their 1 h clocks: the first in time, the second not.
        followUps: 2,
        followUpsInTime: 1,
        followUpCompliancePercent: 50,
        // Tickets with a complaint: H (two) and I (one).
        repeatRatePercent: 50,
      },
      // G started 12:30 within its rebooked 12:00–13:00 slot (not the first, 11:00); H started 12:15
      // for a 12:00 slot. On site: G 60 min, H 90 min.
      visits: { booked: 2, onTime: 1, onTimeArrivalPercent: 50, averageSecondsOnSite: 4500 },
      qualityChecks: { reviews: 1, passRatePercent: 100, byBand: { pass: 1 } },
      timeouts: {
        firstResponse: { runs: 4, timeouts: 1, ratePercent: 25 }, // I
        callback: { runs: 5, timeouts: 2, ratePercent: 40 }, // G and I; H's three in time
        complaintFollowUp: { runs: 2, timeouts: 1, ratePercent: 50 }, // H's second
        directorPlan: { runs: 1, timeouts: 0, ratePercent: 0 }, // H's second complaint
        resolution: { runs: 4, timeouts: 0, ratePercent: 0 },
        dispatchAccept: { runs: 5, timeouts: 1, ratePercent: 20 }, // G 2, H 2, J 1; H's first missed
      },
      dispatch: {
        // Planned for an engineer: G (offered after 1 min), H (6 min), I (never), J (14 min).
        ticketsToDispatch: 4,
        offeredWithin5m: 1,
        offeredWithin5mPercent: 25,
        // Offers: G's two (declined after 3 min, accepted after 1), H's first (never answered: its
        // acceptance clock ran out) and second (accepted after 2 min), J's (accepted after 1 min).
        offers: 5,
        answeredWithin15m: 4,
        answeredWithin15mPercent: 80,
        // Acceptances owing a booking: G (booked after 1 min) and H (after 40 min); J started
        // remotely, with no visit to book.
        accepted: 2,
        bookedWithin30m: 1,
        bookedWithin30mPercent: 50,
      },
      repairsByModel: [
        { model: 'MODEL-G', repairs: 2, repeatRepairs: 0, sharePercent: 66.7 },
        { model: 'MODEL-H', repairs: 1, repeatRepairs: 0, sharePercent: 33.3 },
      ],
      topProblems: [], // none of G, H, I was classified
      targets: [
        { kpi: 'firstTimeFixRatePercent', value: 100, target: 90, met: true },
        { kpi: 'callbackWithin24hPercent', value: 60, target: 90, met: false },
        { kpi: 'complaintResponseWithin24hPercent', value: 66.7, target: 100, met: false },
        { kpi: 'onTimeArrivalPercent', value: 50, target: 80, met: false },
        { kpi: 'dispatchWithin5mPercent', value: 25, target: 100, met: false },
        { kpi: 'offersAnsweredWithin15mPercent', value: 80, target: 100, met: false },
        { kpi: 'bookedWithin30mPercent', value: 50, target: 100, met: false },
      ],
    });
  });

  it('gives an empty period nulls, not errors', async () => {
    const body = (await get('/v1/reports/summary?from=1999-01-01&to=1999-01-31')).json();
    expect(body.tickets.total).toBe(0);
    expect(body.firstResponse).toEqual({ averageSeconds: null, p90Seconds: null, compliancePercent: null });
    expect(body.csat.overall).toBeNull();
    expect(body.dispatch).toEqual({
      ticketsToDispatch: 0,
      offeredWithin5m: 0,
      offeredWithin5mPercent: null,
      offers: 0,
      answeredWithin15m: 0,
      answeredWithin15mPercent: null,
      accepted: 0,
      bookedWithin30m: 0,
      bookedWithin30mPercent: null,
    });
    expect(body.targets.slice(4)).toEqual([
      { kpi: 'dispatchWithin5mPercent', value: null, target: 100, met: null },
      { kpi: 'offersAnsweredWithin15mPercent', value: null, target: 100, met: null },
      { kpi: 'bookedWithin30mPercent', value: null, target: 100, met: null },
    ]);
    expect(body.parts).toEqual({
      issued: { quantity: 0, value: 0, tickets: 0 },
      averagePartsCostPerTicket: null,
      stockNow: { onHand: expect.any(Number), value: expect.any(Number) },
      turnover: body.parts.stockNow.value > 0 ? 0 : null,
      stockOuts: { tickets: 0, ticketsRequestingParts: 0, sharePercent: null },
      topConsumed: [],
    });
  });

  it.each([
    ['from=2001-03-06&to=2001-03-05', 'querystring.to: must not be before from'],
    ['from=2001-02-30&to=2001-03-05', 'querystring.from: must be a date "YYYY-MM-DD"'],
    ['to=2001-03-05', 'querystring.from'],
    ['from=2000-01-01&to=2001-03-05', 'querystring.to: a period spans at most 366 days'],
  ])('refuses %s with a 400 naming the field', async (query, detail) => {
    const response = await get(`/v1/reports/summary?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toContain(detail);
  });
});
