import type { TicketIntake } from './ticket';

/**
 * Masking of customers' personal data for roles that may not see it: 张三 → 张*,
 * 13812345678 → 138****5678, zhang@example.com → z***@example.com, an address keeps its first
 * six characters (city and district).
 */
const characters = (text: string) => Array.from(text);

export function maskName(name: string): string {
  const [first = '', ...rest] = characters(name.trim());
  return first + '*'.repeat(Math.max(1, rest.length));
}

export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 8) return `${'*'.repeat(Math.max(0, digits.length - 2))}${digits.slice(-2)}`;
  return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
}

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

export function maskAddress(address: string): string {
  return `${characters(address).slice(0, 6).join('')}***`;
}

/** A phone number or an e-mail address, masked the way it is in a ticket. */
export function maskContact(contact: string): string {
  return contact.includes('@') ? maskEmail(contact) : maskPhone(contact);
}

export function maskCustomer(customer: TicketIntake['customer']): TicketIntake['customer'] {
  return {
    ...customer,
    name: maskName(customer.name),
    phone: maskPhone(customer.phone),
    ...(customer.email ? { email: maskEmail(customer.email) } : {}),
    ...(customer.address ? { address: maskAddress(customer.address) } : {}),
    // A home's coordinates to one decimal: about 10 km, enough to see the region and no more.
    ...(customer.location
      ? {
          location: {
            latitude: Math.round(customer.location.latitude * 10) / 10,
            longitude: Math.round(customer.location.longitude * 10) / 10,
          },
        }
      : {}),
  };
}

/**
 * What staff (or the customer) typed may hold a phone number or an e-mail address: an e-mail address,
 * a mainland mobile (11 digits from 13–19, optionally after +86 or 86, in groups of 3-4-4 split by a
 * space or hyphen) and a landline with its area code set off (010-12345678, (0755)1234567). Digits
 * run on into longer numbers (serials, order numbers) are left alone.
 */
const CONTACT_IN_TEXT = new RegExp(
  [
    String.raw`(?<![A-Za-z0-9._%+-])(?<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})`,
    String.raw`(?<!\d)(?:\+?86[-\s]?)?(?<mobile>1[3-9]\d[-\s]?\d{4}[-\s]?\d{4})(?!\d)`,
    String.raw`(?<!\d)(?<landline>(?:\(0\d{2,3}\)|0\d{2,3}-)\s?\d{7,8})(?!\d)`,
  ].join('|'),
  'g',
);

/**
 * Free text with the phone numbers and e-mail addresses in it masked as a ticket's are
 * (138****5678, z***@example.com, 021****5678), the text around them untouched.
 */
export function maskContactsInText(text: string): string {
  return text.replace(CONTACT_IN_TEXT, (match: string, ...rest: unknown[]) => {
    const groups = rest.at(-1) as { email?: string; mobile?: string; landline?: string };
    if (groups.email) return maskEmail(groups.email);
    return maskPhone(groups.mobile ?? groups.landline ?? match);
  });
}
