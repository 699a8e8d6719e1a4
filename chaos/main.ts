import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Connection, Client } from '@temporalio/client';
import { asc, eq, sql } from 'drizzle-orm';
import { loadConfig } from '../config';
import { connectDatabase } from '../db/client';
import { applyMigrations } from '../db/migrate';
import { escalations, ticketEvents } from '../db/schema';
import { findTicket } from '../db/ticket-store';
import { randomPostgresPort, startEmbeddedPostgres, type RunningPostgres } from '../dev/embedded-postgres';
import { newClusterPasswords, randomServerPort, startClusterOn } from '../dev/temporal-cluster';
import { startTemporalDevServer } from '../dev/temporal-dev-server';
import { workflowIdOf } from '../domain/ticket';
import { BENCH_KEY, startApi, startRelay, startWorker, type BenchServices, type Role } from '../bench/stack';
import { createDataConverter } from '../temporal/data-converter';
import { ticketStateQuery } from '../workflows/messages';

/**
 * `npm run chaos`: a few hundred tickets through the API and two worker processes while workers are
 * SIGKILLed again and again, the Temporal dev server, PostgreSQL, the API and the delivery relay are
 * each restarted once. Then every ticket is checked: there, its timeline complete and in order, its
 * escalation recorded exactly when its clock says it was missed — once — its workflow where its
 * actions put it, and every notification it queued delivered. Most tickets reserve a spare part: the
 * closed ones re-plan (releasing one), then resolve with one used; the cancelled ones release theirs;
 * then nothing is left reserved for a finished ticket, each closed ticket was issued exactly what it
 * used, and every location's on hand and reserved agree with the ledger and the reservations.
 * Loopback only, bounded in tickets and time; exits non-zero on any violation.
 */
