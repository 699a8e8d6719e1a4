import { createHmac } from 'node:crypto';

/**
 * The CustomerId search attribute: a keyed hash of the normalised phone number, so operators can
 * find every ticket of one customer in Temporal UI without the phone number ever being stored there.
 */
export function customerIdOf(phone: string, secret: string): string {
  const normalised = phone.replace(/[\s-]/g, '');
  return `c_${createHmac('sha256', secret).update(normalised).digest('hex').slice(0, 32)}`;
}
