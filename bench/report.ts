import type { LatencySummary, RunResult } from './measure';
import type { StormResult } from './storm';

/** The benchmark's results, and the Markdown report that states each figure beside its target. */
export interface Resources {
  apiRssMiB: number;
  workerRssMiB: number;
  apiCpuPercent: number;
  workerCpuPercent: number;
  /** The delivery relay, which sends notifications and webhooks. */
  relayCpuPercent: number;
  /** Every process on the machine (PostgreSQL, the Temporal server, this benchmark too), of all cores. */
  machineCpuPercent: number;
  /** The embedded Temporal dev server and PostgreSQL (0 when the benchmark did not start them). */
  temporalCpuPercent: number;
  postgresCpuPercent: number;
}

export interface LatenessResult {
  ratePerSecond: number;
  tickets: number;
  failedCreates: number;
  lateness: LatencySummary;
  missing: number;
  duplicates: number;
  resources: Resources;
  /** PostgreSQL's counters over the round, per ticket (its create, one escalation with its notice). */
  writesPerTicket: DatabaseWrites;
}

/** One round of HTTP creates and, right after it, one of raw starts at the same concurrency. */
export interface CreationRound {
  http: RunResult;
  rawStart: RunResult;
  httpToRawStart: number;
  /** The same rounds counted until the worker had opened every ticket (see `openedPerSecond`). */
  opened: { httpPerSecond: number; rawStartPerSecond: number; httpToRawStart: number };
  resources: Resources;
  rawStartResources: Resources;
}

export interface CreationResult {
  /** Taken in turn (HTTP, raw, HTTP, raw, …), so the machine's drift falls on both sides of a ratio. */
  rounds: CreationRound[];
  /** Medians over the rounds; each ratio is the median of the rounds' own ratios. */
  median: {
    httpPerSecond: number;
    rawStartPerSecond: number;
    httpToRawStart: number;
    opened: { httpPerSecond: number; rawStartPerSecond: number; httpToRawStart: number };
  };
  rawInsert: RunResult;
}

export interface GrowthPoint {
  openTickets: number;
  createP50: number;
  createP99: number;
  /** The same probe as raw `workflow.start` calls. */
  rawStartP50: number;
  rawStartP99: number;
  workerRssMiB: number;
  apiRssMiB: number;
}

/** Per database: committed transactions and rows written (inserted, updated, deleted). */
export type DatabaseWrites = Record<string, { commits: number; rows: number }>;

/** One storm rate: every ticket climbs to L3, beside one healthy or three hanging `["*"]` receivers. */
export interface StormPoint extends StormResult {
  resources: Resources;
  /** PostgreSQL's counters over the round, per ticket (its create, three escalations with notices, webhooks). */
  writesPerTicket: DatabaseWrites;
}

export interface BenchResults {
  machine: { cores: number; node: string };
  postgres: string;
  /** The Temporal engine measured: the dev server, or the real server on PostgreSQL. */
  temporal: string;
  options: Record<string, string | number | number[]>;
  escalationLateness: LatenessResult[];
  /** The highest rate with p99 ≤ 1 s, max ≤ 2 s and no missing or duplicate escalation. */
  highestRateOnTarget: number;
  storm: StormPoint[];
  /** Per receiver condition, the highest storm rate with p99 ≤ 1 s, max ≤ 2 s, none missing or twice. */
  stormHighestRate: Record<'healthy' | 'hanging', number>;
  /** Undefined when the history phase was left out (`--phases`). */
  historyEvents?: { happyPath: number; longestUnhappyPath: number; cancelled: number };
  creation: Record<string, CreationResult>;
  /**
   * At half the highest rate the worker opened tickets at, in rounds of 10 s taken in turn with raw
   * starts at the same rate; the percentiles are of every round's creates together.
   */
  latencyAtHalfPeak?: LatencySummary & { ratePerSecond: number; rounds: number; rawStart: LatencySummary };
  growth: GrowthPoint[];
}

