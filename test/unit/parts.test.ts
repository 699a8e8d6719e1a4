import { describe, expect, it } from 'vitest';
import { can, maySeePersonalData, stockScope } from '../../domain/access';
import {
  allocate,
  endsWithoutSettlement,
  lowStockTransition,
  movementValue,
  nearestFirst,
  needsApproval,
  needsManagerApproval,
  planRelease,
  proposeForShortfall,
  reorderQuantity,
  settleUse,
  shortageOf,
} from '../../domain/parts';
import { startClock } from '../../domain/clocks';
import { applyAction, applyPartsEvent, openTicket, partsEventRefusal } from '../../domain/lifecycle';
import { deadlineAfter } from '../../domain/policy';
import { renderLowStock } from '../../domain/templates';
import { AGENT, intake, policy, SUPERVISOR } from '../support/fixtures';
import { ROLES } from '../../domain/ticket';

describe('stock rules', () => {
  it('values a movement at cost whichever way it goes', () => {
    expect(movementValue(-3, 12_000)).toBe(36_000);
    expect(movementValue(3, 12_000)).toBe(36_000);
  });

  it('sends scrap and stock-take adjustments above the threshold to a manager, nothing else', () => {
    expect(needsApproval('scrap', 100_001, 100_000)).toBe(true);
    expect(needsApproval('adjustment', 100_001, 100_000)).toBe(true);
    expect(needsApproval('scrap', 100_000, 100_000)).toBe(false);
    expect(needsApproval('receipt', 10_000_000, 100_000)).toBe(false);
    expect(needsApproval('transfer_out', 10_000_000, 100_000)).toBe(false);
  });

  it('lets a changed plan go of what it awaits first, then its newest reservations', () => {
    const held = [
      { id: 1, partNumber: 'A', quantity: 2 },
      { id: 2, partNumber: 'A', quantity: 3 },
      { id: 3, partNumber: 'B', quantity: 1 },
    ];
    const open = [
      { id: 10, partNumber: 'A', open: 1 },
      { id: 11, partNumber: 'A', open: 1 },
      { id: 12, partNumber: 'C', open: 4 },
    ];
    // A: 5 held + 2 awaited, 3 wanted: both shortfalls, then 2 of the newest reservation. B and C
    // are not named: all of them go.
    expect(planRelease(held, open, { A: 3 })).toEqual({
      release: [
        { id: 2, quantity: 2 },
        { id: 3, quantity: 1 },
      ],
      withdraw: [
        { id: 10, quantity: 1 },
        { id: 11, quantity: 1 },
        { id: 12, quantity: 4 },
      ],
    });
    expect(planRelease(held, open, { A: 6, B: 1, C: 4 })).toEqual({
      release: [],
      withdraw: [{ id: 11, quantity: 1 }],
    });
    expect(planRelease(held, [], { A: 10, B: 5 })).toEqual({ release: [], withdraw: [] });
  });

  it('holds a valuable or limited part for a manager’s approval', () => {
    expect(needsManagerApproval({ valuable: true, limited: false })).toBe(true);
    expect(needsManagerApproval({ valuable: false, limited: true })).toBe(true);
    expect(needsManagerApproval({ valuable: false, limited: false })).toBe(false);
  });

  it('lets a location give up only what is not reserved for tickets', () => {
    expect(shortageOf({ locationId: 'wh', onHand: 5, reserved: 2 }, 3)).toBeNull();
    expect(shortageOf({ locationId: 'wh', onHand: 5, reserved: 2 }, 4)).toBe(
      'location wh has 3 available (5 on hand, 2 reserved); 4 asked',
    );
    expect(shortageOf(undefined, 1)).toBe('location given has 0 available (0 on hand, 0 reserved); 1 asked');
  });

  it('takes a ticket’s parts from the assignee’s van first, then the warehouses by id, never another van', () => {
    const locations = [
      { id: 'wh-b', kind: 'warehouse', engineerId: null },
      { id: 'van-2', kind: 'van', engineerId: 'eng-2' },
      { id: 'wh-a', kind: 'warehouse', engineerId: null },
      { id: 'van-1', kind: 'van', engineerId: 'eng-1' },
    ] as const;
    expect(nearestFirst(locations, 'eng-1').map((location) => location.id)).toEqual([
      'van-1',
      'wh-a',
      'wh-b',
    ]);
    expect(nearestFirst(locations, null).map((location) => location.id)).toEqual(['wh-a', 'wh-b']);
  });

  it('allocates what each location has free, in order, and says what is short', () => {
    const stock = [
      { locationId: 'van', onHand: 1, reserved: 0 },
      { locationId: 'wh-a', onHand: 4, reserved: 4 },
      { locationId: 'wh-b', onHand: 3, reserved: 1 },
    ];
    expect(allocate(2, stock)).toEqual({
      allocations: [
        { locationId: 'van', quantity: 1 },
        { locationId: 'wh-b', quantity: 1 },
      ],
      shortfall: 0,
    });
    expect(allocate(5, stock).shortfall).toBe(2);
  });

  it('issues what was used from the reservations in order and releases the rest', () => {
    const reservations = [
      { id: 1, partNumber: 'FM', quantity: 1 },
      { id: 2, partNumber: 'FM', quantity: 2 },
      { id: 3, partNumber: 'CAP', quantity: 1 },
    ];
    expect(settleUse(reservations, { FM: 2, FILTER: 1 })).toEqual({
      issue: [
        { id: 1, quantity: 1 },
        { id: 2, quantity: 1 },
      ],
      release: [
        { id: 2, quantity: 1 },
        { id: 3, quantity: 1 },
      ],
      unreserved: { FILTER: 1 },
    });
  });

  it('proposes transfers from where the part is free, most first, and a purchase for the rest', () => {
    const elsewhere = [
      { locationId: 'van-2', onHand: 1, reserved: 0 },
      { locationId: 'van-3', onHand: 3, reserved: 1 },
      { locationId: 'van-4', onHand: 2, reserved: 2 },
    ];
    expect(proposeForShortfall(5, elsewhere)).toEqual([
      { kind: 'transfer', from: 'van-3', quantity: 2 },
      { kind: 'transfer', from: 'van-2', quantity: 1 },
      { kind: 'purchase', quantity: 2 },
    ]);
    expect(proposeForShortfall(1, elsewhere)).toEqual([{ kind: 'transfer', from: 'van-3', quantity: 1 }]);
  });

  it('alerts once when available falls below the safety stock and re-arms when it is back', () => {
    expect(lowStockTransition(false, 49, 50)).toBe('alert');
    expect(lowStockTransition(true, 10, 50)).toBeNull();
    expect(lowStockTransition(true, 50, 50)).toBe('rearm');
    expect(lowStockTransition(false, 50, 50)).toBeNull();
    expect(lowStockTransition(false, 0, 0)).toBeNull();
  });

  it('suggests buying a month of the last 90 days’ use on top of the safety stock, less what is available', () => {
    expect(reorderQuantity(90, 20, 50)).toBe(60);
    expect(reorderQuantity(10, 0, 0)).toBe(4);
    expect(reorderQuantity(0, 80, 50)).toBe(0);
  });
});

