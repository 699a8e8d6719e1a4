import { randomInt } from 'node:crypto';
import { BENCH_KEY, type Role } from './stack';

/** The benchmark's API client: a ticket of a customer and product of its own each time. */
export const INTAKE = {
  channel: 'app',
  category: 'fault',
  priority: 'normal',
  customer: { name: '张三', phone: '13812345678' },
  product: { model: 'KFR-35GW/ABC123', serialNumber: 'SN0001' },
  description: 'No cooling; outdoor fan does not turn',
};

export async function createTicket(api: Role): Promise<string> {
  const body = {
    ...INTAKE,
    customer: { ...INTAKE.customer, phone: `138${String(randomInt(1e8)).padStart(8, '0')}` },
    product: { ...INTAKE.product, serialNumber: `SN${randomInt(1e9)}` },
  };
  const response = await fetch(`${api.url}/v1/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201)
    throw new Error(`create answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { number: string }).number;
}
