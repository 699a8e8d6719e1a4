import { ACTION_NAMES } from '../../domain/lifecycle';
import { describe, expect, it } from 'vitest';
import { can, isInScope, maySeePersonalData, PERMISSIONS, ticketScope } from '../../domain/access';
import {
  maskAddress,
  maskContactsInText,
  maskCustomer,
  maskEmail,
  maskName,
  maskPhone,
} from '../../domain/masking';
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

describe('contacts in free text', () => {
  it('masks mainland mobiles, with or without +86 and separators, in Chinese text around them', () => {
    expect(maskContactsInText('客户电话13812345678,请下午回电')).toBe('客户电话138****5678,请下午回电');
    expect(maskContactsInText('钥匙在邻居+86 138-1234-5678家')).toBe('钥匙在邻居138****5678家');
    expect(maskContactsInText('备用号8613912345678。')).toBe('备用号139****5678。');
    expect(maskContactsInText('两个号码:15011112222、19922223333')).toBe('两个号码:150****2222、199****3333');
  });

  it('masks landlines with their area code set off, and e-mail addresses', () => {
    expect(maskContactsInText('座机010-87654321转分机')).toBe('座机010****4321转分机');
    expect(maskContactsInText('门卫室(0755)1234567')).toBe('门卫室075****4567');
    expect(maskContactsInText('发票寄到zhang.san@example.com。谢谢')).toBe('发票寄到z***@example.com。谢谢');
    expect(maskContactsInText('QQ邮箱13812345678@qq.com')).toBe('QQ邮箱1***@qq.com');
  });

  it('leaves other numbers and the text alone', () => {
    for (const text of [
      '工单WO20261204-003已完成',
      '序列号SN138123456789',
      '更换风扇电机,费用180元,编号FM220-0042',
      '预约 2026-12-04 14:00',
      '',
    ]) {
      expect(maskContactsInText(text)).toBe(text);
    }
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
