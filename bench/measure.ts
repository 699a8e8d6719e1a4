import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Small measuring tools for the benchmark: percentiles, a bounded concurrent runner, /proc readings. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

export interface RunResult extends LatencySummary {
  readonly throughputPerSecond: number;
  readonly errors: number;
}

/** Runs `total` calls of `task` with `concurrency` in flight; latency per call, throughput overall. */
export async function runConcurrently(
  total: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<RunResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const index = next;
        next += 1;
        const begin = performance.now();
        try {
          await task(index);
          latencies.push(performance.now() - begin);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { ...summarize(latencies), throughputPerSecond: latencies.length / seconds, errors };
}

/** The latencies of the calls that succeeded and the count of those that failed. */
export interface Samples {
  readonly latenciesMs: number[];
  readonly errors: number;
}

/** Starts `total` calls of `task` at a steady `ratePerSecond`, whatever the earlier ones take. */
export async function runPaced(
  total: number,
  ratePerSecond: number,
  task: (index: number) => Promise<void>,
): Promise<Samples> {
  const latenciesMs: number[] = [];
  let errors = 0;
  const calls: Promise<void>[] = [];
  const started = performance.now();
  for (let index = 0; index < total; index += 1) {
    const wait = started + (index * 1000) / ratePerSecond - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const begin = performance.now();
    calls.push(
      task(index).then(
        () => void latenciesMs.push(performance.now() - begin),
        () => void (errors += 1),
      ),
    );
  }
  await Promise.all(calls);
  return { latenciesMs, errors };
}

/** Several runs' samples summarized as one. */
export function pooled(runs: readonly Samples[]): LatencySummary & { errors: number } {
  return {
    ...summarize(runs.flatMap((run) => run.latenciesMs)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
  };
}

/** The median of some figures (the mean of the middle two of an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '') ?? 0) / 1024;
}

/** A process's /proc stat fields after its command name: [0] state, [1] parent pid, [11] utime, [12] stime. */
function statFields(pid: number | string): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
}

const cpuOf = (fields: readonly string[]) => (Number(fields[11]) + Number(fields[12])) / 100;

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  return cpuOf(statFields(pid));
}

/**
 * CPU seconds so far of the embedded services this benchmark started (its descendant processes):
 * PostgreSQL (the server and its backends) and the Temporal dev server. Zero for services it did
 * not start (DATABASE_URL / TEMPORAL_ADDRESS).
 */
export function serviceCpuSeconds(): { postgres: number; temporal: number } {
  const processes = readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const fields = statFields(entry);
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      return [{ pid: Number(entry), parent: Number(fields[1]), command, cpu: cpuOf(fields) }];
    } catch {
      return []; // gone since the listing
    }
  });
  const descendants = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const entry of processes) {
      if (descendants.has(entry.parent) && !descendants.has(entry.pid)) {
        descendants.add(entry.pid);
        grew = true;
      }
    }
  }
  const total = { postgres: 0, temporal: 0 };
  for (const entry of processes) {
    if (!descendants.has(entry.pid)) continue;
    const [program = '', ...args] = entry.command.split('\0');
    // The dev server (`temporal server start-dev`) or the real server of `--engine cluster`.
    if (path.basename(program) === 'temporal' && args[1] === 'start-dev') total.temporal += entry.cpu;
    else if (path.basename(program) === 'temporal-server') total.temporal += entry.cpu;
    // The postmaster runs as …/bin/postgres; its backends rename themselves "postgres: …".
    else if (path.basename(program) === 'postgres' || program.startsWith('postgres:'))
      total.postgres += entry.cpu;
  }
  return total;
}

/** Busy CPU seconds of the whole machine so far, summed over its cores (/proc/stat). */
export function machineCpuSeconds(): number {
  const fields =
    readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal: all but idle and iowait is busy.
  const busy = fields
    .slice(0, 8)
    .reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0);
  return busy / 100;
}
