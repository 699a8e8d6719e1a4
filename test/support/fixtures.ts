import { randomInt } from 'node:crypto';
import { loadConfig } from '../../config';
import { parsePolicy } from '../../config/policy-file';
import { createDataConverter } from '../../temporal/data-converter';
import type { SlaPolicy } from '../../domain/policy';
import { ticketIntakeSchema } from '../../domain/intake';
import type { Actor, TicketIntake } from '../../domain/ticket';

export const AGENT: Actor = { id: 'agent-7', role: 'agent' };
export const SUPERVISOR: Actor = { id: 'sup-1', role: 'supervisor' };

/** The development payload key: what `npm run dev` and the API under test use. */
export const TEST_PAYLOAD_KEYS = loadConfig({}).payloadKeys;
export const testDataConverter = createDataConverter(TEST_PAYLOAD_KEYS);

export const TEST_CUSTOMER_ID = 'c_test';

export function intake(overrides: Partial<TicketIntake> = {}): TicketIntake {
  return ticketIntakeSchema.parse({
    channel: 'phone',
    category: 'fault',
    priority: 'normal',
    customer: { name: '张三', phone: '13812345678' },
    // A serial of its own: the same customer's same product within 90 days is a repeat fault.
    product: { model: 'KFR-35GW/ABC123', serialNumber: `SN${randomInt(1e9)}`, purchaseDate: '2026-03-15' },
    description: 'No cooling; outdoor fan does not turn',
    ...overrides,
  });
}

/**
 * A policy for tests: the defaults and `overrides`, without warnings before a breach unless the
 * test names `warnAt` (they add notifications tests of other rules do not expect).
 */
export function policy(overrides: Record<string, unknown> = {}): SlaPolicy {
  return parsePolicy({ warnAt: null, ...overrides });
}

/** A ticket number no other test uses: tests share one database. */
export function uniqueTicketNumber(): string {
  return `WO20991231-${String(randomInt(100_000, 999_999_999))}`;
}

export const satisfiedCallback = {
  channel: 'phone' as const,
  scores: { responsiveness: 5, professionalism: 5, attitude: 5, resolution: 5, overall: 5, recommend: 5 },
  satisfaction: 'satisfied' as const,
};

export const unhappyCallback = {
  channel: 'phone' as const,
  scores: { responsiveness: 4, professionalism: 4, attitude: 2, resolution: 4, overall: 3, recommend: 3 },
  dissatisfaction: 'poor_attitude' as const,
  comment: 'The engineer was rude',
};

/** A service record as an engineer files it on `resolve`. */
export const serviceRecord = {
  diagnosis: 'Outdoor fan motor seized',
  rootCause: 'Worn bearing',
  fix: 'Replaced the fan motor',
  parts: [{ partNumber: 'FM-220', oldPartSerial: 'FM220-0042', quantity: 1, unitPriceFen: 18_000 }],
  fees: { laborFen: 0, visitFen: 5_000 },
  functionalTest: 'passed' as const,
  customerConfirmation: { signatureRef: 'sig-0001' },
};
