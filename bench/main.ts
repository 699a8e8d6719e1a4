import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../config';
import { connectDatabase, type Database } from '../db/client';
import { openTicket } from '../domain/lifecycle';
import { ticketIntakeSchema } from '../domain/ticket';
import { PROJECT_ROOT } from '../temporal/binaries';
import { connectClient } from '../temporal/connection';
import { createDataConverter } from '../temporal/data-converter';
import type { ticketWorkflow } from '../workflows';
import {
  cpuSeconds,
  rssMiB,
  runConcurrently,
  summarize,
  type LatencySummary,
  type RunResult,
} from './measure';
import { BENCH_KEY, type BenchServices, type Role, startApi, startServices, startWorker } from './stack';

/**
 * `npm run bench`: how late escalations land, how fast tickets are created compared with raw
 * Temporal and raw PostgreSQL, how creation and the worker behave with many open tickets, how long a
 * lifecycle's history is, and what the API and worker cost meanwhile. Bounded by its options; prints
 * a table and writes bench/results/latest.{json,md}.
 */
const { values: options } = parseArgs({
  options: {
    rates: { type: 'string', default: '10,25,50,100' },
    'rate-seconds': { type: 'string', default: '10' },
    requests: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '1,8,32' },
    growth: { type: 'string', default: '100,1000,10000' },
    'max-minutes': { type: 'string', default: '20' },
  },
});
const numbers = (text: string) => text.split(',').map(Number);
const RATES = numbers(options.rates);
const RATE_SECONDS = Number(options['rate-seconds']);
const REQUESTS = Number(options.requests);
const CONCURRENCY = numbers(options.concurrency);
const GROWTH = numbers(options.growth);
const FIRST_RESPONSE_SECONDS = 5;

const say = (line: string) => process.stdout.write(`[bench] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

const intake = {
  channel: 'app',
  category: 'fault',
  priority: 'normal',
  customer: { name: '张三', phone: '13812345678' },
  product: { model: 'KFR-35GW/ABC123', serialNumber: 'SN0001' },
  description: 'No cooling; outdoor fan does not turn',
};

async function createTicket(api: Role): Promise<string> {
  const response = await fetch(`${api.url}/v1/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(intake),
  });
  if (response.status !== 201)
    throw new Error(`create answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { number: string }).number;
}

async function act(api: Role, number: string, action: string, body: unknown = {}): Promise<void> {
  const response = await fetch(`${api.url}/v1/tickets/${number}/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200)
    throw new Error(`${action} answered ${response.status}: ${await response.text()}`);
}

interface Resources {
  apiRssMiB: number;
  workerRssMiB: number;
  apiCpuPercent: number;
  workerCpuPercent: number;
}

/** Runs a phase and reads the API's and the worker's memory and CPU share across it. */
async function measured<T>(
  api: Role,
  worker: Role,
  phase: () => Promise<T>,
): Promise<{ result: T; resources: Resources }> {
  const begin = { at: performance.now(), api: cpuSeconds(api.pid), worker: cpuSeconds(worker.pid) };
  const result = await phase();
  const seconds = (performance.now() - begin.at) / 1000;
  return {
    result,
    resources: {
      apiRssMiB: round(rssMiB(api.pid)),
      workerRssMiB: round(rssMiB(worker.pid)),
      apiCpuPercent: round(((cpuSeconds(api.pid) - begin.api) / seconds) * 100),
      workerCpuPercent: round(((cpuSeconds(worker.pid) - begin.worker) / seconds) * 100),
    },
  };
}

interface CreationResult {
  http: RunResult;
  rawStart: RunResult;
  rawInsert: RunResult;
  httpToRawStart: number;
  resources: Resources;
}

interface GrowthPoint {
  openTickets: number;
  createP50: number;
  createP99: number;
  workerRssMiB: number;
}

interface BenchResults {
  machine: { cores: number; node: string };
  options: Record<string, number | number[]>;
  escalationLateness: LatenessResult[];
  highestRateWithP99UnderOneSecond: number;
  historyEvents: { happyPath: number; longestUnhappyPath: number };
  creation: Record<string, CreationResult>;
  latencyAtHalfPeak: LatencySummary & { ratePerSecond: number };
  growth: GrowthPoint[];
}

