import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_KEY, startApi, type ApiStack } from '../support/stack';
import { runRelayFor } from '../support/relay';
import { runWorkerFor } from '../support/temporal';

/**
 * Who is told, over HTTP on the real stack (PostgreSQL, the Temporal dev server, the worker and the
 * delivery relay), with a short policy (4 s first response, 3 s plan and escalation step, warnAt
 * 0.5): the warning before a breach, the staff directory, and escalations that name the person
 * responsible and reach their superiors by the channel each chose.
 */
const taskQueue = `escalation-reach-${process.pid}`;
// Actor ids of this file's own: the staff records below must not reach other files' tickets.
const tag = `r${process.pid}`;
const AGENT_ID = `agent-${tag}`;
const SUPERVISOR_ID = `sup-${tag}`;
const MANAGER_ID = `mgr-${tag}`;
const REACH_AGENT_KEY = `reach-agent-key-${tag}-0001`;
const MANAGER_KEY = `reach-manager-key-${tag}-0001`;
const QC_KEY = `reach-qc-key-${tag}-0001`;
const AGENT_PHONE = `137${String(process.pid).padStart(8, '0').slice(-8)}`;
const MANAGER_PHONE = `136${String(process.pid).padStart(8, '0').slice(-8)}`;
let stack: ApiStack;
let stopWorker: () => Promise<void>;
let stopRelay: () => Promise<void>;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };

beforeAll(async () => {
  stack = await startApi({
    taskQueue,
    policy: {
      firstResponse: '4s',
      plan: { normal: '3s' },
      escalationStep: '3s',
      warnAt: 0.5,
      qcSampleRate: 0,
    },
    env: {
      API_KEYS: `${ADMIN_KEY}:admin:ops-1,${REACH_AGENT_KEY}:agent:${AGENT_ID},${MANAGER_KEY}:manager:${MANAGER_ID},${QC_KEY}:qc:qc-${tag}`,
    },
  });
  stopWorker = await runWorkerFor(stack.config, stack.database.db);
  stopRelay = await runRelayFor(stack.config, stack.database.db);
});

afterAll(async () => {
  await stopRelay?.();
  await stopWorker?.();
  await stack?.close();
});

const get = async (url: string) => {
  const response = await stack.app.inject({ method: 'GET', url, headers: auth });
  expect(response.statusCode).toBe(200);
  return response.json();
};

const call = (method: 'GET' | 'PUT' | 'POST', url: string, key: string, payload?: Record<string, unknown>) =>
  stack.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, payload });

interface SlaClock {
  dueAt: string;
  warnAt: string | null;
  warnedAt: string | null;
}

