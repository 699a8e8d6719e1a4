/**
 * The libraries workflow code uses that keep no per-workflow state. The worker preloads this module
 * once and every workflow shares what it loaded (see `SHARED_WORKFLOW_MODULES`). Imported the way
 * workflow code imports them, so the bundle resolves the same files (the ESM builds).
 *
 * Not zod: it keeps mutable settings on `globalThis` (its locale, a memoizer) that it fills in lazily,
 * which a shared, frozen copy refuses. Workflow code builds its schemas only when an Update arrives.
 */
export { Mutex } from 'async-mutex';
export { DateTime } from 'luxon';
