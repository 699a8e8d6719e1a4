import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { loadConfig } from '../../config';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { listTicketNotifications } from '../../db/delivery-store';
import { listTicketEscalations, listTicketEvents } from '../../db/ticket-store';
import { Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../../worker/worker';
import { openTicket } from '../../domain/lifecycle';
import type { SlaPolicy } from '../../domain/policy';
import { workflowIdOf, type TicketState } from '../../domain/ticket';
import { ticketWorkflow } from '../../workflows';
import { actionUpdates, FAILURE_ILLEGAL_TRANSITION, ticketStateQuery } from '../../workflows/messages';
import {
  AGENT,
  intake,
  policy,
  serviceRecord,
  SUPERVISOR,
  TEST_CUSTOMER_ID,
  uniqueTicketNumber,
  unhappyCallback,
  TEST_PAYLOAD_KEYS,
  testDataConverter,
} from '../support/fixtures';
import { runRelayFor } from '../support/relay';
import { createTimeSkippingEnvironment, runTicketWorker, type RunningWorker } from '../support/temporal';

/**
 * The three core clocks at their real default lengths (10 min, 24 h, 1 h), on Temporal's
 * time-skipping test server, with the real activities writing to PostgreSQL.
 */
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
// No sampled quality check: a resolved ticket goes straight to its callback clock.
const defaults = policy({ qcSampleRate: 0 });
const taskQueue = `sla-clocks-${process.pid}`;
let env: TestWorkflowEnvironment;
let database: DatabaseHandle;
let worker: RunningWorker;
let stopRelay: () => Promise<void>;

beforeAll(async () => {
  env = await createTimeSkippingEnvironment();
  database = connectDatabase(inject('databaseUrl'), { max: 4, payloadKeys: TEST_PAYLOAD_KEYS });
  worker = await runTicketWorker(env, taskQueue, database.db);
  stopRelay = await runRelayFor(loadConfig({}), database.db);
});

afterAll(async () => {
  await stopRelay?.();
  await worker?.stop();
  await env?.teardown();
  await database?.close();
});

async function startTicket(
  priority: 'normal' | 'urgent' | 'critical' = 'normal',
  slaPolicy: SlaPolicy = defaults,
) {
  const number = uniqueTicketNumber();
  const ticket = openTicket({
    number,
    intake: intake({ priority }),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: null,
    createdBy: AGENT,
    createdAtMs: await env.currentTimeMs(),
    policy: slaPolicy,
  });
  const handle = await env.client.workflow.start(ticketWorkflow, {
    workflowId: workflowIdOf(number),
    taskQueue,
    args: [{ ticket, policy: slaPolicy }],
  });
  return { number, handle, createdAtMs: Date.parse(ticket.createdAt) };
}

const stateOf = (handle: WorkflowHandle<typeof ticketWorkflow>): Promise<TicketState> =>
  handle.query(ticketStateQuery);

async function escalationsOf(number: string, expected: number) {
  return vi.waitFor(async () => {
    const rows = await listTicketEscalations(database.db, number);
    expect(rows).toHaveLength(expected);
    return rows;
  });
}

async function acknowledgeAndResolve(handle: WorkflowHandle<typeof ticketWorkflow>) {
  await handle.executeUpdate(actionUpdates.acknowledge, { args: [{ actor: SUPERVISOR, input: {} }] });
  await handle.executeUpdate(actionUpdates.resolve, { args: [{ actor: SUPERVISOR, input: serviceRecord }] });
}

/** Mon–Fri 09:00–18:00: the first instant at or after `local` that is working time. */
function firstWorkingInstant(local: DateTime): DateTime {
  let day = local;
  if (day.hour >= 18) day = day.plus({ days: 1 }).set({ hour: 9, minute: 0, second: 0, millisecond: 0 });
  while (day.weekday > 5) day = day.plus({ days: 1 }).set({ hour: 9, minute: 0, second: 0, millisecond: 0 });
  return day.hour < 9 ? day.set({ hour: 9, minute: 0, second: 0, millisecond: 0 }) : day;
}

/** The next `count` working days after `start` (same local time), skipping weekends and `holidays`. */
function nextWorkingDays(start: DateTime, count: number, holidays: string[] = []): DateTime[] {
  const days: DateTime[] = [];
  for (let day = start.plus({ days: 1 }); days.length < count; day = day.plus({ days: 1 })) {
    if (day.weekday <= 5 && !holidays.includes(day.toISODate() ?? '')) days.push(day);
  }
  return days;
}

/**
 * Five working days of working time from `start`: the same local time five working days on, or, from
 * the opening of a day (a ticket opened before 09:00 or after 18:00), the close of the fifth working
 * day counting that one.
 */
function fiveWorkingDaysFrom(start: DateTime, holidays: string[]): DateTime | undefined {
  const atOpening = start.toFormat('HH:mm:ss.SSS') === '09:00:00.000';
  return atOpening
    ? nextWorkingDays(start, 4, holidays).at(-1)?.set({ hour: 18 })
    : nextWorkingDays(start, 5, holidays).at(-1);
}

describe('the core SLA clocks at their real lengths', () => {
  it('an unacknowledged ticket escalates to the supervisor exactly when 10 minutes pass', async () => {
    const { number, handle, createdAtMs } = await startTicket();
    await env.sleep(9 * MINUTE + 59 * SECOND);
    expect((await stateOf(handle)).escalationLevel).toBe(0);
    await escalationsOf(number, 0);

    await env.sleep(2 * SECOND);
    const state = await stateOf(handle);
    expect(state.escalationLevel).toBe(1);
    const firedAfterMs = Date.parse(state.clocks.firstResponse?.breachedAt ?? '') - createdAtMs;
    expect(firedAfterMs).toBeGreaterThanOrEqual(10 * MINUTE);
    expect(firedAfterMs).toBeLessThan(10 * MINUTE + SECOND);
    const [escalation] = await escalationsOf(number, 1);
    expect(escalation).toMatchObject({ level: 1, reason: 'first_response_missed', clock: 'firstResponse' });

    // Nobody acknowledges the escalation: 30 minutes later it climbs to the manager, then the director.
    await env.sleep(HOUR);
    const chain = await escalationsOf(number, 3);
    expect(chain.map((row) => [row.level, Date.parse(row.firedAt) - createdAtMs])).toEqual([
      [1, expect.closeTo(10 * MINUTE, -4)],
      [2, expect.closeTo(40 * MINUTE, -4)],
      [3, expect.closeTo(70 * MINUTE, -4)],
    ]);
    expect(chain.map((row) => row.supersededBy)).toEqual([chain[1]?.id, chain[2]?.id, null]);
    await env.sleep(HOUR);
    const escalatedEvents = (await listTicketEvents(database.db, number)).filter(
      (event) => event.type === 'escalated',
    );
    expect(escalatedEvents).toHaveLength(3);
  });

  it('a critical ticket notifies the supervisor at creation and still has the 10-minute clock', async () => {
    const { number, handle } = await startTicket('critical');
    await vi.waitFor(async () => {
      const events = await listTicketEvents(database.db, number);
      expect(events.map((event) => [event.type, event.data.kind])).toEqual([
        ['created', undefined],
        ['notification', 'critical_ticket_created'],
      ]);
    });
    await env.sleep(10 * MINUTE);
    expect((await stateOf(handle)).escalationLevel).toBe(1);
    await escalationsOf(number, 1);
  });

  it('an urgent ticket under a per-priority first response escalates exactly when its 2 hours pass, once', async () => {
    // Seed 002's response times: normal 24 h, urgent 2 h, critical half an hour.
    const perPriority = policy({
      qcSampleRate: 0,
      firstResponse: { normal: '24h', urgent: '2h', critical: '30m' },
    });
    const { number, handle, createdAtMs } = await startTicket('urgent', perPriority);
    await env.sleep(2 * HOUR - SECOND);
    expect((await stateOf(handle)).escalationLevel).toBe(0);
    await escalationsOf(number, 0);

    await env.sleep(2 * SECOND);
    const state = await stateOf(handle);
    const firedAfterMs = Date.parse(state.clocks.firstResponse?.breachedAt ?? '') - createdAtMs;
    expect(firedAfterMs).toBeGreaterThanOrEqual(2 * HOUR);
    expect(firedAfterMs).toBeLessThan(2 * HOUR + SECOND);
    const [escalation] = await escalationsOf(number, 1);
    expect(escalation).toMatchObject({ level: 1, reason: 'first_response_missed', clock: 'firstResponse' });
    await handle.executeUpdate(actionUpdates['escalation-ack'], { args: [{ actor: SUPERVISOR, input: {} }] });
    await env.sleep(3 * HOUR);
    await escalationsOf(number, 1);
  });

  it('warns the agents once at 80 % of the first-response clock (8 minutes), then escalates at 10', async () => {
    const warning = policy({ qcSampleRate: 0, warnAt: 0.8 });
    const { number, handle, createdAtMs } = await startTicket('normal', warning);
    const warningsOf = async () =>
      (await listTicketNotifications(database.db, number)).filter((item) => item.kind === 'clock_warning');
    await env.sleep(8 * MINUTE - SECOND);
    expect((await stateOf(handle)).clocks.firstResponse?.warnedAt).toBeUndefined();
    expect(await warningsOf()).toEqual([]);

    await env.sleep(2 * SECOND);
    const warnedAtMs = Date.parse((await stateOf(handle)).clocks.firstResponse?.warnedAt ?? '');
    expect(warnedAtMs - createdAtMs).toBeGreaterThanOrEqual(8 * MINUTE);
    expect(warnedAtMs - createdAtMs).toBeLessThan(8 * MINUTE + SECOND);
    await vi.waitFor(async () =>
      expect(await warningsOf()).toMatchObject([
        { recipientRole: 'agent', channel: 'internal', status: 'delivered', recipient: 'role:agent' },
      ]),
    );
    expect((await warningsOf())[0]?.body).toContain('首次响应');
    await escalationsOf(number, 0);

    await env.sleep(2 * MINUTE);
    await escalationsOf(number, 1);
    await env.sleep(30 * MINUTE);
    expect(await warningsOf()).toHaveLength(1);
    const types = (await listTicketEvents(database.db, number)).map((event) => event.type);
    expect(types.filter((type) => type === 'sla_warning')).toHaveLength(1);
    // The warning's timer and the patch marker replay: the history so far is deterministic.
    await Worker.runReplayHistory(
      {
        workflowsPath: WORKFLOWS_PATH,
        bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES },
        dataConverter: testDataConverter,
        replayName: 'first-response warning',
      },
      await handle.fetchHistory(),
    );
  });

  it('a first-response clock met before its warning sends none', async () => {
    const warning = policy({ qcSampleRate: 0, warnAt: 0.8 });
    const { number, handle } = await startTicket('normal', warning);
    await env.sleep(7 * MINUTE);
    await handle.executeUpdate(actionUpdates.acknowledge, { args: [{ actor: AGENT, input: {} }] });
    await env.sleep(4 * MINUTE);
    const state = await stateOf(handle);
    expect(state.clocks.firstResponse).toMatchObject({ warnAt: expect.any(String), breachedAt: null });
    expect(state.clocks.firstResponse?.warnedAt).toBeUndefined();
    const types = (await listTicketEvents(database.db, number)).map((event) => event.type);
    expect(types).not.toContain('sla_warning');
  });

  it('an urgent ticket notifies the supervisor at creation, delivered to the inbox', async () => {
    const { number } = await startTicket('urgent');
    await vi.waitFor(async () => {
      const notices = await listTicketNotifications(database.db, number);
      expect(notices).toMatchObject([
        {
          kind: 'urgent_ticket_created',
          recipientRole: 'supervisor',
          status: 'delivered',
          recipient: 'role:supervisor',
        },
      ]);
      expect(notices[0]?.body).toContain('紧急');
    });
  });

  it('a plan not carried out by its own 3-day deadline escalates exactly then, once', async () => {
    const { number, handle } = await startTicket();
    await handle.executeUpdate(actionUpdates.acknowledge, { args: [{ actor: SUPERVISOR, input: {} }] });
    const deadlineMs = (await env.currentTimeMs()) + 72 * HOUR;
    await handle.executeUpdate(actionUpdates.plan, {
      args: [
        {
          actor: SUPERVISOR,
          input: {
            measures: 'Replace the compressor',
            department: 'field-service',
            deadline: new Date(deadlineMs).toISOString(),
            customerConfirmed: true,
            dispatch: false,
          },
        },
      ],
    });
    await env.sleep(deadlineMs - (await env.currentTimeMs()) - SECOND);
    const before = (await listTicketEscalations(database.db, number)).filter(
      (row) => row.clock === 'planDeadline',
    );
    expect(before).toEqual([]);
    await env.sleep(2 * SECOND);
    const fired = await vi.waitFor(async () => {
      const rows = (await listTicketEscalations(database.db, number)).filter(
        (row) => row.clock === 'planDeadline',
      );
      expect(rows).toHaveLength(1);
      return rows;
    });
    expect(fired[0]).toMatchObject({ level: 1, reason: 'plan_deadline_missed' });
    expect(Date.parse(fired[0]?.firedAt ?? '') - deadlineMs).toBeLessThan(SECOND);
    expect(Date.parse(fired[0]?.firedAt ?? '') - deadlineMs).toBeGreaterThanOrEqual(0);
    await handle.executeUpdate(actionUpdates['escalation-ack'], { args: [{ actor: SUPERVISOR, input: {} }] });
    await env.sleep(HOUR);
    expect(
      (await listTicketEscalations(database.db, number)).filter((row) => row.clock === 'planDeadline'),
    ).toHaveLength(1);
  });

  it('a business-day deadline runs across a weekend and a holiday, and fires exactly then', async () => {
    const local = (ms: number) => DateTime.fromMillis(ms, { zone: 'Asia/Shanghai' });
    // The second working day after today is a holiday; 5 business days always span a weekend.
    const today = firstWorkingInstant(local(await env.currentTimeMs()));
    const holiday = nextWorkingDays(today, 2).at(-1)?.toISODate() ?? '';
    // Only this holiday: China's statutory days near today would shift the hand-computed deadline.
    const slaPolicy = policy({ qcSampleRate: 0, calendar: { statutory: 'none', holidays: [holiday] } });
    const { number, handle, createdAtMs } = await startTicket('normal', slaPolicy);
    const start = firstWorkingInstant(local(createdAtMs));
    const expected = fiveWorkingDaysFrom(start, [holiday]);
    await handle.executeUpdate(actionUpdates.acknowledge, { args: [{ actor: SUPERVISOR, input: {} }] });
    await handle.executeUpdate(actionUpdates.plan, {
      args: [
        {
          actor: SUPERVISOR,
          input: {
            measures: 'Wait for the part',
            department: 'parts',
            customerConfirmed: true,
            dispatch: false,
          },
        },
      ],
    });
    const dueAtMs = Date.parse((await stateOf(handle)).clocks.resolution?.dueAt ?? '');
    // Hand-computed: five working days on, skipping Saturday, Sunday and the holiday.
    expect(dueAtMs).toBe(expected?.toMillis());
    expect(dueAtMs - start.toMillis()).toBeGreaterThan(7 * 24 * HOUR);

    await env.sleep(dueAtMs - (await env.currentTimeMs()) - SECOND);
    await escalationsOf(number, 0);
    await env.sleep(2 * SECOND);
    const [escalation] = await escalationsOf(number, 1);
    expect(escalation).toMatchObject({ clock: 'resolution', reason: 'resolution_missed', level: 1 });
    expect(Date.parse(escalation?.firedAt ?? '') - dueAtMs).toBeLessThan(SECOND);
  });

  it('a resolved ticket with no callback within 24 hours escalates and sends the SMS survey', async () => {
    const { number, handle } = await startTicket();
    await acknowledgeAndResolve(handle);
    await env.sleep(23 * HOUR + 59 * MINUTE);
    expect((await stateOf(handle)).escalationLevel).toBe(0);

    await env.sleep(2 * MINUTE);
    const state = await stateOf(handle);
    expect(state.escalationLevel).toBe(1);
    const [escalation] = await escalationsOf(number, 1);
    expect(escalation).toMatchObject({ clock: 'callback', level: 1, reason: 'callback_missed' });
    await vi.waitFor(async () => {
      const kinds = (await listTicketEvents(database.db, number))
        .map((event) => event.data.kind)
        .filter(Boolean);
      // The escalation tells the supervisor who acknowledged, then the supervisors' inbox (no
      // superior of sup-1 is on file).
      expect(kinds).toEqual(['ticket_acknowledged', 'progress', 'escalation', 'escalation', 'sms_survey']);
    });
    // The survey went out by SMS to the customer's phone, in the ticket's language (zh-CN).
    await vi.waitFor(async () => {
      const survey = (await listTicketNotifications(database.db, number)).find(
        (item) => item.kind === 'sms_survey',
      );
      expect(survey).toMatchObject({
        status: 'delivered',
        channel: 'sms',
        recipient: '13812345678',
        language: 'zh-CN',
      });
      expect(survey?.body).toContain('请回复 1-5');
    });
  });

  it('a complaint with a 2-star callback escalates to the manager when the 1-hour follow-up passes', async () => {
    const { number, handle } = await startTicket();
    await acknowledgeAndResolve(handle);
    const afterCallback = await handle.executeUpdate(actionUpdates.callback, {
      args: [{ actor: SUPERVISOR, input: unhappyCallback }],
    });
    expect(afterCallback.status).toBe('follow_up');
    await env.sleep(59 * MINUTE);
    expect((await stateOf(handle)).escalationLevel).toBe(0);

    await env.sleep(2 * MINUTE);
    expect((await stateOf(handle)).escalationLevel).toBe(2);
    const [escalation] = await escalationsOf(number, 1);
    expect(escalation).toMatchObject({
      clock: 'complaintFollowUp',
      level: 2,
      reason: 'complaint_follow_up_missed',
    });
  });

  it('the validator refuses an illegal transition and nothing is written', async () => {
    const { number, handle } = await startTicket();
    await vi.waitFor(async () => expect(await listTicketEvents(database.db, number)).toHaveLength(1));
    const refused = handle.executeUpdate(actionUpdates.resolve, {
      args: [{ actor: AGENT, input: serviceRecord }],
    });
    await expect(refused).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    const failure = await refused.catch((error: WorkflowUpdateFailedError) => error.cause);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe(FAILURE_ILLEGAL_TRANSITION);
    expect((failure as ApplicationFailure).message).toBe(
      'cannot resolve a ticket that is new; allowed now: acknowledge, classify, cancel, note',
    );
    const state = await stateOf(handle);
    expect(state).toMatchObject({ status: 'new', version: 1 });
    expect(await listTicketEvents(database.db, number)).toHaveLength(1);
  });
});