const { values } = parseArgs({
  options: {
    tickets: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '60' },
    // The production engine: the real Temporal server on the PostgreSQL, as `npm run cluster` runs it.
    cluster: { type: 'boolean', default: false },
  },
});
const CLUSTER = values.cluster;
const ENGINE = CLUSTER ? 'Temporal server' : 'Temporal dev server';
const TICKETS = Number(values.tickets);
const SECONDS = Number(values.seconds);
const FIRST_RESPONSE_SECONDS = 20;
const POLICY = {
  firstResponse: `${FIRST_RESPONSE_SECONDS}s`,
  escalationStep: '1h',
  plan: { normal: '1h', urgent: '1h', critical: '1h' },
  callback: '1h',
  qcSampleRate: 0,
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const say = (line: string) => process.stdout.write(`[chaos] ${line}\n`);

type Group = 'idle' | 'acknowledged' | 'closed' | 'cancelled';
const GROUPS = ['idle', 'acknowledged', 'closed', 'cancelled'] as const;
const groupOf = (index: number): Group => GROUPS[index % GROUPS.length] ?? 'idle';
/** What each group holds at the end (reserved) and was issued: acknowledged tickets keep theirs. */
const PARTS_EXPECTED: Record<Group, { held: number; issued: number }> = {
  idle: { held: 0, issued: 0 },
  acknowledged: { held: 1, issued: 0 },
  closed: { held: 0, issued: 1 },
  cancelled: { held: 0, issued: 0 },
};
const PART = 'CHAOS-CAP';
const WAREHOUSE = 'chaos-wh';
const faults = {
  workerKills: 0,
  temporalRestarts: 0,
  postgresRestarts: 0,
  apiKills: 0,
  relayKills: 0,
  retriedRequests: 0,
};
/** A relay killed mid-send leaves its rows leased (webhook timeout + 30 s); then another takes them. */
const DELIVERY_WAIT_MS = 90_000;

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'aftercare-chaos-'));
  chmodSync(scratch, 0o755);
  const pgPort = randomPostgresPort();
  const temporalPort = randomServerPort();
  // Below the ephemeral range too, apart from PostgreSQL's and Temporal's (membership ports from 19700).
  const apiPort = 15_000 + Math.floor(Math.random() * 4_000);
  const passwords = CLUSTER ? newClusterPasswords() : undefined;
  const startPostgres = () =>
    startEmbeddedPostgres({
      dataDir: path.join(scratch, 'postgres'),
      port: pgPort,
      ...(passwords && { superuser: { user: 'postgres', password: passwords.postgres_password } }),
    });
  let postgres: RunningPostgres = await startPostgres();
  // Aftercare's URL: the `aftercare` role's on the cluster (as in the compose file), else the embedded one's.
  let databaseUrl = postgres.url;
  const startTemporal = async (): Promise<{ address: string; stop: () => Promise<void> }> => {
    if (!passwords) {
      return startTemporalDevServer({
        dbFilename: path.join(scratch, 'temporal.sqlite'),
        port: temporalPort,
      });
    }
    const cluster = await startClusterOn(postgres.url, passwords, {
      dataDir: path.join(scratch, 'temporal'),
      port: temporalPort,
      namespace: 'default',
    });
    databaseUrl = cluster.databaseUrl;
    return cluster;
  };
  let temporal = await startTemporal();
  await applyMigrations(databaseUrl, loadConfig({}).payloadKeys);
  const services: BenchServices = {
    code: 'source',
    databaseUrl,
    postgres: 'embedded, fsync on',
    temporal: ENGINE,
    temporalAddress: temporal.address,
    taskQueue: `chaos-${process.pid}`,
    stop: async () => undefined,
  };
  let api: Role = await startApi(services, POLICY, apiPort);
  const workers: Role[] = [await startWorker(services), await startWorker(services)];
  let relay: Role = await startRelay(services);
  say(
    `${TICKETS} tickets over ${SECONDS} s, first response ${FIRST_RESPONSE_SECONDS} s, 2 workers, ${ENGINE}${CLUSTER ? ' on PostgreSQL' : ''}`,
  );

  /** A request retried (same Idempotency-Key) until the API answers below 500. */
  async function call(method: string, route: string, body: unknown, key?: string) {
    const deadline = Date.now() + 120_000;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const response = await fetch(`http://127.0.0.1:${apiPort}${route}`, {
          method,
          headers: {
            authorization: `Bearer ${BENCH_KEY}`,
            'content-type': 'application/json',
            ...(key ? { 'idempotency-key': key } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        if (response.status < 500)
          return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      } catch {
        // The API is down or restarting: try again.
      }
      if (Date.now() > deadline) throw new Error(`${method} ${route} failed for 120 s`);
      if (attempt === 0) faults.retriedRequests += 1;
      await sleep(500);
    }
  }

  /** The part every ticket draws on, and enough stock for all of them. */
  async function seedParts(): Promise<void> {
    const seeded = [
      await call('POST', '/v1/stock-locations', { id: WAREHOUSE, kind: 'warehouse', name: 'Chaos' }),
      await call('POST', '/v1/parts', {
        partNumber: PART,
        name: 'Capacitor',
        productLines: ['chaos'],
        unitCost: 100,
        unitPrice: 200,
      }),
      await call(
        'POST',
        '/v1/stock/receipts',
        { partNumber: PART, locationId: WAREHOUSE, accepted: TICKETS * 2, reference: 'PO-CHAOS' },
        'chaos-receipt',
      ),
    ];
    const refused = seeded.find((answer) => answer.status >= 300);
    if (refused) throw new Error(`seeding parts: ${refused.status} ${JSON.stringify(refused.body)}`);
  }

  async function lifecycle(index: number): Promise<string> {
    const created = await call(
      'POST',
      '/v1/tickets',
      {
        channel: 'phone',
        category: 'fault',
        priority: 'normal',
        customer: { name: '测试', phone: `139${String(10_000_000 + index)}` },
        product: { model: 'CHAOS', serialNumber: `CHAOS-${index}` },
        description: `chaos ticket ${index}`,
      },
      `chaos-create-${index}`,
    );
    if (created.status !== 201)
      throw new Error(`create ${index}: ${created.status} ${JSON.stringify(created.body)}`);
    const number = String(created.body.number);
    const group = groupOf(index);
    const act = async (action: string, body: unknown, step = action) => {
      const answer = await call('POST', `/v1/tickets/${number}/${action}`, body, `chaos-${index}-${step}`);
      if (answer.status !== 200)
        throw new Error(`${action} ${number}: ${answer.status} ${JSON.stringify(answer.body)}`);
    };
    const requestParts = async (quantity: number) => {
      const lines = [{ partNumber: PART, quantity }];
      const answer = await call(
        'POST',
        `/v1/tickets/${number}/parts-request`,
        { lines },
        `chaos-${index}-parts`,
      );
      if (answer.status !== 201)
        throw new Error(`parts-request ${number}: ${answer.status} ${JSON.stringify(answer.body)}`);
    };
    if (group === 'idle') return number;
    await act('acknowledge', {});
    if (group === 'acknowledged') {
      await requestParts(1);
      return number;
    }
    if (group === 'cancelled') {
      await requestParts(2);
      await act('cancel', { reason: 'Customer fixed it' });
      return number;
    }
    const plan = { measures: 'Advice', department: 'support', customerConfirmed: true, dispatch: false };
    await act('plan', plan);
    await requestParts(2);
    // A changed plan needs one capacitor only: the other is released through the workflow.
    await act('plan', { ...plan, parts: [{ partNumber: PART, quantity: 1 }] }, 'replan');
    await act('resolve', {
      diagnosis: 'Capacitor',
      fix: 'Replaced it',
      functionalTest: 'passed',
      parts: [{ partNumber: PART, quantity: 1, unitPriceFen: 200, oldPartDisposition: 'recycled' }],
    });
    const scores = {
      responsiveness: 5,
      professionalism: 5,
      attitude: 5,
      resolution: 5,
      overall: 5,
      recommend: 5,
    };
    await act('callback', { channel: 'phone', scores });
    return number;
  }

  await seedParts();
  const startedMs = Date.now();
  let running = true;
  const chaos = (async () => {
    const plan = [
      { at: 0.3, name: 'temporal' },
      { at: 0.5, name: 'postgres' },
      { at: 0.6, name: 'relay' },
      { at: 0.7, name: 'api' },
    ];
    // Faults keep coming for the whole window, until every planned restart has happened.
    while (running || plan.length > 0 || Date.now() - startedMs < SECONDS * 1000) {
      await sleep((SECONDS * 1000) / 10);
      const victim = Math.floor(Math.random() * workers.length);
      workers[victim]?.child.kill('SIGKILL');
      faults.workerKills += 1;
      await sleep(1000);
      workers[victim] = await startWorker(services);
      const elapsed = (Date.now() - startedMs) / (SECONDS * 1000);
      const due = plan.find((step) => step.at <= elapsed);
      if (!due) continue;
      plan.splice(plan.indexOf(due), 1);
      if (due.name === 'temporal') {
        say(`restarting the ${ENGINE}`);
        await temporal.stop();
        temporal = await startTemporal();
        faults.temporalRestarts += 1;
      } else if (due.name === 'postgres') {
        say('restarting PostgreSQL');
        await postgres.stop();
        postgres = await startPostgres();
        faults.postgresRestarts += 1;
      } else if (due.name === 'relay') {
        say('killing the delivery relay');
        relay.child.kill('SIGKILL');
        await sleep(500);
        relay = await startRelay(services);
        faults.relayKills += 1;
      } else {
        say('killing the API');
        api.child.kill('SIGKILL');
        await sleep(500);
        api = await startApi(services, POLICY, apiPort);
        faults.apiKills += 1;
      }
    }
  })();

  // Ticket i starts at i/TICKETS of the window, so faults land in the middle of every kind of step.
  const numbers = await Promise.all(
    Array.from({ length: TICKETS }, async (_, index) => {
      await sleep((index * SECONDS * 1000) / TICKETS);
      return lifecycle(index);
    }),
  );
  running = false;
  await chaos;
  say(
    `all tickets driven in ${Math.round((Date.now() - startedMs) / 1000)} s; waiting for the last deadlines`,
  );
  await sleep((FIRST_RESPONSE_SECONDS + 15) * 1000);

  const report = await verify(services, numbers);
  say(`faults: ${JSON.stringify(faults)}`);
  say(`result: ${JSON.stringify(report.figures)}`);
  for (const problem of report.problems.slice(0, 20)) say(`VIOLATION ${problem}`);
  await api.stop();
  await relay.stop();
  for (const worker of workers) await worker.stop();
  await temporal.stop();
  await postgres.stop();
  rmSync(scratch, { recursive: true, force: true });
  if (report.problems.length > 0) process.exit(1);
  say(
    'no ticket lost, no escalation lost or doubled, every notification delivered, no part left reserved or issued twice',
  );
}

async function verify(services: BenchServices, numbers: string[]) {
  const { db, close } = connectDatabase(services.databaseUrl, {
    max: 4,
    payloadKeys: loadConfig({}).payloadKeys,
  });
  const connection = await Connection.connect({ address: services.temporalAddress });
  const client = new Client({ connection, dataConverter: createDataConverter(loadConfig({}).payloadKeys) });
  const problems: string[] = [];
  const figures = {
    tickets: numbers.length,
    found: 0,
    escalationsExpected: 0,
    escalationsRecorded: 0,
    duplicated: 0,
    lost: 0,
    deliveries: 0,
    undelivered: 0,
    partsTickets: 0,
    reservedForFinished: 0,
    issued: 0,
    issuedExpected: 0,
    ledgerLocations: 0,
    ledgerMismatches: 0,
  };
  for (const [index, number] of numbers.entries()) {
    const state = await findTicket(db, number);
    if (!state) {
      problems.push(`${number}: not in the projection`);
      continue;
    }
    figures.found += 1;
    const live = await client.workflow
      .getHandle(workflowIdOf(number))
      .query(ticketStateQuery)
      .catch(() => undefined);
    const expectedStatus = {
      idle: 'new',
      acknowledged: 'acknowledged',
      closed: 'closed',
      cancelled: 'cancelled',
    }[groupOf(index)];
    if (state.status !== expectedStatus)
      problems.push(`${number}: projection says ${state.status}, expected ${expectedStatus}`);
    if (live && (live.status !== state.status || live.version !== state.version)) {
      problems.push(
        `${number}: workflow at ${live.status} v${live.version}, projection at ${state.status} v${state.version}`,
      );
    }
    const events = await db
      .select({ seq: ticketEvents.seq })
      .from(ticketEvents)
      .where(eq(ticketEvents.ticketNumber, number))
      .orderBy(asc(ticketEvents.seq));
    const seqs = events.map((event) => event.seq);
    if (seqs.length !== state.eventSeq || seqs.some((seq, at) => seq !== at + 1)) {
      problems.push(`${number}: timeline has ${seqs.length} events for ${state.eventSeq}, or a gap`);
    }
    // An idle ticket's deadline has passed: its escalation must have fired. Any ticket whose clock
    // fired has exactly one escalation row; one that was acknowledged in time has none.
    const clock = state.clocks.firstResponse;
    const fired = Boolean(clock?.breachedAt);
    if (groupOf(index) === 'idle' && !fired) {
      figures.lost += 1;
      problems.push(`${number}: unacknowledged past its deadline, but no escalation fired`);
    }
    const expected = fired ? 1 : 0;
    const [recorded] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(escalations)
      .where(eq(escalations.ticketNumber, number));
    const escalated = recorded?.n ?? 0;
    figures.escalationsExpected += expected;
    figures.escalationsRecorded += escalated;
    if (escalated > expected) {
      figures.duplicated += escalated - expected;
      problems.push(`${number}: ${escalated} escalations, expected ${expected}`);
    }
    if (escalated < expected) {
      figures.lost += expected - escalated;
      problems.push(`${number}: ${escalated} escalations, expected ${expected}`);
    }
  }
  await verifyParts(db, numbers, figures, problems);
  // Every notification the tickets queued goes out, through relay kills and database restarts.
  const undelivered = async () =>
    db.execute<{ id: string; status: string; last_error: string | null }>(sql`
      select id, status, last_error from deliveries
      where ticket_number in ${numbers} and status <> 'delivered'`);
  const waitUntil = Date.now() + DELIVERY_WAIT_MS;
  let left = await undelivered();
  while (left.length > 0 && Date.now() < waitUntil) {
    await sleep(1000);
    left = await undelivered();
  }
  const [queued] = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from deliveries where ticket_number in ${numbers}`,
  );
  figures.deliveries = queued?.n ?? 0;
  figures.undelivered = left.length;
  for (const row of left)
    problems.push(`delivery ${row.id}: ${row.status} (${row.last_error ?? 'not sent'})`);
  await connection.close();
  await close();
  return { figures, problems };
}

/**
 * The parts' books after the chaos: each ticket holds and was issued what its group's actions say
 * (a finished ticket holds nothing: no reservation outlived a worker killed mid-release); every
 * location's on hand is the sum of its applied ledger rows and its reserved the sum of what tickets
 * hold there.
 */
async function verifyParts(
  db: ReturnType<typeof connectDatabase>['db'],
  numbers: string[],
  figures: Record<
    | 'partsTickets'
    | 'reservedForFinished'
    | 'issued'
    | 'issuedExpected'
    | 'ledgerLocations'
    | 'ledgerMismatches',
    number
  >,
  problems: string[],
): Promise<void> {
  const perTicket = await db.execute<{ ticket_number: string; held: number; issued: number }>(sql`
    select t.number as ticket_number,
           coalesce((select sum(r.quantity) from part_reservations r where r.ticket_number = t.number
                     and r.status in ('reserved', 'awaiting_approval')), 0)::int as held,
           coalesce((select -sum(m.quantity) from stock_movements m where m.ticket_number = t.number
                     and m.kind = 'issue' and m.status = 'applied'), 0)::int as issued
    from tickets t where t.number in ${numbers}`);
  const byNumber = new Map(perTicket.map((row) => [row.ticket_number, row]));
  for (const [index, number] of numbers.entries()) {
    const group = groupOf(index);
    const expected = PARTS_EXPECTED[group];
    const found = byNumber.get(number) ?? { held: 0, issued: 0 };
    if (group !== 'idle') figures.partsTickets += 1;
    if (group === 'closed' || group === 'cancelled') figures.reservedForFinished += found.held;
    figures.issued += found.issued;
    figures.issuedExpected += expected.issued;
    if (found.held !== expected.held || found.issued !== expected.issued) {
      problems.push(
        `${number} (${group}): holds ${found.held} and was issued ${found.issued} of ${PART}, expected ${expected.held} and ${expected.issued}`,
      );
    }
  }
  const levels = await db.execute<{
    part_number: string;
    location_id: string;
    on_hand: number;
    reserved: number;
    ledger: number;
    held: number;
  }>(sql`
    select l.part_number, l.location_id, l.on_hand, l.reserved,
           (select coalesce(sum(m.quantity), 0)::int from stock_movements m where m.part_number = l.part_number
              and m.location_id = l.location_id and m.status = 'applied') as ledger,
           (select coalesce(sum(r.quantity), 0)::int from part_reservations r where r.part_number = l.part_number
              and r.location_id = l.location_id and r.status in ('reserved', 'awaiting_approval')) as held
    from stock_levels l`);
  figures.ledgerLocations = levels.length;
  for (const level of levels) {
    if (level.on_hand === level.ledger && level.reserved === level.held) continue;
    figures.ledgerMismatches += 1;
    problems.push(
      `${level.part_number} at ${level.location_id}: on hand ${level.on_hand} (ledger ${level.ledger}), reserved ${level.reserved} (tickets hold ${level.held})`,
    );
  }
  const expectedOnHand = numbers.length * 2 - figures.issuedExpected;
  const onHand = levels.reduce((sum, level) => sum + level.on_hand, 0);
  if (onHand !== expectedOnHand) problems.push(`${PART}: ${onHand} on hand, expected ${expectedOnHand}`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
