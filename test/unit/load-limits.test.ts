import { describe, expect, it } from 'vitest';
import { AdmissionRefused, admissionLimit } from '../../api/admission';
import { sharedRead } from '../../api/shared-read';

/** A promise settled from outside, for tasks that finish when the test says so. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('sharedRead (metrics counters, readiness)', () => {
  it('gives callers while a read runs that same read, and its value for the interval after', async () => {
    let clock = 0;
    let reads = 0;
    const gate = deferred();
    const read = sharedRead(
      15_000,
      async () => {
        reads += 1;
        await gate.promise;
        return reads;
      },
      () => clock,
    );
    const concurrent = Array.from({ length: 50 }, () => read());
    gate.resolve();
    expect(await Promise.all(concurrent)).toEqual(Array.from({ length: 50 }, () => 1));
    clock = 14_999;
    expect(await read()).toBe(1);
    expect(reads).toBe(1);
    clock = 15_000;
    expect(await read()).toBe(2);
    expect(reads).toBe(2);
  });

  it('shares a failure for the interval too, then reads again', async () => {
    let clock = 0;
    let reads = 0;
    const read = sharedRead(
      2_000,
      async () => {
        reads += 1;
        if (reads === 1) throw new Error('PostgreSQL unreachable');
        return 'ready';
      },
      () => clock,
    );
    await expect(Promise.all([read(), read()])).rejects.toThrow('PostgreSQL unreachable');
    clock = 1_000;
    await expect(read()).rejects.toThrow('PostgreSQL unreachable');
    expect(reads).toBe(1);
    clock = 2_500;
    expect(await read()).toBe('ready');
    expect(reads).toBe(2);
  });
});

describe('admissionLimit (report builds)', () => {
  it('runs `concurrency` tasks, queues `queue` more, refuses the rest at once', async () => {
    const admit = admissionLimit({ concurrency: 2, queue: 1 });
    const gates = Array.from({ length: 3 }, () => deferred<string>());
    const started: number[] = [];
    const admitted = gates.map((gate, index) =>
      admit(async () => {
        started.push(index);
        return gate.promise;
      }),
    );
    await expect(admit(async () => 'extra')).rejects.toBeInstanceOf(AdmissionRefused);
    await Promise.resolve();
    expect(started).toEqual([0, 1]);

    // A failing task frees its slot as well: the queued one starts.
    gates[0]?.reject(new Error('timed out'));
    await expect(admitted[0]).rejects.toThrow('timed out');
    await expect.poll(() => started).toEqual([0, 1, 2]);
    gates[1]?.resolve('b');
    gates[2]?.resolve('c');
    expect(await Promise.all(admitted.slice(1))).toEqual(['b', 'c']);
    expect(await admit(async () => 'later')).toBe('later');
  });

  it('with no queue, refuses everything past the running tasks', async () => {
    const admit = admissionLimit({ concurrency: 1, queue: 0 });
    const gate = deferred();
    const running = admit(() => gate.promise);
    await expect(admit(async () => undefined)).rejects.toBeInstanceOf(AdmissionRefused);
    gate.resolve();
    await running;
    await expect(admit(async () => 'free again')).resolves.toBe('free again');
  });
});