interface LatenessResult {
  ratePerSecond: number;
  tickets: number;
  lateness: LatencySummary;
  missing: number;
  duplicates: number;
  resources: Resources;
}

/** Creates tickets at a steady rate, never acknowledged; lateness = escalation committed − due. */
async function escalationLateness(
  api: Role,
  worker: Role,
  db: Database,
  rate: number,
): Promise<LatenessResult> {
  const { result: created, resources } = await measured(api, worker, async () => {
    const pending: Promise<string>[] = [];
    const total = rate * RATE_SECONDS;
    const started = performance.now();
    for (let index = 0; index < total; index += 1) {
      const due = started + (index * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(createTicket(api));
    }
    const settled = await Promise.allSettled(pending);
    await sleep((FIRST_RESPONSE_SECONDS + 3) * 1000);
    return settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  });
  const rows = await db.execute<{ number: string; lateness_ms: number | null; escalated_events: number }>(sql`
    select t.number,
           extract(epoch from (e.recorded_at - e.missed_deadline)) * 1000 as lateness_ms,
           (select count(*) from ticket_events v where v.ticket_number = t.number and v.type = 'escalated')::int as escalated_events
    from tickets t left join escalations e on e.ticket_number = t.number and e.clock = 'firstResponse'
    where t.number in ${created}`);
  const lateness = rows.flatMap((row) => (row.lateness_ms === null ? [] : [Number(row.lateness_ms)]));
  return {
    ratePerSecond: rate,
    tickets: created.length,
    lateness: summarize(lateness),
    missing: rows.filter((row) => row.lateness_ms === null).length,
    duplicates: rows.filter((row) => row.escalated_events > 1).length,
    resources,
  };
}

async function main(): Promise<void> {
  const services = await startServices();
  const limit = setTimeout(
    () => {
      say(`stopped: the run exceeded --max-minutes ${options['max-minutes']}`);
      void services.stop().finally(() => process.exit(1));
    },
    Number(options['max-minutes']) * 60_000,
  );
  try {
    await runPhases(services);
  } finally {
    clearTimeout(limit);
    await services.stop();
  }
}

async function runPhases(services: BenchServices): Promise<void> {
  say(
    `PostgreSQL ${services.databaseUrl.replace(/:[^:@]*@/, ':***@')}, Temporal ${services.temporalAddress}`,
  );
  const database = connectDatabase(services.databaseUrl, { max: 40 });
  const worker = await startWorker(services);
  const config = loadConfig({ ...process.env, TEMPORAL_ADDRESS: services.temporalAddress });
  const temporal = await connectClient(config.temporal, createDataConverter(config.payloadKeys));

  // 1. Escalation lateness, and the history of the longest path, on a short first-response clock.
  let api = await startApi(services, {
    firstResponse: `${FIRST_RESPONSE_SECONDS}s`,
    callback: '2s',
    complaintFollowUp: '2s',
  });
  const lateness: LatenessResult[] = [];
  for (const rate of RATES) {
    const result = await escalationLateness(api, worker, database.db, rate);
    lateness.push(result);
    say(
      `lateness @ ${rate}/s: p50 ${round(result.lateness.p50)} ms, p99 ${round(result.lateness.p99)} ms, max ${round(result.lateness.max)} ms, missing ${result.missing}, duplicates ${result.duplicates}`,
    );
    if (result.lateness.p99 > 1000 || result.missing > 0) break;
  }
  const highestRateWithP99UnderOneSecond =
    lateness.filter((result) => result.lateness.p99 <= 1000 && result.missing === 0).at(-1)?.ratePerSecond ??
    0;

  const unhappy = await createTicket(api);
  await sleep((FIRST_RESPONSE_SECONDS + 1) * 1000);
  await act(api, unhappy, 'acknowledge');
  await act(api, unhappy, 'resolve', {
    diagnosis: 'Fan motor seized',
    fix: 'Replaced the fan motor',
    functionalTest: 'passed',
  });
  await sleep(3000);
  await act(api, unhappy, 'callback', {
    channel: 'phone',
    scores: { responsiveness: 2, professionalism: 3, attitude: 2, resolution: 3, overall: 2, recommend: 2 },
  });
  await sleep(3000);
  await act(api, unhappy, 'follow-up', { contactMade: true, cause: 'x', improvementPlan: 'y' });
  await sleep(3000);
  await act(api, unhappy, 'callback', {
    channel: 'phone',
    scores: { responsiveness: 5, professionalism: 5, attitude: 5, resolution: 5, overall: 5, recommend: 5 },
  });
  await api.stop();

  // 2. Creation throughput and latency: HTTP against raw workflow.start and a raw INSERT.
  api = await startApi(services, {});
  const happy = await createTicket(api);
  await act(api, happy, 'acknowledge');
  await act(api, happy, 'resolve', {
    diagnosis: 'Fan motor seized',
    fix: 'Replaced the fan motor',
    functionalTest: 'passed',
  });
  await act(api, happy, 'callback', {
    channel: 'phone',
    scores: { responsiveness: 5, professionalism: 5, attitude: 5, resolution: 5, overall: 5, recommend: 5 },
  });
  await sleep(1000);
  const historyLength = async (number: string) =>
    (await temporal.workflow.getHandle(`ticket-${number}`).describe()).historyLength;
  const historyEvents = {
    happyPath: await historyLength(happy),
    longestUnhappyPath: await historyLength(unhappy),
  };
  say(
    `history: happy path ${historyEvents.happyPath} events, longest unhappy path ${historyEvents.longestUnhappyPath}`,
  );

  await database.db.execute(
    sql`create table if not exists bench_probe (id text primary key, payload jsonb not null)`,
  );
  const sampleTicket = openTicket({
    number: 'WO20000101-001',
    intake: ticketIntakeSchema.parse(intake),
    customerId: 'c_bench',
    repeatOf: null,
    createdBy: { id: 'bench', role: 'admin' },
    createdAtMs: Date.now(),
    policy: config.policy,
  });
  const throughput: Record<string, CreationResult> = {};
  for (const concurrency of CONCURRENCY) {
    const { result: http, resources } = await measured(api, worker, () =>
      runConcurrently(REQUESTS, concurrency, async () => void (await createTicket(api))),
    );
    const rawStart = await runConcurrently(REQUESTS, concurrency, async (index) => {
      await temporal.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
        workflowId: `bench-raw-${process.pid}-${concurrency}-${index}`,
        // The same task queue, so the worker does the same work after a raw start as after an HTTP one.
        taskQueue: services.taskQueue,
        args: [
          {
            ticket: { ...sampleTicket, number: `WO20000101-${concurrency}${String(index).padStart(5, '0')}` },
            policy: config.policy,
          },
        ],
      });
    });
    const rawInsert = await runConcurrently(REQUESTS, concurrency, async (index) => {
      await database.db.execute(
        sql`insert into bench_probe (id, payload) values (${`${process.pid}-${concurrency}-${index}`}, ${JSON.stringify(sampleTicket)}::jsonb)`,
      );
    });
    throughput[`c${concurrency}`] = {
      http,
      rawStart,
      rawInsert,
      httpToRawStart: round(http.throughputPerSecond / rawStart.throughputPerSecond, 2),
      resources,
    };
    say(
      `create c=${concurrency}: HTTP ${round(http.throughputPerSecond)}/s p50 ${round(http.p50)} p99 ${round(http.p99)} ms | raw start ${round(rawStart.throughputPerSecond)}/s p99 ${round(rawStart.p99)} ms | raw insert ${round(rawInsert.throughputPerSecond)}/s | ratio ${round(http.throughputPerSecond / rawStart.throughputPerSecond, 2)}`,
    );
  }
  const peak = Math.max(...Object.values(throughput).map((entry) => entry.http.throughputPerSecond));
  const halfPeak = Math.max(1, Math.floor(peak / 2));
  const steady: number[] = [];
  const steadyStart = performance.now();
  const steadyCalls: Promise<void>[] = [];
  for (let index = 0; index < halfPeak * 5; index += 1) {
    const wait = steadyStart + (index * 1000) / halfPeak - performance.now();
    if (wait > 0) await sleep(wait);
    const begin = performance.now();
    steadyCalls.push(createTicket(api).then(() => void steady.push(performance.now() - begin)));
  }
  await Promise.allSettled(steadyCalls);
  const latencyAtHalfPeak = { ratePerSecond: halfPeak, ...summarize(steady) };
  say(`create at half peak (${halfPeak}/s for 5 s): p99 ${round(latencyAtHalfPeak.p99)} ms`);

  // 3. Growth: creation latency and worker memory with many tickets waiting on their timers.
  const growth: GrowthPoint[] = [];
  for (const level of GROWTH) {
    const [row] = await database.db.execute<{ open: number }>(
      sql`select count(*)::int as open from tickets where status = 'new'`,
    );
    const missing = level - (row?.open ?? 0);
    if (missing > 0) await runConcurrently(missing, 32, async () => void (await createTicket(api)));
    await sleep(2000);
    const probe = await runConcurrently(200, 4, async () => void (await createTicket(api)));
    growth.push({
      openTickets: level,
      createP50: round(probe.p50),
      createP99: round(probe.p99),
      workerRssMiB: round(rssMiB(worker.pid)),
    });
    say(
      `growth @ ${level} open: create p50 ${round(probe.p50)} ms, p99 ${round(probe.p99)} ms, worker RSS ${round(rssMiB(worker.pid))} MiB`,
    );
  }

  await api.stop();
  await worker.stop();
  await temporal.connection.close();
  await database.close();

  const results: BenchResults = {
    machine: { cores: cpus().length, node: process.version },
    options: { RATES, RATE_SECONDS, REQUESTS, CONCURRENCY, GROWTH },
    escalationLateness: lateness,
    highestRateWithP99UnderOneSecond,
    historyEvents,
    creation: throughput,
    latencyAtHalfPeak,
    growth,
  };
  const folder = path.join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(folder, 'latest.md'), markdown(results));
  say(`results in ${path.relative(PROJECT_ROOT, folder)}/latest.json and latest.md`);
}

