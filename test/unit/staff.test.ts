import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { staffAddress, staffInputSchema, superiorRefusal } from '../../domain/staff';

/** The staff directory's rules (domain/staff.ts): who may be whose superior, and how a person is told. */
describe('staff directory', () => {
  it('takes a person with a channel; SMS needs a phone, e-mail an address; internal by default', () => {
    expect(staffInputSchema.parse({ role: 'agent', name: '王芳' })).toEqual({
      role: 'agent',
      name: '王芳',
      notifyBy: 'internal',
      active: true,
    });
    const sms = staffInputSchema.safeParse({ role: 'supervisor', name: '李强', notifyBy: 'sms' });
    expect(sms.error?.issues).toMatchObject([
      { path: ['phone'], message: 'notifyBy sms needs a phone number' },
    ]);
    const email = staffInputSchema.safeParse({
      role: 'manager',
      name: 'M',
      notifyBy: 'email',
      phone: '13800000000',
    });
    expect(email.error?.issues).toMatchObject([
      { path: ['email'], message: 'notifyBy email needs an e-mail address' },
    ]);
    expect(staffInputSchema.safeParse({ role: 'client', name: 'C' }).success).toBe(false);
  });

  it('states the channel rule in the OpenAPI document too', () => {
    const schema = z.toJSONSchema(staffInputSchema, { io: 'input' });
    expect(schema.anyOf).toEqual([
      { properties: { notifyBy: { not: { enum: ['sms', 'email'] } } } },
      { properties: { notifyBy: { enum: ['sms'] } }, required: ['phone'] },
      { properties: { notifyBy: { enum: ['email'] } }, required: ['email'] },
    ]);
  });

  it('refuses a superior who is the person, not on file, or already below them', () => {
    expect(superiorRefusal('a', 'a', true, [])).toBe('superiorId: a person cannot be their own superior');
    expect(superiorRefusal('a', 'b', false, [])).toBe('superiorId: no staff member b');
    expect(superiorRefusal('a', 'b', true, ['b', 'c', 'a'])).toBe(
      'superiorId: b reports to a already (a cycle)',
    );
    expect(superiorRefusal('a', 'b', true, ['b', 'c'])).toBeUndefined();
  });

  it('reaches a person by SMS or e-mail when they chose it, else by system message', () => {
    const person = {
      id: 'sup-1',
      role: 'supervisor',
      phone: '13900000001',
      email: 's@example.com',
      active: true,
    } as const;
    expect(staffAddress({ ...person, notifyBy: 'sms' })).toEqual({
      channel: 'sms',
      recipient: '13900000001',
    });
    expect(staffAddress({ ...person, notifyBy: 'email' })).toEqual({
      channel: 'email',
      recipient: 's@example.com',
    });
    expect(staffAddress({ ...person, notifyBy: 'internal' })).toEqual({
      channel: 'internal',
      recipient: 'staff:sup-1',
    });
    expect(staffAddress({ ...person, role: 'engineer', id: 'eng-1', notifyBy: 'internal' })).toEqual({
      channel: 'internal',
      recipient: 'engineer:eng-1',
    });
  });
});
