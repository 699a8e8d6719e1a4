import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { positionCursor, sequenceCursor } from '../../api/cursor';

/** The pattern the OpenAPI document gives a cursor parameter. */
function patternOf(query: typeof positionCursor.query | typeof sequenceCursor.query): RegExp {
  const { pattern } = z.toJSONSchema(query.unwrap()) as { pattern?: string };
  return new RegExp(pattern ?? '(?!)');
}

describe('page cursors', () => {
  it('bring back the position they were made from, to the microsecond', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('2286-01-01T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 0, max: 999 }),
        fc.string({ minLength: 1, maxLength: 50, unit: 'binary' }).filter((key) => !key.includes('\u0000')),
        (date, micros, key) => {
          const at = date.toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);
          const cursor = positionCursor.encode({ at, key });
          expect(positionCursor.query.parse(cursor)).toBe(cursor);
          expect(positionCursor.decode(cursor)).toEqual({ at, key });
        },
      ),
    );
    // An instant to the millisecond, as JavaScript dates have it, comes back with six digits.
    const cursor = positionCursor.encode({ at: '2026-12-03T10:00:00.123Z', key: 'WO20261203-001' });
    expect(positionCursor.decode(cursor)).toEqual({
      at: '2026-12-03T10:00:00.123000Z',
      key: 'WO20261203-001',
    });
    expect(sequenceCursor.decode(sequenceCursor.encode(41))).toBe(41);
  });

  it('decode every string their documented pattern allows into a position PostgreSQL can compare', () => {
    fc.assert(
      fc.property(fc.stringMatching(patternOf(positionCursor.query)), (text) => {
        expect(positionCursor.query.safeParse(text).success).toBe(true);
        const { at, key } = positionCursor.decode(text);
        expect(at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
        expect(Number.isNaN(Date.parse(at))).toBe(false);
        expect(key.length).toBeGreaterThan(0);
        expect(key).not.toContain('\u0000');
      }),
    );
    fc.assert(
      fc.property(fc.stringMatching(patternOf(sequenceCursor.query)), (text) => {
        expect(sequenceCursor.query.safeParse(text).success).toBe(true);
        expect(sequenceCursor.decode(text)).toBeLessThanOrEqual(2 ** 31 - 1);
      }),
    );
  });

  it('refuse anything else, naming it as no cursor of this API', () => {
    const refusals = [
      [
        positionCursor.query,
        ['not-a-cursor', 'eyJ4IjoxfQ', '1.', '.41', '1.4', '1.4A', '1.00', '12345678901234567.41'],
      ],
      [sequenceCursor.query, ['not-a-cursor', '', '-1', '1.5', '1234567890']],
    ] as const;
    for (const [query, texts] of refusals) {
      for (const text of texts) {
        expect(query.safeParse(text).error?.issues[0]?.message, text).toBe(
          'is not a cursor this API returned',
        );
      }
    }
  });

  it('will not put a key in a cursor that the pattern would refuse', () => {
    expect(() => positionCursor.encode({ at: '2026-12-03T10:00:00Z', key: 'x'.repeat(201) })).toThrow(
      /row key of 201 bytes/,
    );
    expect(() => positionCursor.encode({ at: '2026-12-03T10:00:00Z', key: 'a\u0000b' })).toThrow();
  });
});