const ms = (value: number) => `${Math.round(value)} ms`;
const verdict = (met: boolean) => (met ? 'met' : '**missed**');

type Row = [string, string, string];

function targetRows(results: BenchResults): Row[] {
  const { escalationLateness: lateness, creation, growth, historyEvents: history } = results;
  const rows: Row[] = [];
  if (lateness.length > 0) {
    const onTarget = lateness.find((entry) => entry.ratePerSecond === results.highestRateOnTarget);
    rows.push([
      'escalation lateness p99 ≤ 1 s, max ≤ 2 s, 0 missing / 0 duplicate',
      onTarget
        ? `p99 ${ms(onTarget.lateness.p99)}, max ${ms(onTarget.lateness.max)} at ${results.highestRateOnTarget}/s`
        : 'no rate',
      verdict(results.highestRateOnTarget > 0),
    ]);
  }
  for (const receivers of ['healthy', 'hanging'] as const) {
    const rate = results.stormHighestRate[receivers];
    const point = results.storm.find(
      (entry) => entry.receivers === receivers && entry.ratePerSecond === rate,
    );
    if (!results.storm.some((entry) => entry.receivers === receivers)) continue;
    rows.push([
      `storm, ${receivers === 'healthy' ? 'one healthy' : 'three hanging'} \`["*"]\` receiver${receivers === 'healthy' ? '' : 's'}: every ticket climbs to L3, lateness p99 ≤ 1 s, max ≤ 2 s, 0 missing / 0 duplicate, at 10 tickets/s`,
      point ? `p99 ${ms(point.lateness.p99)}, max ${ms(point.lateness.max)} up to ${rate}/s` : 'no rate',
      verdict(rate >= 10),
    ]);
  }
  const half = results.latencyAtHalfPeak;
  if (Object.keys(creation).length > 0 && half) {
    const answered = Object.values(creation).map((entry) => entry.median.httpToRawStart);
    const opened = Object.values(creation).map((entry) => entry.median.opened.httpToRawStart);
    const rounds = (entry: CreationResult) => entry.rounds.map((round) => round.opened.httpToRawStart);
    const spread = Object.values(creation)
      .map((entry) => `${Math.min(...rounds(entry))}–${Math.max(...rounds(entry))}`)
      .join(' / ');
    rows.push(
      [
        'HTTP create ≥ 0.8 × raw `workflow.start` at the same concurrency (tickets opened per second, median of the rounds)',
        `${opened.join(' / ')} (rounds ${spread}; answered: ${answered.join(' / ')})`,
        verdict(opened.every((ratio) => ratio >= 0.8)),
      ],
      [
        'create p99 ≤ 50 ms at half the peak rate',
        `${ms(half.p99)} at ${half.ratePerSecond}/s, ${half.count} creates (raw start at that rate: ${ms(half.rawStart.p99)})`,
        verdict(half.p99 <= 50),
      ],
    );
  }
  const first = growth[0];
  const last = growth.at(-1);
  if (first && last) {
    const growthRatio = last.createP50 / first.createP50;
    rows.push(
      [
        `create p50 at ${last.openTickets} open ≤ 1.2 × at ${first.openTickets} open`,
        `${ms(last.createP50)} ÷ ${ms(first.createP50)} = ${growthRatio.toFixed(2)}`,
        verdict(growthRatio <= 1.2),
      ],
      [
        `worker RSS ≤ 512 MB with ${last.openTickets} open tickets`,
        `${last.workerRssMiB} MiB`,
        verdict(last.workerRssMiB * 1.048576 <= 512),
      ],
    );
  }
  if (history) {
    rows.push([
      'happy-path lifecycle ≤ 150 history events',
      `${history.happyPath} (every unhappy path on one ticket: ${history.longestUnhappyPath})`,
      verdict(history.happyPath <= 150),
    ]);
  }
  return rows;
}