/** A new ticket acknowledged, so it can be put on hold. */
function applyToAcknowledged<T extends Parameters<typeof applyAction>[0]>(
  state: T,
  context: Parameters<typeof applyAction>[3],
): T {
  applyAction(state, 'acknowledge', {}, context);
  return state;
}

const T0 = Date.parse('2026-12-01T02:00:00Z'); // Tuesday 10:00 in Shanghai

/** A new ticket opened at T0 under the default policy. */
const ticket = () =>
  openTicket({
    number: 'WO20261201-001',
    intake: intake(),
    customerId: 'c_test',
    repeatOf: null,
    createdBy: AGENT,
    createdAtMs: T0,
    policy: policy(),
  });

describe('the parts clocks', () => {
  const context = { nowMs: T0 + 60_000, actor: SUPERVISOR, policy: policy() };

  it('start on a shortfall and on a part awaiting approval, and record it on the timeline', () => {
    const state = ticket();
    const waiting = applyPartsEvent(
      state,
      { kind: 'waiting', shortfalls: [{ partNumber: 'C123', quantity: 1 }] },
      context,
    );
    expect(state.clocks.partsWait).toMatchObject({ duration: '2bd', dueAt: '2026-12-03T02:01:00.000Z' });
    expect(waiting.events).toMatchObject([
      { type: 'parts_waiting', data: { dueAt: '2026-12-03T02:01:00.000Z' } },
      { type: 'notification', data: { kind: 'progress' } },
    ]);
    // The customer hears of the delay by SMS (seed 003), once per wait.
    expect(waiting.notifications).toMatchObject([
      { kind: 'progress', recipientRole: 'customer', channel: 'sms', data: { stage: 'parts_delayed' } },
    ]);
    const again = applyPartsEvent(state, { kind: 'waiting', shortfalls: [] }, context);
    expect(again.notifications).toEqual([]);
    applyPartsEvent(state, { kind: 'approval_requested', partNumbers: ['COMP-1'] }, context);
    expect(state.clocks.partsApproval).toMatchObject({ duration: '4bh', dueAt: '2026-12-01T06:01:00.000Z' });
  });

  it('keep a running clock’s deadline on a second shortfall, and stop when all is there or decided', () => {
    const state = ticket();
    applyPartsEvent(state, { kind: 'waiting', shortfalls: [] }, context);
    applyPartsEvent(state, { kind: 'waiting', shortfalls: [] }, { ...context, nowMs: T0 + 3_600_000 });
    expect(state.clocks.partsWait?.cycle).toBe(1);
    applyPartsEvent(state, { kind: 'ready' }, context);
    expect(state.clocks.partsWait?.metAt).not.toBeNull();
    applyPartsEvent(state, { kind: 'approval_requested', partNumbers: ['A', 'B'] }, context);
    applyPartsEvent(state, { kind: 'approval_decided', pending: 1 }, context);
    expect(state.clocks.partsApproval?.metAt).toBeNull();
    applyPartsEvent(state, { kind: 'approval_decided', pending: 0 }, context);
    expect(state.clocks.partsApproval?.metAt).not.toBeNull();
  });

  it('pause the resolution clock while waiting for parts only when the policy says so', () => {
    const pausing = { ...context, policy: policy({ partsWaitPausesResolution: true }) };
    const state = ticket();
    startClock(state, 'resolution', T0, pausing.policy);
    const due = state.clocks.resolution?.dueAt;
    applyPartsEvent(state, { kind: 'waiting', shortfalls: [] }, pausing);
    expect(state.clocks.resolution?.pausedAt).toBe(new Date(pausing.nowMs).toISOString());
    // A day later the parts are there: resolution is due a day (of working time) later than it was.
    const nextDay = T0 + 60_000 + 24 * 3_600_000;
    applyPartsEvent(state, { kind: 'ready' }, { ...pausing, nowMs: nextDay });
    expect(state.clocks.resolution).toMatchObject({ pausedAt: null });
    expect(Date.parse(state.clocks.resolution?.dueAt ?? '')).toBe(
      deadlineAfter(
        Date.parse(due ?? ''),
        { kind: 'business', text: '1bd', amount: 1, unit: 'bd' },
        pausing.policy.calendar,
      ),
    );

    const unpaused = ticket();
    startClock(unpaused, 'resolution', T0, context.policy);
    applyPartsEvent(unpaused, { kind: 'waiting', shortfalls: [] }, context);
    expect(unpaused.clocks.resolution?.pausedAt).toBeNull();
  });

  it('keep resolution paused through a hold and its resume while the parts are still awaited', () => {
    const pausing = { ...context, policy: policy({ partsWaitPausesResolution: true }) };
    const state = applyToAcknowledged(ticket(), pausing);
    startClock(state, 'resolution', T0, pausing.policy);
    applyPartsEvent(state, { kind: 'waiting', shortfalls: [] }, pausing);
    const pausedAt = state.clocks.resolution?.pausedAt;
    applyAction(state, 'hold', { reason: '等客户在家' }, { ...pausing, nowMs: T0 + 120_000 });
    expect(state.clocks.resolution?.pausedAt).toBe(pausedAt);
    applyAction(state, 'resume', {}, { ...pausing, nowMs: T0 + 180_000 });
    expect(state.clocks.resolution?.pausedAt).toBe(pausedAt);
    applyPartsEvent(state, { kind: 'ready' }, { ...pausing, nowMs: T0 + 240_000 });
    expect(state.clocks.resolution?.pausedAt).toBeNull();
  });

  it('are refused once the ticket is past resolve', () => {
    const state = ticket();
    expect(partsEventRefusal(state)).toBeUndefined();
    state.status = 'resolved';
    expect(partsEventRefusal(state)).toBe(
      'ticket WO20261201-001 is resolved; parts are requested before it is resolved',
    );
  });

  it('take the default lengths on a ticket opened under a policy from before parts', () => {
    const { partsWait: _wait, partsApproval: _approval, ...older } = policy();
    const state = ticket();
    applyPartsEvent(state, { kind: 'waiting', shortfalls: [] }, { ...context, policy: older });
    expect(state.clocks.partsWait?.duration).toBe('2bd');
    expect(policy({ partsWait: '1bd', partsApproval: '2h' })).toMatchObject({
      partsWait: { text: '1bd' },
      partsApproval: { text: '2h' },
    });
  });
});

