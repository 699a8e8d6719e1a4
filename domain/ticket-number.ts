/**
 * Ticket numbers `WO<YYYYMMDD>-<NNN>`: the creation date in the business time zone and a serial per
 * day, three digits wide and wider past 999.
 */
const TICKET_NUMBER_PATTERN = /^WO\d{8}-\d{3,}$/;

export function formatTicketNumber(businessDate: string, serial: number): string {
  return `WO${businessDate.replaceAll('-', '')}-${String(serial).padStart(3, '0')}`;
}

export function isTicketNumber(text: string): boolean {
  return TICKET_NUMBER_PATTERN.test(text);
}
