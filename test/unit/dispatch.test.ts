import { describe, expect, it } from 'vitest';
import {
  chooseEngineer,
  distanceKm,
  MAX_DISPATCH_DISTANCE_KM,
  type EngineerCandidate,
} from '../../domain/dispatch';

/** SPEC 1.4: skill for the product line, region or distance, fewest open tickets, at most 3 each. */
const SHANGHAI = { latitude: 31.2304, longitude: 121.4737 };
const HANGZHOU = { latitude: 30.2741, longitude: 120.1551 };
const PUDONG = { latitude: 31.2215, longitude: 121.5447 };

function engineer(id: string, overrides: Partial<EngineerCandidate> = {}): EngineerCandidate {
  return {
    id,
    skills: ['air-conditioner'],
    regions: ['shanghai'],
    latitude: null,
    longitude: null,
    capacity: 3,
    active: true,
    openLoad: 0,
    ...overrides,
  };
}

const needs = { productLine: 'air-conditioner', region: 'shanghai' };

describe('automatic dispatch', () => {
  it('measures great-circle distance (Shanghai–Hangzhou ≈ 164 km)', () => {
    expect(distanceKm(SHANGHAI, HANGZHOU)).toBeGreaterThan(160);
    expect(distanceKm(SHANGHAI, HANGZHOU)).toBeLessThan(168);
    expect(distanceKm(SHANGHAI, SHANGHAI)).toBe(0);
  });

  it('needs the skill for the product line', () => {
    const fridges = engineer('a', { skills: ['refrigerator'] });
    expect(chooseEngineer(needs, [fridges, engineer('b')], [])?.id).toBe('b');
    expect(chooseEngineer({ region: 'shanghai' }, [fridges], [])?.id).toBe('a');
  });

  it('prefers the fewest open tickets and never exceeds capacity', () => {
    const busy = engineer('a', { openLoad: 2 });
    const idle = engineer('b', { openLoad: 1 });
    expect(chooseEngineer(needs, [busy, idle], [])?.id).toBe('b');
    expect(chooseEngineer(needs, [engineer('a', { openLoad: 3 })], [])).toBeUndefined();
    expect(chooseEngineer(needs, [engineer('a', { openLoad: 3, capacity: 5 })], [])?.id).toBe('a');
  });

  it('serves by region, or by distance when the ticket has a place and the region does not match', () => {
    const near = engineer('near', { regions: ['pudong'], ...PUDONG });
    const far = engineer('far', { regions: ['hangzhou'], ...HANGZHOU });
    const located = { productLine: 'air-conditioner', region: 'xuhui', location: SHANGHAI };
    expect(chooseEngineer(located, [far, near], [])?.id).toBe('near');
    expect(distanceKm(SHANGHAI, HANGZHOU)).toBeGreaterThan(MAX_DISPATCH_DISTANCE_KM);
    expect(chooseEngineer(located, [far], [])).toBeUndefined();
    expect(chooseEngineer({ productLine: 'air-conditioner', region: 'xuhui' }, [near], [])).toBeUndefined();
  });

  it('breaks a tie in load by distance, then by id', () => {
    const located = { ...needs, location: SHANGHAI };
    const pudong = engineer('z', { ...PUDONG });
    const downtown = engineer('y', { ...SHANGHAI });
    expect(chooseEngineer(located, [pudong, downtown], [])?.id).toBe('y');
    expect(chooseEngineer(needs, [engineer('b'), engineer('a')], [])?.id).toBe('a');
  });

  it('leaves out inactive engineers and those who declined or stayed silent', () => {
    expect(chooseEngineer(needs, [engineer('a', { active: false }), engineer('b')], [])?.id).toBe('b');
    expect(chooseEngineer(needs, [engineer('a'), engineer('b')], ['a'])?.id).toBe('b');
    expect(chooseEngineer(needs, [engineer('a')], ['a'])).toBeUndefined();
  });
});