function markdown(results: BenchResults): string {
  const {
    escalationLateness: lateness,
    creation,
    growth,
    historyEvents: history,
    latencyAtHalfPeak: half,
  } = results;
  const lines = [
    '# Aftercare benchmark',
    '',
    '| escalation rate | tickets | lateness p50 | p99 | max | missing | duplicate | API RSS / CPU | worker RSS / CPU |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...lateness.map(
      (entry) =>
        `| ${entry.ratePerSecond}/s | ${entry.tickets} | ${round(entry.lateness.p50)} ms | ${round(entry.lateness.p99)} ms | ${round(entry.lateness.max)} ms | ${entry.missing} | ${entry.duplicates} | ${entry.resources.apiRssMiB} MiB / ${entry.resources.apiCpuPercent} % | ${entry.resources.workerRssMiB} MiB / ${entry.resources.workerCpuPercent} % |`,
    ),
    '',
    `Highest rate with p99 lateness ≤ 1 s: ${String(results.highestRateWithP99UnderOneSecond)}/s.`,
    '',
    '| concurrency | HTTP create/s | p50 | p99 | raw workflow.start/s | p99 | raw INSERT/s | HTTP ÷ raw start |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...Object.entries(creation).map(
      ([key, entry]) =>
        `| ${key.slice(1)} | ${round(entry.http.throughputPerSecond)} | ${round(entry.http.p50)} ms | ${round(entry.http.p99)} ms | ${round(entry.rawStart.throughputPerSecond)} | ${round(entry.rawStart.p99)} ms | ${round(entry.rawInsert.throughputPerSecond)} | ${entry.httpToRawStart} |`,
    ),
    '',
    `Create p99 at half the peak rate (${half.ratePerSecond}/s): ${round(half.p99)} ms.`,
    '',
    '| open tickets | create p50 | create p99 | worker RSS |',
    '| --- | --- | --- | --- |',
    ...growth.map(
      (entry) =>
        `| ${entry.openTickets} | ${entry.createP50} ms | ${entry.createP99} ms | ${entry.workerRssMiB} MiB |`,
    ),
    '',
    `History events: happy path ${history.happyPath}, longest unhappy path ${history.longestUnhappyPath}.`,
    '',
  ];
  return lines.join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