function stormTable(storm: readonly StormPoint[]): string[] {
  if (storm.length === 0) return [];
  const level = (point: StormPoint, name: string) => {
    const entry = point.latenessByLevel[name];
    return entry ? `${ms(entry.p99)}` : '–';
  };
  return [
    'Storm: tickets created at the rate for the round, never acknowledged: each escalates at 4 s (L1), climbs at 10 s (L2) and 16 s (L3), each step with its notice; webhook receivers subscribed to `["*"]`:',
    '',
    '| receivers | rate | tickets | escalations | lateness p50 | p99 | max | p99 L1 / L2 / L3 | missing | duplicate | webhooks received (lag p99) | worker CPU | relay CPU | API CPU | Temporal CPU | PostgreSQL CPU | machine CPU | PostgreSQL per ticket: commits / rows written |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...storm.map(
      (point) =>
        `| ${point.receivers === 'healthy' ? '1 healthy' : '3 hanging'} | ${point.ratePerSecond}/s | ${point.tickets} | ${point.lateness.count} | ${ms(point.lateness.p50)} | ${ms(point.lateness.p99)} | ${ms(point.lateness.max)} | ${level(point, 'L1')} / ${level(point, 'L2')} / ${level(point, 'L3')} | ${point.missing} | ${point.duplicates} | ${point.webhooks ? `${point.webhooks.received} (${ms(point.webhooks.lag.p99)})` : '–'} | ${point.resources.workerCpuPercent} % | ${point.resources.relayCpuPercent} % | ${point.resources.apiCpuPercent} % | ${point.resources.temporalCpuPercent} % | ${point.resources.postgresCpuPercent} % | ${point.resources.machineCpuPercent} % | ${writes(point.writesPerTicket)} |`,
    ),
    '',
  ];
}

const writes = (perTicket: DatabaseWrites | undefined) =>
  perTicket
    ? Object.entries(perTicket)
        .map(([name, counts]) => `${name} ${counts.commits} / ${counts.rows}`)
        .join(', ')
    : '–';

