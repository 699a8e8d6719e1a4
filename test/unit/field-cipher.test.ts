import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FieldCipher, FieldDecryptionError } from '../../db/field-cipher';
import { ANONYMISED, joinPersonalData, splitPersonalData } from '../../db/ticket-pii';
import { openTicket } from '../../domain/lifecycle';
import { AGENT, intake, policy, TEST_CUSTOMER_ID } from '../support/fixtures';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

describe('the field cipher', () => {
  it('seals under the first key and opens with any key of the ring', () => {
    const sealed = new FieldCipher([k1]).seal('13812345678', 'test');
    expect(sealed).toMatch(/^enc1:k1:/);
    expect(sealed).not.toContain('13812345678');
    const rotated = new FieldCipher([k2, k1]);
    expect(rotated.open(sealed, 'test')).toBe('13812345678');
    expect(rotated.seal('x', 'test')).toMatch(/^enc1:k2:/);
    expect(() => new FieldCipher([k2]).open(sealed, 'test')).toThrow(
      /no payload encryption key with id "k1"/,
    );
  });

  it('refuses a value that was altered, moved to another purpose, or never sealed', () => {
    const cipher = new FieldCipher([k1]);
    const sealed = cipher.seal('secret', 'webhook');
    const flipped = `${sealed.slice(0, -4)}${sealed.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect(() => cipher.open(flipped, 'webhook')).toThrow(FieldDecryptionError);
    expect(() => cipher.open(sealed, 'recipient')).toThrow(/failed authentication/);
    expect(() => cipher.open('secret', 'webhook')).toThrow(/not sealed/);
  });
});

describe("a ticket's personal data", () => {
  const state = openTicket({
    number: 'WO20260101-001',
    intake: intake({
      customer: {
        name: '张三',
        phone: '13812345678',
        email: 'z@example.com',
        address: '上海市浦东新区',
        tier: 'vip',
        region: 'shanghai-pudong',
        location: { latitude: 31.2, longitude: 121.5 },
      },
      attachments: ['https://example.com/photo.jpg'],
    }),
    customerId: TEST_CUSTOMER_ID,
    repeatOf: null,
    createdBy: AGENT,
    createdAtMs: Date.parse('2026-01-01T08:00:00Z'),
    policy: policy(),
  });

  it('leaves the stored state without name, contacts, address, description or attachments, and joins back whole', () => {
    const { stored, personal } = splitPersonalData(state);
    const text = JSON.stringify(stored);
    for (const value of ['张三', '13812345678', 'z@example.com', '上海市浦东新区', '121.5', 'photo.jpg'])
      expect(text).not.toContain(value);
    expect(text).not.toContain(state.intake.description);
    expect(stored.intake.customer).toEqual({ tier: 'vip', region: 'shanghai-pudong' });
    expect(joinPersonalData(stored, personal)).toEqual(state);
  });

  it('reads an anonymised ticket (no personal data) with placeholders', () => {
    const { stored } = splitPersonalData(state);
    const anonymised = joinPersonalData(stored, null);
    expect(anonymised.intake.customer).toEqual({
      name: ANONYMISED,
      phone: ANONYMISED,
      tier: 'vip',
      region: 'shanghai-pudong',
    });
    expect(anonymised.intake.description).toBe(ANONYMISED);
    expect(anonymised.intake.attachments).toEqual([]);
  });
});
