import { describe, expect, it } from 'vitest';
import { CUSTOMER_ID_PATTERN, customerFileAccess } from '../../domain/customer-file';
import { customerIdOf } from '../../api/customer-id';

describe('the customer file’s access rule', () => {
  it("keeps a client to the tickets it created, an agent to its tickets' agentScope, and lets other staff read every ticket", () => {
    expect(customerFileAccess({ id: 'c-1', role: 'client' }, false)).toEqual({
      kind: 'scope',
      scope: { kind: 'createdBy', actorId: 'c-1' },
    });
    // Every ticket under agentScope "all", its own and the queue under "own" (agentMaySee).
    expect(customerFileAccess({ id: 'agent-7', role: 'agent' }, false)).toEqual({
      kind: 'scope',
      scope: { kind: 'agent', actorId: 'agent-7' },
    });
    for (const role of ['qc', 'parts', 'finance', 'supervisor', 'manager', 'director', 'admin'] as const) {
      expect(customerFileAccess({ id: 'x', role }, false)).toEqual({ kind: 'scope', scope: { kind: 'all' } });
    }
  });

  it("opens a customer's whole history to an engineer only while it holds one of their open tickets", () => {
    expect(customerFileAccess({ id: 'eng-1', role: 'engineer' }, true)).toEqual({
      kind: 'scope',
      scope: { kind: 'all' },
    });
    expect(customerFileAccess({ id: 'eng-1', role: 'engineer' }, false)).toMatchObject({ kind: 'refused' });
  });

  it('accepts exactly the customer ids the API makes', () => {
    expect(CUSTOMER_ID_PATTERN.test(customerIdOf('138 1234-5678', 'secret'))).toBe(true);
    expect(CUSTOMER_ID_PATTERN.test('13812345678')).toBe(false);
    expect(CUSTOMER_ID_PATTERN.test(`c_${'A'.repeat(32)}`)).toBe(false);
  });
});
