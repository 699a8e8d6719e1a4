/** Thrown by an `AdmissionLimit` whose slots and queue are all taken. */
export class AdmissionRefused extends Error {
  override name = 'AdmissionRefused';
}

/**
 * Runs at most `concurrency` tasks at once and lets at most `queue` more wait for a slot; any task
 * beyond those is refused at once (`AdmissionRefused`) instead of piling up.
 */
export function admissionLimit(options: { readonly concurrency: number; readonly queue: number }) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function admit<T>(task: () => Promise<T>): Promise<T> {
    if (running < options.concurrency) running++;
    else if (waiting.length < options.queue) await new Promise<void>((resolve) => waiting.push(resolve));
    else throw new AdmissionRefused();
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiting task, if any.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