export function markdown(results: BenchResults): string {
  const eachRound = (row: (concurrency: string, index: number, round: CreationRound) => string) =>
    Object.entries(results.creation).flatMap(([key, entry]) =>
      entry.rounds.map((round, index) => row(key.slice(1), index + 1, round)),
    );
  const { escalationLateness: lateness, creation, growth, historyEvents: history } = results;
  const half = results.latencyAtHalfPeak;
  const lines = [
    `# Aftercare benchmark: ${results.temporal} (${results.machine.cores} cores, Node ${results.machine.node}, PostgreSQL ${results.postgres})`,
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    ...targetRows(results).map((row) => `| ${row.join(' | ')} |`),
    '',
    ...(lateness.length === 0
      ? []
      : [
          '| escalation rate | tickets | lateness p50 | p99 | max | missing | duplicate | API RSS / CPU | worker RSS / CPU | machine CPU | PostgreSQL per ticket: commits / rows written |',
          '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
          ...lateness.map(
            (entry) =>
              `| ${entry.ratePerSecond}/s | ${entry.tickets} | ${ms(entry.lateness.p50)} | ${ms(entry.lateness.p99)} | ${ms(entry.lateness.max)} | ${entry.missing} | ${entry.duplicates} | ${entry.resources.apiRssMiB} MiB / ${entry.resources.apiCpuPercent} % | ${entry.resources.workerRssMiB} MiB / ${entry.resources.workerCpuPercent} % | ${entry.resources.machineCpuPercent} % | ${writes(entry.writesPerTicket)} |`,
          ),
          '',
        ]),
    ...stormTable(results.storm),
    ...(Object.keys(creation).length === 0 || !half
      ? []
      : [
          `Rounds of ${results.options.REQUESTS} creates, HTTP and raw \`workflow.start\` in turn:`,
          '',
          '| concurrency | round | HTTP create/s | p50 | p95 | p99 | raw workflow.start/s | p50 | p99 | HTTP ÷ raw start | API CPU | worker CPU | Temporal server CPU | PostgreSQL CPU | machine CPU |',
          '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
          ...eachRound(
            (key, index, round) =>
              `| ${key} | ${index} | ${round.http.throughputPerSecond.toFixed(1)} | ${ms(round.http.p50)} | ${ms(round.http.p95)} | ${ms(round.http.p99)} | ${round.rawStart.throughputPerSecond.toFixed(1)} | ${ms(round.rawStart.p50)} | ${ms(round.rawStart.p99)} | ${round.httpToRawStart} | ${round.resources.apiCpuPercent} % | ${round.resources.workerCpuPercent} % | ${round.resources.temporalCpuPercent} % | ${round.resources.postgresCpuPercent} % | ${round.resources.machineCpuPercent} % |`,
          ),
          '',
          `CPU percentages are of one core; the machine has ${results.machine.cores}.`,
          '',
          'Counted until the worker had opened every ticket of the round (a start is answered before its workflow runs):',
          '',
          '| concurrency | round | HTTP create/s | raw workflow.start/s | HTTP ÷ raw start | during raw starts: worker CPU | Temporal server CPU | PostgreSQL CPU | machine CPU |',
          '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
          ...eachRound(
            (key, index, round) =>
              `| ${key} | ${index} | ${round.opened.httpPerSecond} | ${round.opened.rawStartPerSecond} | ${round.opened.httpToRawStart} | ${round.rawStartResources.workerCpuPercent} % | ${round.rawStartResources.temporalCpuPercent} % | ${round.rawStartResources.postgresCpuPercent} % | ${round.rawStartResources.machineCpuPercent} % |`,
          ),
          '',
          '| concurrency | medians: HTTP create/s | raw workflow.start/s | HTTP ÷ raw start | opened: HTTP/s | raw start/s | HTTP ÷ raw start | raw INSERT/s |',
          '| --- | --- | --- | --- | --- | --- | --- | --- |',
          ...Object.entries(creation).map(
            ([key, { median, rawInsert }]) =>
              `| ${key.slice(1)} | ${median.httpPerSecond} | ${median.rawStartPerSecond} | ${median.httpToRawStart} | ${median.opened.httpPerSecond} | ${median.opened.rawStartPerSecond} | ${median.opened.httpToRawStart} | ${rawInsert.throughputPerSecond.toFixed(0)} |`,
          ),
          '',
          `Create at half the peak rate the worker sustains (${half.ratePerSecond}/s, ${half.rounds} rounds of 10 s in turn with raw starts, percentiles of all their creates): HTTP p50 ${ms(half.p50)}, p99 ${ms(half.p99)}; raw workflow.start at the same rate p50 ${ms(half.rawStart.p50)}, p99 ${ms(half.rawStart.p99)}.`,
          '',
        ]),
    ...(growth.length === 0
      ? []
      : [
          '| open tickets | create p50 | create p99 | raw start p50 | raw start p99 | worker RSS | API RSS |',
          '| --- | --- | --- | --- | --- | --- | --- |',
          ...growth.map(
            (entry) =>
              `| ${entry.openTickets} | ${ms(entry.createP50)} | ${ms(entry.createP99)} | ${ms(entry.rawStartP50)} | ${ms(entry.rawStartP99)} | ${entry.workerRssMiB} MiB | ${entry.apiRssMiB} MiB |`,
          ),
          '',
        ]),
    ...(history
      ? [
          `History events: happy path ${history.happyPath}, every unhappy path on one ticket ${history.longestUnhappyPath}, cancellation ${history.cancelled}.`,
          '',
        ]
      : []),
  ];
  return lines.join('\n');
}

