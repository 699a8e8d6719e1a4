import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import demoPolicy from './demo-policy.json';

/**
 * `npm run dev -- --demo`: short clocks (`dev/demo-policy.json`), a few engineers and a handful of
 * tickets in different states, all made through the HTTP API as a client would, so the demo runs
 * the product itself. Demo records say so: engineers' ids start with `demo-`, tickets carry an
 * `externalRef` of `demo-…` and a description starting with `[demo]`.
 */
export const DEMO_POLICY_FILE = path.join(__dirname, 'demo-policy.json');

export interface DemoApi {
  readonly url: string;
  readonly key: string;
}

interface TicketAnswer {
  readonly number: string;
  readonly status: string;
  readonly assignee: string | null;
  readonly sla: { readonly firstResponse?: { readonly dueAt: string } };
}

const ENGINEERS = [
  { id: 'demo-wang', name: '王工', skills: ['air-conditioner'], regions: ['shanghai-pudong'] },
  {
    id: 'demo-chen',
    name: '陈工',
    skills: ['air-conditioner'],
    regions: ['shanghai-pudong', 'shanghai-xuhui'],
  },
  { id: 'demo-li', name: '李工', skills: ['refrigerator'], regions: ['shanghai-xuhui'] },
];

function sampleTicket(
  ref: string,
  customer: { name: string; phone: string; region: string },
  product: { model: string; line: string },
  description: string,
) {
  return {
    channel: 'phone',
    category: 'fault',
    priority: 'normal',
    serviceType: 'repair',
    customer,
    product,
    description: `[demo] ${description}`,
    externalRef: `demo-${ref}`,
  };
}

const PLAN = { measures: 'Visit and repair on site', department: 'field-service', customerConfirmed: true };
const SERVICE_RECORD = {
  diagnosis: 'Outdoor fan motor seized',
  rootCause: 'Worn bearing',
  fix: 'Replaced the fan motor',
  parts: [{ partNumber: 'FM-220', quantity: 1, unitPriceFen: 18_000 }],
  fees: { laborFen: 0, visitFen: 5_000 },
  functionalTest: 'passed',
  customerConfirmation: { signatureRef: 'demo-signature' },
};
const SATISFIED = {
  channel: 'phone',
  scores: { responsiveness: 5, professionalism: 5, attitude: 5, resolution: 5, overall: 5, recommend: 5 },
};

async function call<T>(api: DemoApi, method: 'GET' | 'POST', route: string, body?: object): Promise<T> {
  const response = await fetch(`${api.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${api.key}`,
      ...(body && { 'content-type': 'application/json' }),
    },
    body: body && JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`${method} ${route} answered ${response.status}: ${await response.text()}`);
  }
  return (await response.json()) as T;
}

const act = (api: DemoApi, ticket: TicketAnswer, action: string, body: object = {}) =>
  call<TicketAnswer>(api, 'POST', `/v1/tickets/${ticket.number}/${action}`, body);

/** After `plan` the workflow offers the ticket to an engineer by itself: wait for the offer. */
async function dispatched(api: DemoApi, ticket: TicketAnswer): Promise<TicketAnswer> {
  for (let waited = 0; waited < 20_000; waited += 200) {
    const current = await call<TicketAnswer>(api, 'GET', `/v1/tickets/${ticket.number}`);
    if (current.status === 'assigned') return current;
    await sleep(200);
  }
  throw new Error(`${ticket.number} was not offered to a demo engineer within 20 s`);
}

/** Opens a sample ticket through the API. */
const open = (api: DemoApi, ...sample: Parameters<typeof sampleTicket>) =>
  call<TicketAnswer>(api, 'POST', '/v1/tickets', sampleTicket(...sample));

/** Opens a sample ticket, acknowledges and plans it, and waits for the workflow's offer to an engineer. */
async function openOffered(api: DemoApi, ...sample: Parameters<typeof sampleTicket>): Promise<TicketAnswer> {
  const ticket = await open(api, ...sample);
  await act(api, ticket, 'acknowledge');
  await act(api, ticket, 'plan', PLAN);
  return dispatched(api, ticket);
}

/** A booked slot `hours` from now, on the hour. */
function slot(hours: number) {
  const start = new Date(Date.now() + hours * 3_600_000);
  start.setUTCMinutes(0, 0, 0);
  return {
    slotStart: start.toISOString(),
    slotEnd: new Date(start.getTime() + 2 * 3_600_000).toISOString(),
  };
}

const timeOfDay = (instant: string) => new Date(instant).toLocaleTimeString('en-GB');

/** Seeds the demo; returns one line per ticket saying what it shows. */
export async function seedDemo(api: DemoApi): Promise<string[]> {
  for (const engineer of ENGINEERS) await call(api, 'POST', '/v1/engineers', engineer);

  // First, so its first-response clock runs while the others are driven.
  const escalating = await open(
    api,
    'escalating',
    { name: '张三', phone: '13800000001', region: 'shanghai-pudong' },
    { model: 'KFR-35GW/DEMO1', line: 'air-conditioner' },
    'No cooling; nobody has answered yet',
  );

  const waiting = await openOffered(
    api,
    'waiting',
    { name: '李四', phone: '13800000002', region: 'shanghai-pudong' },
    { model: 'KFR-26GW/DEMO2', line: 'air-conditioner' },
    'Indoor unit drips water',
  );

  const scheduled = await openOffered(
    api,
    'scheduled',
    { name: '王五', phone: '13800000003', region: 'shanghai-xuhui' },
    { model: 'BCD-470/DEMO3', line: 'refrigerator' },
    'Fridge compartment is warm',
  );
  await act(api, scheduled, 'accept');
  const appointment = slot(24);
  await act(api, scheduled, 'schedule', appointment);

  let closed = await openOffered(
    api,
    'closed',
    { name: '赵六', phone: '13800000004', region: 'shanghai-xuhui' },
    { model: 'KFR-50LW/DEMO4', line: 'air-conditioner' },
    'Outdoor fan does not turn',
  );
  await act(api, closed, 'accept');
  await act(api, closed, 'schedule', slot(3));
  await act(api, closed, 'start', { mode: 'onsite' });
  const resolved = await act(api, closed, 'resolve', SERVICE_RECORD);
  // Drawn for quality review (a sample, or a repeat of an earlier demo's customer): it passes.
  if (resolved.status === 'quality_check') await act(api, closed, 'qc-review', { score: 92 });
  closed = await act(api, closed, 'callback', SATISFIED);

  const escalatesAt = escalating.sla.firstResponse?.dueAt;
  return [
    `${escalating.number}  new, never acknowledged: escalates to the supervisor at ${escalatesAt ? timeOfDay(escalatesAt) : '(no first-response clock)'}, then climbs a level every ${demoPolicy.escalationStep}`,
    `${waiting.number}  ${waiting.status}, offered to ${waiting.assignee}: waiting for acceptance (offered to the next engineer after ${demoPolicy.dispatchAccept})`,
    `${scheduled.number}  scheduled with ${scheduled.assignee} at ${new Date(appointment.slotStart).toLocaleString('en-GB')}`,
    `${closed.number}  ${closed.status} after a satisfied callback`,
  ];
}
