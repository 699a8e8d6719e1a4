import { describe, expect, it } from 'vitest';
import { maySeeStaffNotes } from '../../domain/access';
import { openTicket } from '../../domain/lifecycle';
import { ROLES, type Actor } from '../../domain/ticket';
import { externalView, maskContactsInFreeText, maskedView, REDACTED, ticketView } from '../../domain/view';
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

describe("a masked role's view of a ticket (qc, parts, finance)", () => {
  const qc: Actor = { id: 'qc-1', role: 'qc' };
  const PHONE = '13511112222';
  const EMAIL = 'li.si@example.com';
  const state = openTicket({
    number: 'WO20260101-002',
    intake: intake({ description: `空调不制冷,邻居电话${PHONE}` }),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: null,
    createdBy: agent,
    createdAtMs: Date.parse('2026-01-01T08:00:00Z'),
    policy: policy(),
  });
  state.plans = [{ at, actor: agent, input: { kind: 'standard', measures: `先联系${PHONE}再上门` } }];
  state.serviceRecords = [
    {
      at,
      actor: { id: 'eng-42', role: 'engineer' },
      input: { ...serviceRecord, diagnosis: `客户邮箱${EMAIL}`, rootCause: `见座机021-55556666` },
    },
  ];
  state.hold = { since: at, reason: `等客户回电${PHONE}`, resumeTo: 'acknowledged' };
  state.dispatch.declines = [{ engineerId: 'eng-7', reason: `太远,已告知${PHONE}`, at }];

  it('masks the contacts in every free text and keeps the text, the ids and the other numbers', () => {
    const view = maskedView(ticketView(state, Date.parse(at)));
    const text = JSON.stringify(view);
    expect(text).not.toContain(PHONE);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain('55556666');
    expect(view.description).toBe('空调不制冷,邻居电话135****2222');
    expect(view.plans[0]?.input).toEqual({ kind: 'standard', measures: '先联系135****2222再上门' });
    expect(view.serviceRecords[0]?.input).toMatchObject({
      diagnosis: '客户邮箱l***@example.com',
      rootCause: '见座机021****6666',
      fix: serviceRecord.fix,
      parts: serviceRecord.parts,
    });
    expect(view.hold?.reason).toBe('等客户回电135****2222');
    expect(view.dispatch.declines[0]).toEqual({ engineerId: 'eng-7', reason: '太远,已告知135****2222', at });
    expect(view.customer.phone).toBe('138****5678');
    expect(view.plans[0]?.actor).toEqual(agent);
    expect(view.product).toEqual(state.intake.product);
    // The data's owner's roles still read it all.
    expect(maySeeStaffNotes(qc.role)).toBe(true);
    expect(JSON.stringify(ticketView(state, Date.parse(at)))).toContain(PHONE);
  });

  it("masks contacts in an event's free text at any depth, and nothing else", () => {
    expect(
      maskContactsInFreeText({
        text: `回访${PHONE}`,
        input: { note: `发到${EMAIL}`, trackingNumber: 'SF13511112222' },
        phoneCount: 1,
        reason: 'first_response_missed',
      }),
    ).toEqual({
      text: '回访135****2222',
      input: { note: '发到l***@example.com', trackingNumber: 'SF13511112222' },
      phoneCount: 1,
      reason: 'first_response_missed',
    });
  });
});
