import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { INTAKE } from './http';
import { runPaced, summarize, type LatencySummary } from './measure';

/**
 * An escalation storm as a user meets it, through the API only: tickets created at a steady rate and
 * never acknowledged, so each climbs L1 → L2 → L3 with its notifications, while webhook receivers
 * subscribed to every event are healthy or hang. Works against any running Aftercare whose policy
 * has short clocks (`npm run dev` with `SLA_POLICY_FILE`, or the benchmark's own API).
 */
export type ReceiverCondition = 'none' | 'healthy' | 'hanging';

export interface StormOptions {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly ratePerSecond: number;
  readonly tickets: number;
  readonly receivers: ReceiverCondition;
  /** How many subscriptions to `["*"]` point at the receiver (the issue's hanging case: 3). */
  readonly subscriptions?: number;
  /** Escalation levels each ticket must reach (3: supervisor, manager, director). */
  readonly levels?: number;
  /** Give up waiting for escalations after this long without a new one. */
  readonly quietSeconds?: number;
}

export interface StormResult {
  readonly ratePerSecond: number;
  readonly receivers: ReceiverCondition;
  readonly tickets: number;
  readonly failedCreates: number;
  /** recordedAt − missedDeadline of every escalation, all levels. */
  readonly lateness: LatencySummary;
  readonly latenessByLevel: Record<string, LatencySummary>;
  /** Escalations expected (tickets × levels) and not recorded. */
  readonly missing: number;
  /** Escalations recorded more than once for the same ticket, clock and level. */
  readonly duplicates: number;
  /** The healthy receiver: deliveries received, the same delivery twice, and event → receipt lag. */
  readonly webhooks?: { received: number; duplicates: number; lag: LatencySummary };
}

interface Escalation {
  readonly ticketNumber: string;
  readonly clock: string;
  readonly level: number;
  readonly missedDeadline: string;
  readonly recordedAt: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A local webhook receiver: answers 204 at once (healthy), or takes the request and never answers. */
async function startReceiver(condition: 'healthy' | 'hanging') {
  const received: { deliveryId: string; eventAt: number; receivedAt: number }[] = [];
  const server: Server = createServer((incoming, response) => {
    if (condition === 'hanging') return; // holds the connection until the sender gives up
    let body = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => (body += chunk));
    incoming.on('end', () => {
      const parsed = JSON.parse(body) as { deliveryId: string; event: { at: string } };
      received.push({
        deliveryId: parsed.deliveryId,
        eventAt: Date.parse(parsed.event.at),
        receivedAt: Date.now(),
      });
      response.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function client(apiUrl: string, apiKey: string) {
  return async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const response = await request(`${apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    if (response.statusCode >= 300)
      throw new Error(`${method} ${path} answered ${response.statusCode}: ${text}`);
    return JSON.parse(text) as T;
  };
}

export async function runStorm(options: StormOptions): Promise<StormResult> {
  const levels = options.levels ?? 3;
  const call = client(options.apiUrl, options.apiKey);
  const receiver = options.receivers === 'none' ? undefined : await startReceiver(options.receivers);
  const subscriptionIds: string[] = [];
  try {
    for (
      let index = 0;
      index < (options.subscriptions ?? (options.receivers === 'hanging' ? 3 : 1));
      index += 1
    ) {
      if (!receiver) break;
      const created = await call<{ id: string }>('POST', '/v1/webhooks', {
        url: receiver.url,
        eventTypes: ['*'],
        secret: 'storm-receiver-secret-0001',
      });
      subscriptionIds.push(created.id);
    }
    const numbers: string[] = [];
    const firedFrom = new Date().toISOString();
    const creates = await runPaced(options.tickets, options.ratePerSecond, async (index) => {
      const ticket = await call<{ number: string }>('POST', '/v1/tickets', {
        ...INTAKE,
        customer: { ...INTAKE.customer, phone: `139${String(index).padStart(8, '0')}` },
        product: { ...INTAKE.product, serialNumber: `STORM-${Date.now()}-${index}` },
      });
      numbers.push(ticket.number);
    });
    const escalations = await waitForEscalations(
      call,
      numbers,
      firedFrom,
      levels,
      options.quietSeconds ?? 30,
    );
    return summarizeStorm(options, numbers, creates.errors, escalations, levels, receiver?.received);
  } finally {
    for (const id of subscriptionIds) await call('POST', `/v1/webhooks/${id}`, { active: false });
    await receiver?.close();
  }
}

/**
 * Reads the escalations fired since the storm began (a few pages every 2 s, not a request per ticket:
 * the reading must not load what it measures) until every ticket has reached `levels`, or none came
 * for `quietSeconds`.
 */
async function waitForEscalations(
  call: ReturnType<typeof client>,
  numbers: readonly string[],
  firedFrom: string,
  levels: number,
  quietSeconds: number,
): Promise<Map<string, Escalation[]>> {
  const wanted = new Set(numbers);
  let seen = 0;
  let lastNewAt = Date.now();
  for (;;) {
    const found = new Map<string, Escalation[]>();
    let cursor: string | null = null;
    do {
      const query: string = `/v1/escalations?firedFrom=${encodeURIComponent(firedFrom)}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call<{ items: Escalation[]; nextCursor: string | null }>('GET', query);
      for (const item of page.items) {
        if (wanted.has(item.ticketNumber))
          found.set(item.ticketNumber, [...(found.get(item.ticketNumber) ?? []), item]);
      }
      cursor = page.nextCursor;
    } while (cursor);
    const count = [...found.values()].reduce((sum, items) => sum + items.length, 0);
    if (count > seen) lastNewAt = Date.now();
    seen = count;
    if (count >= numbers.length * levels || Date.now() - lastNewAt > quietSeconds * 1000) return found;
    await sleep(2000);
  }
}

function summarizeStorm(
  options: StormOptions,
  numbers: readonly string[],
  failedCreates: number,
  escalations: Map<string, Escalation[]>,
  levels: number,
  received: { deliveryId: string; eventAt: number; receivedAt: number }[] | undefined,
): StormResult {
  const all = [...escalations.values()].flat();
  const lateness = (items: readonly Escalation[]) =>
    summarize(items.map((item) => Date.parse(item.recordedAt) - Date.parse(item.missedDeadline)));
  const keys = all.map((item) => `${item.ticketNumber}/${item.clock}/${item.level}`);
  const distinct = new Set(keys);
  const latenessByLevel = Object.fromEntries(
    Array.from({ length: levels }, (_, index) => [
      `L${index + 1}`,
      lateness(all.filter((item) => item.level === index + 1)),
    ]),
  );
  const deliveryIds = received?.map((entry) => entry.deliveryId) ?? [];
  return {
    ratePerSecond: options.ratePerSecond,
    receivers: options.receivers,
    tickets: numbers.length,
    failedCreates,
    lateness: lateness(all),
    latenessByLevel,
    missing: Math.max(0, numbers.length * levels - distinct.size),
    duplicates: keys.length - distinct.size,
    ...(received && options.receivers === 'healthy'
      ? {
          webhooks: {
            received: received.length,
            duplicates: deliveryIds.length - new Set(deliveryIds).size,
            lag: summarize(received.map((entry) => entry.receivedAt - entry.eventAt)),
          },
        }
      : {}),
  };
}