/**
 * The engines of one run side by side: the figures a reader compares (the highest rates on target,
 * the storm at 10/s with each process's CPU, creates, memory), one column per engine.
 */
export function sideBySide(runs: readonly BenchResults[]): string {
  const cell = (figure: (results: BenchResults) => string | undefined) =>
    runs.map((results) => figure(results) ?? '–');
  const stormAt = (results: BenchResults, receivers: 'healthy' | 'hanging', rate: number) =>
    results.storm.find((point) => point.receivers === receivers && point.ratePerSecond === rate);
  const latenessAt = (results: BenchResults) =>
    results.escalationLateness.find((entry) => entry.ratePerSecond === results.highestRateOnTarget);
  const c8 = (results: BenchResults) => results.creation.c8?.median;
  const cpu = (resources: Resources | undefined) =>
    resources &&
    `worker ${resources.workerCpuPercent} %, API ${resources.apiCpuPercent} %, relay ${resources.relayCpuPercent} %, Temporal ${resources.temporalCpuPercent} %, PostgreSQL ${resources.postgresCpuPercent} %, machine ${resources.machineCpuPercent} %`;
  const rows: [string, string[]][] = [
    [
      'escalations on target (p99 ≤ 1 s, max ≤ 2 s): highest rate, p99 there',
      cell((results) => {
        const entry = latenessAt(results);
        return entry && `${results.highestRateOnTarget}/s, ${ms(entry.lateness.p99)}`;
      }),
    ],
    [
      'PostgreSQL per ticket created and escalated once (lateness at 5/s): commits / rows written',
      cell((results) => {
        const entry = results.escalationLateness.find((point) => point.ratePerSecond === 5);
        return entry && writes(entry.writesPerTicket);
      }),
    ],
    [
      'storm (every ticket climbs to L3), healthy receiver: highest rate on target',
      cell((results) => (results.storm.length > 0 ? `${results.stormHighestRate.healthy}/s` : undefined)),
    ],
    [
      'storm, three hanging receivers: highest rate on target',
      cell((results) => (results.storm.length > 0 ? `${results.stormHighestRate.hanging}/s` : undefined)),
    ],
    [
      'storm at 10/s, healthy: lateness p99 / max',
      cell((results) => {
        const point = stormAt(results, 'healthy', 10);
        return point && `${ms(point.lateness.p99)} / ${ms(point.lateness.max)}`;
      }),
    ],
    [
      'storm at 10/s, healthy: CPU (of one core)',
      cell((results) => cpu(stormAt(results, 'healthy', 10)?.resources)),
    ],
    [
      'storm at 10/s, healthy: PostgreSQL per ticket (three escalations, notices, webhooks), commits / rows written',
      cell((results) => {
        const point = stormAt(results, 'healthy', 10);
        return point && writes(point.writesPerTicket);
      }),
    ],
    [
      'HTTP creates opened per second, c=8 (median)',
      cell(
        (results) =>
          c8(results) &&
          `${c8(results)?.opened.httpPerSecond}/s (raw start ${c8(results)?.opened.rawStartPerSecond}/s)`,
      ),
    ],
    [
      'create p99 at half the peak',
      cell(
        (results) =>
          results.latencyAtHalfPeak &&
          `${ms(results.latencyAtHalfPeak.p99)} at ${results.latencyAtHalfPeak.ratePerSecond}/s`,
      ),
    ],
    [
      'worker RSS with the most open tickets',
      cell((results) => {
        const last = results.growth.at(-1);
        return last && `${last.workerRssMiB} MiB at ${last.openTickets}`;
      }),
    ],
  ];
  return [
    '# The engines side by side (one run)',
    '',
    `| | ${runs.map((results) => results.temporal).join(' | ')} |`,
    `| --- |${runs.map(() => ' --- |').join('')}`,
    ...rows.map(([label, cells]) => `| ${label} | ${cells.join(' | ')} |`),
    '',
  ].join('\n');
}