async function createTicket(
  overrides: Record<string, unknown> = {},
): Promise<{ number: string; createdAt: string; sla: Record<string, SlaClock> }> {
  const response = await stack.app.inject({
    method: 'POST',
    url: '/v1/tickets',
    headers: auth,
    payload: {
      channel: 'phone',
      category: 'fault',
      priority: 'normal',
      customer: { name: '李四', phone: '13900001111' },
      product: { model: 'KFR-35GW/REACH', serialNumber: `SN-${Math.random().toString(36).slice(2)}` },
      description: 'Fridge does not cool',
      ...overrides,
    },
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

describe('warnings before a breach over HTTP', () => {
  it('shows when the warning is due, sends it once to the agents, and escalates at the deadline', async () => {
    const ticket = await createTicket();
    const { warnAt, warnedAt, dueAt } = ticket.sla.firstResponse ?? { dueAt: '', warnAt: '', warnedAt: '' };
    expect(Date.parse(warnAt ?? '') - Date.parse(ticket.createdAt)).toBe(2_000);
    expect(Date.parse(dueAt) - Date.parse(ticket.createdAt)).toBe(4_000);
    expect(warnedAt).toBeNull();

    const warned = await vi.waitFor(
      async () => {
        const read = await get(`/v1/tickets/${ticket.number}`);
        expect(read.sla.firstResponse.warnedAt).not.toBeNull();
        return read;
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(Date.parse(warned.sla.firstResponse.warnedAt)).toBeGreaterThanOrEqual(Date.parse(warnAt ?? ''));
    const sent = await vi.waitFor(
      async () => {
        const { items } = await get(`/v1/tickets/${ticket.number}/notifications`);
        const warnings = items.filter((item: { kind: string }) => item.kind === 'clock_warning');
        expect(warnings).toMatchObject([
          { recipientRole: 'agent', channel: 'internal', status: 'delivered', recipient: 'role:agent' },
        ]);
        return warnings[0];
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(sent.body).toContain(`服务单 ${ticket.number} 的首次响应将于`);

    await vi.waitFor(
      async () => expect((await get(`/v1/tickets/${ticket.number}`)).escalationLevel).toBe(1),
      { timeout: 10_000, interval: 200 },
    );
    const { events } = await get(`/v1/tickets/${ticket.number}/events`);
    const types = events.map((event: { type: string }) => event.type);
    expect(types.filter((type: string) => type === 'sla_warning')).toHaveLength(1);
    expect(types.indexOf('sla_warning')).toBeLessThan(types.indexOf('escalated'));
  });

  it('documents warnAt and warnedAt on every SLA clock in the OpenAPI document', async () => {
    const document = JSON.stringify(await get('/openapi.json'));
    expect(document).toContain('when the warning before a breach goes to whoever holds the ticket');
    expect(document).toContain('when that warning went out (once per run of the clock)');
  });
});

describe('the staff directory and escalations that name a person', () => {
  it('keeps staff contact channels and superiors, within the role rules, refusing bad ones with nothing written', async () => {
    const manager = await call('PUT', `/v1/staff/${MANAGER_ID}`, ADMIN_KEY, {
      role: 'manager',
      name: '赵经理',
      phone: MANAGER_PHONE,
      notifyBy: 'sms',
    });
    expect(manager.statusCode).toBe(201);
    expect(manager.headers.location).toBe(`/v1/staff/${MANAGER_ID}`);
    // A manager keeps the directory; the agent may neither write nor read it.
    const supervisor = await call('PUT', `/v1/staff/${SUPERVISOR_ID}`, MANAGER_KEY, {
      role: 'supervisor',
      name: '钱主管',
      superiorId: MANAGER_ID,
    });
    expect(supervisor.statusCode).toBe(201);
    expect(supervisor.json()).toMatchObject({ notifyBy: 'internal', superiorId: MANAGER_ID, phone: null });
    const agent = {
      role: 'agent',
      name: '孙客服',
      phone: AGENT_PHONE,
      notifyBy: 'sms',
      superiorId: SUPERVISOR_ID,
    };
    expect((await call('PUT', `/v1/staff/${AGENT_ID}`, REACH_AGENT_KEY, agent)).statusCode).toBe(403);
    expect((await call('GET', `/v1/staff/${MANAGER_ID}`, REACH_AGENT_KEY)).statusCode).toBe(403);
    expect((await call('PUT', `/v1/staff/${AGENT_ID}`, ADMIN_KEY, agent)).statusCode).toBe(201);
    expect((await call('PUT', `/v1/staff/${AGENT_ID}`, ADMIN_KEY, agent)).statusCode).toBe(200);

    const refused = [
      [{ ...agent, phone: undefined }, 400, 'phone: notifyBy sms needs a phone number'],
      [{ ...agent, superiorId: `nobody-${tag}` }, 422, `superiorId: no staff member nobody-${tag}`],
      [{ ...agent, superiorId: AGENT_ID }, 422, 'superiorId: a person cannot be their own superior'],
    ] as const;
    for (const [body, status, detail] of refused) {
      const response = await call('PUT', `/v1/staff/${AGENT_ID}`, ADMIN_KEY, body);
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().detail).toContain(detail);
    }
    // The manager reporting to the agent below them would be a cycle.
    const cycle = await call('PUT', `/v1/staff/${MANAGER_ID}`, ADMIN_KEY, {
      role: 'manager',
      name: '赵经理',
      phone: MANAGER_PHONE,
      notifyBy: 'sms',
      superiorId: AGENT_ID,
    });
    expect(cycle.statusCode).toBe(422);
    expect(cycle.json().detail).toBe(`superiorId: ${AGENT_ID} reports to ${MANAGER_ID} already (a cycle)`);
    expect(await get(`/v1/staff/${MANAGER_ID}`)).toMatchObject({ superiorId: null, phone: MANAGER_PHONE });
    expect(await get(`/v1/staff/${AGENT_ID}`)).toMatchObject({ superiorId: SUPERVISOR_ID, notifyBy: 'sms' });
    // Staff phones are sealed at rest like the customer's: the raw column holds no digits of them.
    const [raw] = await stack.database.db.execute<{ phone: string }>(
      sql`select phone from staff where id = ${AGENT_ID}`,
    );
    expect(raw?.phone).toMatch(/^enc1:/);
    expect(raw?.phone).not.toContain(AGENT_PHONE);
    const { items } = await get('/v1/staff?role=agent&active=true');
    expect(items.map((item: { id: string }) => item.id)).toContain(AGENT_ID);
    expect((await call('GET', `/v1/staff/nobody-${tag}`, ADMIN_KEY)).statusCode).toBe(404);
  });

  it('tells the agent who acknowledged by SMS, their supervisor at L1 and the manager by SMS at L2', async () => {
    const ticket = await createTicket();
    const acknowledged = await call('POST', `/v1/tickets/${ticket.number}/acknowledge`, REACH_AGENT_KEY, {});
    expect(acknowledged.statusCode).toBe(200);
    await vi.waitFor(
      async () => expect((await get(`/v1/tickets/${ticket.number}`)).escalationLevel).toBe(2),
      { timeout: 15_000, interval: 200 },
    );
    const read = await get(`/v1/tickets/${ticket.number}`);
    expect(
      read.escalations.map((escalation: { responsible?: { id: string } }) => escalation.responsible),
    ).toEqual([
      { id: AGENT_ID, role: 'agent' },
      { id: AGENT_ID, role: 'agent' },
    ]);
    const sent = await vi.waitFor(
      async () => {
        const { items } = await get(`/v1/tickets/${ticket.number}/notifications`);
        const staffNotices = items
          .filter((item: { kind: string }) => item.kind === 'escalation' || item.kind === 'clock_warning')
          .map(
            (item: {
              kind: string;
              recipientRole: string;
              channel: string;
              recipient: string;
              status: string;
            }) => [item.kind, item.recipientRole, item.channel, item.recipient, item.status],
          );
        expect(staffNotices).toEqual([
          // The 3-second plan warns its holder at 1.5 s, by the SMS the agent chose.
          ['clock_warning', 'agent', 'sms', AGENT_PHONE, 'delivered'],
          ['escalation', 'agent', 'sms', AGENT_PHONE, 'delivered'],
          ['escalation', 'supervisor', 'internal', `staff:${SUPERVISOR_ID}`, 'delivered'],
          ['escalation', 'manager', 'sms', MANAGER_PHONE, 'delivered'],
        ]);
        return items;
      },
      { timeout: 15_000, interval: 200 },
    );
    const smsToAgent = sent.find((item: { kind: string; recipient: string }) => item.kind === 'escalation');
    expect(smsToAgent.body).not.toMatch(/李四|13900001111/);
    // QC, which sees the customer's phone masked, sees the staff's masked too.
    const asQc = await call('GET', `/v1/tickets/${ticket.number}/notifications`, QC_KEY);
    const masked = asQc.json().items.filter((item: { channel: string }) => item.channel === 'sms');
    expect(masked.length).toBeGreaterThan(0);
    for (const item of masked)
      expect(item.recipient).not.toMatch(new RegExp(`${AGENT_PHONE}|${MANAGER_PHONE}`));
  });
});

describe("a plan's own deadline over HTTP", () => {
  it('shows it as a clock, refuses one already past with nothing written, and escalates when it passes', async () => {
    const ticket = await createTicket();
    expect((await call('POST', `/v1/tickets/${ticket.number}/acknowledge`, ADMIN_KEY, {})).statusCode).toBe(
      200,
    );
    const plan = {
      measures: 'Order the compressor',
      department: 'parts',
      customerConfirmed: true,
      dispatch: false,
    };
    const past = await call('POST', `/v1/tickets/${ticket.number}/plan`, ADMIN_KEY, {
      ...plan,
      deadline: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(past.statusCode).toBe(409);
    expect(past.json().detail).toBe('cannot plan this acknowledged ticket: deadline must be in the future');
    expect((await get(`/v1/tickets/${ticket.number}`)).status).toBe('acknowledged');

    const deadline = new Date(Date.now() + 5_000).toISOString();
    const planned = await call('POST', `/v1/tickets/${ticket.number}/plan`, ADMIN_KEY, { ...plan, deadline });
    expect(planned.statusCode).toBe(200);
    expect(planned.json().sla.planDeadline).toMatchObject({ dueAt: deadline, metAt: null, breached: false });
    await vi.waitFor(
      async () => {
        const read = await get(`/v1/tickets/${ticket.number}`);
        expect(read.sla.planDeadline.breached).toBe(true);
        expect(read.escalations.map((escalation: { reason: string }) => escalation.reason)).toContain(
          'plan_deadline_missed',
        );
      },
      { timeout: 15_000, interval: 200 },
    );
  });
});

describe('a major complaint over HTTP', () => {
  it("goes to the manager at once; the manager's meeting plan names an owner and a deadline", async () => {
    const ticket = await createTicket({ category: 'complaint', priority: 'critical' });
    await vi.waitFor(
      async () => {
        const { items } = await get(`/v1/tickets/${ticket.number}/notifications`);
        expect(items.find((item: { kind: string }) => item.kind === 'major_complaint')).toMatchObject({
          recipientRole: 'manager',
          recipient: 'role:manager',
          status: 'delivered',
        });
      },
      { timeout: 10_000, interval: 200 },
    );
    expect((await call('POST', `/v1/tickets/${ticket.number}/acknowledge`, ADMIN_KEY, {})).statusCode).toBe(
      200,
    );
    const meeting = {
      measures: 'Replace the unit and refund the visit',
      department: 'after-sales',
      customerConfirmed: true,
      dispatch: false,
      kind: 'meeting',
    };
    const byAgent = await call('POST', `/v1/tickets/${ticket.number}/plan`, REACH_AGENT_KEY, {
      ...meeting,
      owner: SUPERVISOR_ID,
      deadline: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(byAgent.statusCode).toBe(403);
    const unnamed = await call('POST', `/v1/tickets/${ticket.number}/plan`, MANAGER_KEY, meeting);
    expect(unnamed.statusCode).toBe(400);
    expect(unnamed.json().detail).toContain('a meeting plan names its owner');
    const deadline = new Date(Date.now() + 3_600_000).toISOString();
    const recorded = await call('POST', `/v1/tickets/${ticket.number}/plan`, MANAGER_KEY, {
      ...meeting,
      owner: SUPERVISOR_ID,
      deadline,
    });
    expect(recorded.statusCode).toBe(200);
    expect(recorded.json().plans.at(-1)).toMatchObject({
      actor: { id: MANAGER_ID, role: 'manager' },
      input: { kind: 'meeting', owner: SUPERVISOR_ID, deadline },
    });
    expect(recorded.json().sla.planDeadline.dueAt).toBe(deadline);
  });
});

describe('progress SMS to the customer over HTTP', () => {
  const progressOf = async (number: string) =>
    (await get(`/v1/tickets/${number}/notifications`)).items.filter(
      (item: { kind: string }) => item.kind === 'progress',
    );
  const plan = {
    measures: 'Call back with the fix',
    department: 'hotline',
    customerConfirmed: true,
    dispatch: false,
  };

  it('sends none to a ticket opted out at intake, until classify opts it back in; bad input is a 400', async () => {
    const refused = await stack.app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: auth,
      payload: {
        channel: 'phone',
        category: 'fault',
        priority: 'normal',
        customer: { name: '李四', phone: '13900001111' },
        description: 'Fridge does not cool',
        progressSms: 'no',
      },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().detail).toContain('progressSms');

    const ticket = await createTicket({ progressSms: false });
    expect((await call('POST', `/v1/tickets/${ticket.number}/acknowledge`, ADMIN_KEY, {})).statusCode).toBe(
      200,
    );
    expect((await call('POST', `/v1/tickets/${ticket.number}/plan`, ADMIN_KEY, plan)).statusCode).toBe(200);
    const optedIn = await call('POST', `/v1/tickets/${ticket.number}/classify`, ADMIN_KEY, {
      progressSms: true,
    });
    expect(optedIn.statusCode).toBe(200);
    expect(optedIn.json().progressSms).toBe(true);
    expect((await call('POST', `/v1/tickets/${ticket.number}/plan`, ADMIN_KEY, plan)).statusCode).toBe(200);
    const sent = await vi.waitFor(
      async () => {
        const items = await progressOf(ticket.number);
        expect(items).toMatchObject([{ channel: 'sms', recipient: '13900001111', status: 'delivered' }]);
        return items;
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(sent[0].body).toBe(`您好，您的服务单 ${ticket.number} 的处理方案已确认，我们将按方案为您处理。`);
  });
});
