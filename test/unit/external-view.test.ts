import { describe, expect, it } from 'vitest';
import { maySeeStaffNotes } from '../../domain/access';
import { openTicket } from '../../domain/lifecycle';
import { ROLES, type Actor } from '../../domain/ticket';
import { externalView, REDACTED, ticketView } from '../../domain/view';
import { intake, policy, serviceRecord, TEST_CUSTOMER_ID } from '../support/fixtures';

const client: Actor = { id: 'shop-app', role: 'client' };
const agent: Actor = { id: 'agent-7', role: 'agent' };
const at = '2026-01-01T09:00:00.000Z';

describe("a client's view of a ticket", () => {
  const state = openTicket({
    number: 'WO20260101-001',
    intake: intake(),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: null,
    createdBy: client,
    createdAtMs: Date.parse('2026-01-01T08:00:00Z'),
    policy: policy(),
  });
  state.assignee = 'eng-42';
  state.plans = [{ at, actor: agent, input: { kind: 'standard', measures: 'Call the neighbour at 135…' } }];
  state.serviceRecords = [{ at, actor: { id: 'eng-42', role: 'engineer' }, input: serviceRecord }];
  state.callbacks = [
    { at, actor: client, complaint: false, input: { comment: 'fine', scores: { overall: 5 } } },
  ];
  state.dispatch.declines = [{ engineerId: 'eng-7', reason: 'Too far', at }];
  state.quality = {
    required: true,
    reason: 'sampled',
    reviews: [{ at, actor: { id: 'qc-1', role: 'qc' }, score: 90, band: 'excellent', comment: 'Tidy work' }],
  };
  state.escalations = [
    {
      id: 'e1',
      ticketNumber: state.number,
      clock: 'firstResponse',
      level: 1,
      reason: 'first response missed',
      missedDeadline: at,
      firedAt: at,
      stepDueAt: null,
      acknowledgedAt: at,
      acknowledgedBy: 'sup-1',
      supersededBy: null,
      responsible: { id: 'agent-9', role: 'agent' },
    },
  ];

  it('leaves out what staff wrote and who did it, and keeps its own id, the numbers and the progress', () => {
    const view = externalView(ticketView(state, Date.parse(at)), client.id);
    const text = JSON.stringify(view);
    for (const hidden of [
      'agent-9',
      'agent-7',
      'eng-42',
      'eng-7',
      'qc-1',
      'sup-1',
      'Call the neighbour',
      'Too far',
      'Tidy work',
    ])
      expect(text).not.toContain(hidden);
    for (const hidden of [serviceRecord.diagnosis, serviceRecord.fix, 'sig-0001'])
      expect(text).not.toContain(hidden);
    expect(view.assignee).toBe(REDACTED);
    expect(view.plans[0]).toEqual({
      at,
      actor: { id: REDACTED, role: 'agent' },
      input: { kind: 'standard' },
    });
    expect(view.serviceRecords[0]?.input).toMatchObject({
      parts: serviceRecord.parts,
      fees: serviceRecord.fees,
    });
    expect(view.callbacks[0]).toEqual({
      at,
      actor: client,
      complaint: false,
      input: { scores: { overall: 5 } },
    });
    expect(view.dispatch.declines).toEqual([]);
    expect(view.quality?.reviews).toEqual([
      { at, actor: { id: REDACTED, role: 'qc' }, score: 90, band: 'excellent' },
    ]);
    expect(view.escalations[0]?.acknowledgedBy).toBe(REDACTED);
    expect(view.customer).toEqual(state.intake.customer);
  });

  it('applies to the client role only: every staff role, qc included, sees the staff notes', () => {
    expect(ROLES.filter((role) => !maySeeStaffNotes(role))).toEqual(['client']);
  });
});
