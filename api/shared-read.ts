/**
 * An expensive read shared by everyone who asks for it within `ttlMs`: callers while it runs wait
 * for that one run, callers after it get its outcome (value or failure) until `ttlMs` has passed
 * since it settled. A flood of scrapes or probes therefore costs one read per interval.
 */
export function sharedRead<T>(
  ttlMs: number,
  read: () => Promise<T>,
  now: () => number = () => performance.now(),
): () => Promise<T> {
  let last: { readonly outcome: Promise<T>; settledAt?: number } | undefined;
  return () => {
    if (last && (last.settledAt === undefined || now() - last.settledAt < ttlMs)) return last.outcome;
    const entry: { outcome: Promise<T>; settledAt?: number } = { outcome: (async () => read())() };
    const settle = () => {
      entry.settledAt = now();
    };
    entry.outcome.then(settle, settle);
    last = entry;
    return entry.outcome;
  };
}
