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
