import { ACTION_NAMES } from '../../domain/lifecycle';
import { describe, expect, it } from 'vitest';
import { can, isInScope, maySeePersonalData, PERMISSIONS, ticketScope } from '../../domain/access';
import { maskAddress, maskCustomer, maskEmail, maskName, maskPhone } from '../../domain/masking';
import { ROLES, type TicketState } from '../../domain/ticket';

describe('masking personal data', () => {
  it('masks names, phones, e-mails and addresses the way the call centre reads them', () => {
    expect(maskName('张三')).toBe('张*');
    expect(maskName('欧阳锋')).toBe('欧**');
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+86 138-1234-5678')).toBe('861****5678');
    expect(maskPhone('123456')).toBe('****56');
    expect(maskEmail('zhang.san@example.com')).toBe('z***@example.com');
    expect(maskAddress('上海市浦东新区世纪大道100号')).toBe('上海市浦东新***');
  });

  it('masks a whole customer, keeping the tier and leaving absent fields absent', () => {
    expect(maskCustomer({ name: '张三', phone: '13812345678', tier: 'vip' })).toEqual({
      name: '张*',
      phone: '138****5678',
      tier: 'vip',
    });
  });
});

describe('the role table', () => {
  it('lets only the process roles see personal data in clear', () => {
    expect(ROLES.filter(maySeePersonalData)).toEqual([
      'agent',
      'engineer',
      'supervisor',
      'manager',
      'director',
      'admin',
    ]);
  });

  it('gives the complaint follow-up to supervisors and above only', () => {
    expect(ROLES.filter((role) => can(role, 'follow-up'))).toEqual([
      'supervisor',
      'manager',
      'director',
      'admin',
    ]);
    expect(ROLES.filter((role) => can(role, 'approve'))).toEqual(['manager', 'director', 'admin']);
    expect(ROLES.filter((role) => can(role, 'plan.director'))).toEqual(['director', 'admin']);
    // Every lifecycle action has its row in the table.
    expect(ACTION_NAMES.filter((action) => !(action in PERMISSIONS))).toEqual([]);
  });

  it('scopes a client to its own tickets and an engineer to its assigned ones', () => {
    const ticket = { createdBy: { id: 'shop-app', role: 'client' }, assignee: 'eng-1' } as TicketState;
    expect(isInScope(ticket, ticketScope({ id: 'shop-app', role: 'client' }))).toBe(true);
    expect(isInScope(ticket, ticketScope({ id: 'other-shop', role: 'client' }))).toBe(false);
    expect(isInScope(ticket, ticketScope({ id: 'eng-1', role: 'engineer' }))).toBe(true);
    expect(isInScope(ticket, ticketScope({ id: 'eng-2', role: 'engineer' }))).toBe(false);
    expect(isInScope(ticket, ticketScope({ id: 'qc-1', role: 'qc' }))).toBe(true);
  });
});
