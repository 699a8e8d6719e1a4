import { describe, expect, it } from 'vitest';
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
