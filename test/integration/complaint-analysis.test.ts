import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { satisfiedCallback, serviceRecord, unhappyCallback } from '../support/fixtures';
import { ADMIN_KEY, startApi, type ApiStack } from '../support/stack';
import { runWorkerFor } from '../support/temporal';

/**
 * Complaint and dissatisfaction analysis through HTTP on the real stack (PostgreSQL, the Temporal
 * dev server, the real worker): the taxonomies on classify, a low callback's category, the QC
 * review's aspects and a failed review's rectification, a complaint's handling cost.
 */
const tag = `${process.pid}-${randomInt(1e9)}`;
const ENGINEER = `eng-rectify-${tag}`;
let stack: ApiStack;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  stack = await startApi({ taskQueue: `complaint-analysis-${tag}`, policy: { qcSampleRate: 0 } });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  const engineer = await call('POST', '/v1/engineers', { id: ENGINEER, name: 'Rectifier', skills: ['x'] });
  expect([200, 201]).toContain(engineer.statusCode);
});

afterAll(async () => {
  await stopWorker?.();
  await stack?.close();
});

function call(method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) {
  return stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
}

async function act(number: string, action: string, payload: Record<string, unknown> = {}) {
  const response = await call('POST', `/v1/tickets/${number}/${action}`, payload);
  expect(response.statusCode, `${action}: ${response.body}`).toBe(200);
  return response.json();
}

const eventTypes = async (number: string): Promise<string[]> =>
  (await call('GET', `/v1/tickets/${number}/events`)).json().events.map((e: { type: string }) => e.type);

/** A ticket acknowledged, planned without dispatch and resolved by the desk. */
async function resolvedTicket(category: 'complaint' | 'fault'): Promise<string> {
  const created = await call('POST', '/v1/tickets', {
    channel: 'phone',
    category,
    priority: 'normal',
    customer: { name: '王五', phone: `137${randomInt(10_000_000, 99_999_999)}` },
    product: { model: 'KFR-35GW', serialNumber: `SN-${randomInt(1e9)}` },
    description: 'Engineer was rude and the unit still rattles',
  });
  expect(created.statusCode).toBe(201);
  const { number } = created.json();
  await act(number, 'acknowledge');
  await act(number, 'plan', {
    measures: 'Remote check',
    department: 'desk',
    customerConfirmed: true,
    dispatch: false,
  });
  await act(number, 'resolve', serviceRecord);
  return number;
}

describe('complaint analysis over HTTP', () => {
  it('classify records the taxonomies, refusing a value outside them with 400 naming the field', async () => {
    const number = await resolvedTicket('fault');
    const refused = await call('POST', `/v1/tickets/${number}/classify`, { problemType: 'Q' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().detail).toContain('problemType');
    const ticket = await act(number, 'classify', {
      complaintType: 'component_damaged',
      problemType: 'quality',
      liability: 'transport',
    });
    expect(ticket.analysis).toEqual({
      complaintType: 'component_damaged',
      problemType: 'quality',
      liability: 'transport',
    });
  });

  it('a callback scoring 3 or less without its dissatisfaction category is refused (409, nothing written); with it, recorded', async () => {
    const number = await resolvedTicket('fault');
    const { dissatisfaction: _left, ...uncategorised } = unhappyCallback;
    const refused = await call('POST', `/v1/tickets/${number}/callback`, uncategorised);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      detail: expect.stringContaining('names its dissatisfaction'),
      allowedActions: expect.arrayContaining(['callback']),
    });
    expect(await eventTypes(number)).not.toContain('callback_recorded');
    const noHandlingCostYet = await call('POST', `/v1/tickets/${number}/record-handling-cost`, {
      items: [{ kind: 'revisit', amountFen: 100 }],
    });
    expect(noHandlingCostYet.statusCode).toBe(409);

    const ticket = await act(number, 'callback', { ...unhappyCallback, satisfaction: 'average' });
    expect(ticket.status).toBe('follow_up');
    expect(ticket.callbacks[0].input).toMatchObject({
      dissatisfaction: 'poor_attitude',
      satisfaction: 'average',
    });
    // Now a complaint: its handling cost is recorded, in integer fen.
    const fractional = await call('POST', `/v1/tickets/${number}/record-handling-cost`, {
      items: [{ kind: 'revisit', amountFen: 80.5 }],
    });
    expect(fractional.statusCode).toBe(400);
    const costed = await act(number, 'record-handling-cost', {
      items: [
        { kind: 'revisit', amountFen: 8_000 },
        { kind: 'staff_time', amountFen: 4_050 },
      ],
      note: 'Second visit and two calls',
    });
    expect(costed.handlingCosts).toMatchObject([
      { totalFen: 12_050, items: [{ kind: 'revisit' }, { kind: 'staff_time' }] },
    ]);
  });

  it('a failed QC review of the three aspects names an engineer on file and a deadline; the rectification recorded stops its clock', async () => {
    const number = await resolvedTicket('complaint');
    const aspects = { compliance: 60, effectiveness: 55, communication: 80 };
    const unnamed = await call('POST', `/v1/tickets/${number}/qc-review`, { aspects });
    expect(unnamed.statusCode).toBe(409);
    expect(unnamed.json().detail).toContain('names the person responsible');
    const unknown = await call('POST', `/v1/tickets/${number}/qc-review`, {
      aspects,
      responsible: { id: `nobody-${tag}`, role: 'engineer' },
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().detail).toContain(`no engineer nobody-${tag} on file`);
    const both = await call('POST', `/v1/tickets/${number}/qc-review`, { score: 60, aspects });
    expect(both.statusCode).toBe(400);
    expect((await call('GET', `/v1/tickets/${number}`)).json().status).toBe('quality_check');

    const rectifyBy = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const failed = await act(number, 'qc-review', {
      aspects,
      responsible: { id: ENGINEER, role: 'engineer' },
      rectifyBy,
    });
    expect(failed.status).toBe('acknowledged');
    expect(failed.quality.reviews).toMatchObject([{ aspects, score: 65, band: 'fail' }]);
    expect(failed.rectification).toMatchObject({
      responsible: { id: ENGINEER, role: 'engineer' },
      dueAt: rectifyBy,
      doneAt: null,
    });
    expect(failed.sla.rectification).toMatchObject({ dueAt: rectifyBy, metAt: null });
    expect(failed.allowedActions).toContain('record-rectification');

    const done = await act(number, 'record-rectification', { note: 'Retrained on the service checklist' });
    expect(done.sla.rectification.metAt).toEqual(expect.any(String));
    expect(done.rectification.doneAt).toEqual(expect.any(String));
    expect(done.allowedActions).not.toContain('record-rectification');
    const again = await call('POST', `/v1/tickets/${number}/record-rectification`, { note: 'again' });
    expect(again.statusCode).toBe(409);
    expect(await eventTypes(number)).toEqual(
      expect.arrayContaining(['qc_failed', 'rectification_ordered', 'rectification_recorded']),
    );
  });

  it('takes the survey’s four satisfaction levels (非常满意 … 不满意)', async () => {
    const number = await resolvedTicket('fault');
    const ticket = await act(number, 'callback', { ...satisfiedCallback, satisfaction: 'very_satisfied' });
    expect(ticket.status).toBe('closed');
    const bad = await call('POST', `/v1/tickets/${await resolvedTicket('fault')}/callback`, {
      ...satisfiedCallback,
      satisfaction: 'ecstatic',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toContain('satisfaction');
  });
});
