import { z } from 'zod';

/** What PostgreSQL's timestamptz reads from ISO text: the years 1 to 9999. */
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * An instant a list is filtered by: an ISO 8601 date-time with an offset, handed on in UTC. A bound
 * beyond the years 1–9999 (year 0000, or an offset that carries it past an edge) is moved to that
 * edge: no row lies beyond it, so the answer is the same, and PostgreSQL could not read the original.
 */
export const instantFilter = () =>
  z.iso
    .datetime({ offset: true })
    .transform((text) => new Date(Math.min(Math.max(Date.parse(text), EARLIEST), LATEST)).toISOString());