describe('a ticket ending without a resolve or cancel', () => {
  it('lets go of its parts when a change closes or cancels it before any service record', () => {
    const state = ticket();
    expect(endsWithoutSettlement('new', state)).toBe(false);
    state.status = 'closed';
    expect(endsWithoutSettlement('awaiting_consent', state)).toBe(true);
    state.status = 'cancelled';
    expect(endsWithoutSettlement('returning', state)).toBe(true);
  });

  it('leaves it to the resolve that settled them, and to a change that did not end the work now', () => {
    const state = ticket();
    state.status = 'closed';
    expect(endsWithoutSettlement('closed', state)).toBe(false);
    state.serviceRecords.push({ at: new Date(T0).toISOString(), actor: SUPERVISOR, input: {} });
    state.status = 'closed';
    expect(endsWithoutSettlement('resolved', state)).toBe(false);
  });
});

describe('the parts role', () => {
  it('keeps the catalogue and the stock; only a manager or admin approves', () => {
    expect(ROLES.filter((role) => can(role, 'stock.move'))).toEqual(['parts', 'manager', 'admin']);
    expect(ROLES.filter((role) => can(role, 'part.manage'))).toEqual(['parts', 'manager', 'admin']);
    expect(ROLES.filter((role) => can(role, 'stock.approve'))).toEqual(['manager', 'admin']);
    expect(ROLES.filter((role) => can(role, 'report.parts'))).toEqual([
      'supervisor',
      'qc',
      'parts',
      'manager',
      'director',
      'admin',
    ]);
    expect(can('parts', 'ticket.create')).toBe(false);
    // It reads the tickets parts are requested for, without the customer's personal data.
    expect(can('parts', 'ticket.read')).toBe(true);
    expect(maySeePersonalData('parts')).toBe(false);
    expect(can('client', 'part.read')).toBe(false);
  });

  it('shows an engineer its own van, everyone else every location', () => {
    expect(stockScope({ id: 'eng-1', role: 'engineer' })).toEqual({ kind: 'van', engineerId: 'eng-1' });
    expect(stockScope({ id: 'p-1', role: 'parts' })).toEqual({ kind: 'all' });
  });
});

describe('the low-stock notice', () => {
  it('names the part, what is available and the safety stock, in either language', () => {
    const notice = { partNumber: 'C123', name: '风扇电容', available: 3, safetyStock: 50 };
    expect(renderLowStock(notice, 'zh-CN')).toEqual({
      subject: '配件 C123 低于安全库存',
      body: '配件 C123（风扇电容）可用库存 3，低于安全库存 50，请及时采购或调货。',
    });
    expect(renderLowStock(notice, 'en').body).toBe(
      'Part C123 (风扇电容) has 3 available, below its safety stock of 50. Please reorder or transfer stock.',
    );
  });
});
