import { describe, expect, it } from 'vitest';
import {
  assignRefusal,
  chooseEngineer,
  DEFAULT_DISPATCH_RADIUS_KM,
  distanceKm,
  MAX_DISPATCH_DISTANCE_KM,
  type EngineerCandidate,
} from '../../domain/dispatch';

/** SPEC 1.4: skill for the product line, region or distance, fewest open tickets, at most capacity. */
const SHANGHAI = { latitude: 31.2304, longitude: 121.4737 };
const HANGZHOU = { latitude: 30.2741, longitude: 120.1551 };
const PUDONG = { latitude: 31.2215, longitude: 121.5447 };

/** A point due north of Shanghai: each 0.01° of latitude is 1.112 km (2π · 6371.0088 km / 36 000). */
const northOfShanghai = (degrees: number) => ({ ...SHANGHAI, latitude: SHANGHAI.latitude + degrees });

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
const pick = (...args: Parameters<typeof chooseEngineer>) => chooseEngineer(...args)?.id;

describe('great-circle distance', () => {
  it('is 111.195 km for one degree along a meridian (2π · 6371.0088 km / 360)', () => {
    expect(distanceKm({ latitude: 0, longitude: 0 }, { latitude: 1, longitude: 0 })).toBeCloseTo(111.195, 3);
  });

  it('is about 164.9 km from Shanghai to Hangzhou, either way round', () => {
    expect(distanceKm(SHANGHAI, HANGZHOU)).toBeCloseTo(164.87, 2);
    expect(distanceKm(HANGZHOU, SHANGHAI)).toBe(distanceKm(SHANGHAI, HANGZHOU));
  });

  it('is 0 from a place to itself', () => {
    expect(distanceKm(SHANGHAI, SHANGHAI)).toBe(0);
  });
});

describe('automatic dispatch', () => {
  it('offers the ticket only to active engineers', () => {
    expect(pick(needs, [engineer('a', { active: false }), engineer('b')], [])).toBe('b');
    expect(pick(needs, [engineer('a', { active: false })], [])).toBeUndefined();
  });

  it('leaves out engineers who declined or let the acceptance clock run out', () => {
    expect(pick(needs, [engineer('a'), engineer('b')], ['a'])).toBe('b');
    expect(pick(needs, [engineer('a'), engineer('b')], ['a', 'b'])).toBeUndefined();
  });

  it("needs the skill for the ticket's product line", () => {
    const fridges = engineer('a', { skills: ['refrigerator'] });
    expect(pick(needs, [fridges, engineer('b')], [])).toBe('b');
    expect(pick(needs, [fridges], [])).toBeUndefined();
  });

  it('takes any skill set when the ticket names no product line', () => {
    expect(pick({ region: 'shanghai' }, [engineer('a', { skills: ['refrigerator'] })], [])).toBe('a');
  });

  it('never offers an engineer a ticket beyond their capacity', () => {
    expect(pick(needs, [engineer('a', { openLoad: 3 })], [])).toBeUndefined();
    expect(pick(needs, [engineer('a', { openLoad: 4, capacity: 3 })], [])).toBeUndefined();
    expect(pick(needs, [engineer('a', { openLoad: 3, capacity: 4 })], [])).toBe('a');
  });

  it("serves a ticket in one of the engineer's regions, wherever the engineer is", () => {
    const inHangzhou = engineer('a', { regions: ['xuhui', 'shanghai'], ...HANGZHOU });
    expect(pick({ ...needs, location: SHANGHAI }, [inHangzhou], [])).toBe('a');
    expect(pick({ ...needs, region: 'minhang' }, [inHangzhou], [])).toBeUndefined();
  });

  it(`serves a located ticket outside the engineer's regions from within ${MAX_DISPATCH_DISTANCE_KM} km`, () => {
    const located = { productLine: 'air-conditioner', region: 'minhang', location: SHANGHAI };
    // 0.44° north is 48.93 km away, 0.45° is 50.04 km.
    expect(pick(located, [engineer('near', northOfShanghai(0.44))], [])).toBe('near');
    expect(pick(located, [engineer('far', northOfShanghai(0.45))], [])).toBeUndefined();
    expect(pick(located, [engineer('hangzhou', HANGZHOU)], [])).toBeUndefined();
  });

  it('serves a located ticket by region only when the engineer has no coordinates', () => {
    const located = { productLine: 'air-conditioner', location: SHANGHAI };
    expect(pick({ ...located, region: 'minhang' }, [engineer('a')], [])).toBeUndefined();
    expect(pick({ ...located, region: 'shanghai' }, [engineer('a')], [])).toBe('a');
  });

  it('serves a ticket with neither region nor location by every skilled engineer', () => {
    const anywhere = engineer('a', { regions: [], ...HANGZHOU });
    expect(pick({ productLine: 'air-conditioner' }, [anywhere], [])).toBe('a');
  });

  it('prefers the engineer with the fewest open tickets, even a farther one, when no radius is set', () => {
    const located = { ...needs, location: SHANGHAI };
    const busyNearby = engineer('a', { openLoad: 2, ...SHANGHAI });
    const idleFarther = engineer('b', { openLoad: 1, ...PUDONG });
    expect(pick(located, [busyNearby, idleFarther], [])).toBe('b');
  });

  it('breaks a tie in load by distance, an unknown distance last', () => {
    const located = { ...needs, location: SHANGHAI };
    const unknown = engineer('a');
    const pudong = engineer('b', PUDONG);
    const downtown = engineer('c', SHANGHAI);
    expect(pick(located, [unknown, pudong, downtown], [])).toBe('c');
    expect(pick(located, [unknown, pudong], [])).toBe('b');
  });

  it('breaks a remaining tie by id, whatever order the candidates come in', () => {
    expect(pick(needs, [engineer('b'), engineer('a'), engineer('c')], [])).toBe('a');
    expect(pick(needs, [engineer('c'), engineer('b'), engineer('a')], [])).toBe('a');
  });
});

describe(`dispatch prefers engineers within the policy's radius (seed 004: ${DEFAULT_DISPATCH_RADIUS_KM} km)`, () => {
  const nearby = { ...needs, location: SHANGHAI, preferWithinKm: DEFAULT_DISPATCH_RADIUS_KM };
  // 0.04° north is 4.45 km away, 0.05° is 5.56 km; Pudong is 6.8 km from downtown.
  const within = northOfShanghai(0.04);
  const beyond = northOfShanghai(0.05);

  it('puts distance before load: a busier engineer within the radius beats an idle one beyond it', () => {
    const busyWithin = engineer('a', { openLoad: 2, ...within });
    const idleBeyond = engineer('b', { openLoad: 0, ...beyond });
    expect(pick(nearby, [busyWithin, idleBeyond], [])).toBe('a');
    expect(
      pick(
        nearby,
        [engineer('a', { openLoad: 2, ...SHANGHAI }), engineer('b', { openLoad: 1, ...PUDONG })],
        [],
      ),
    ).toBe('a');
  });

  it('counts an engineer exactly on the radius as within it', () => {
    const onTheEdge = { ...nearby, preferWithinKm: distanceKm(SHANGHAI, within) };
    expect(pick(onTheEdge, [engineer('a', { openLoad: 2, ...within }), engineer('b', beyond)], [])).toBe('a');
  });

  it('still never offers a ticket beyond capacity, however near', () => {
    const fullWithin = engineer('a', { openLoad: 3, capacity: 3, ...SHANGHAI });
    expect(pick(nearby, [fullWithin, engineer('b', { openLoad: 2, ...beyond })], [])).toBe('b');
  });

  it('between engineers both within the radius, fewest open tickets first, then nearest, then id', () => {
    const busierNearest = engineer('a', { openLoad: 1, ...SHANGHAI });
    const idleFarther = engineer('b', { openLoad: 0, ...within });
    expect(pick(nearby, [busierNearest, idleFarther], [])).toBe('b');
    expect(pick(nearby, [engineer('c', within), engineer('d', SHANGHAI)], [])).toBe('d');
    expect(pick(nearby, [engineer('f', within), engineer('e', within)], [])).toBe('e');
  });

  it('between engineers both beyond the radius, load decides as before', () => {
    const busyBeyond = engineer('a', { openLoad: 2, ...beyond });
    const idlePudong = engineer('b', { openLoad: 1, ...PUDONG });
    expect(pick(nearby, [busyBeyond, idlePudong], [])).toBe('b');
  });

  it('never counts an engineer without a location as within the radius', () => {
    const unlocated = engineer('a', { openLoad: 0 });
    const busyWithin = engineer('b', { openLoad: 2, ...within });
    expect(pick(nearby, [unlocated, busyWithin], [])).toBe('b');
    expect(pick(nearby, [unlocated, engineer('c', { openLoad: 1, ...beyond })], [])).toBe('a');
  });

  it('prefers nobody for nearness when the ticket names no location', () => {
    const { location: _location, ...regionOnly } = nearby;
    expect(
      pick(regionOnly, [engineer('a', { openLoad: 2, ...SHANGHAI }), engineer('b', { openLoad: 1 })], []),
    ).toBe('b');
  });

  it('a radius of 0 km prefers only an engineer at the very spot', () => {
    const zero = { ...nearby, preferWithinKm: 0 };
    expect(
      pick(
        zero,
        [engineer('a', { openLoad: 2, ...SHANGHAI }), engineer('b', { openLoad: 1, ...within })],
        [],
      ),
    ).toBe('a');
    expect(
      pick(zero, [engineer('a', { openLoad: 2, ...within }), engineer('b', { openLoad: 1, ...beyond })], []),
    ).toBe('b');
  });
});

describe('a manual assign (the rule the API and the workflow both ask)', () => {
  const load = (openLoad: number, overrides: { capacity?: number; active?: boolean } = {}) => ({
    active: true,
    capacity: 3,
    openLoad,
    ...overrides,
  });

  it('offers the ticket to an active engineer below its capacity', () => {
    expect(assignRefusal('eng-1', load(0), false)).toBeNull();
    expect(assignRefusal('eng-1', load(2), false)).toBeNull();
  });

  it('refuses an engineer at its capacity, naming its load and capacity, unless the assigner overrides', () => {
    expect(assignRefusal('eng-1', load(3), false)).toEqual({
      kind: 'atCapacity',
      message:
        'engineer eng-1 already holds 3 open tickets, its capacity is 3; send "overCapacity": true to assign it anyway',
      openLoad: 3,
      capacity: 3,
    });
    expect(assignRefusal('eng-1', load(4, { capacity: 1 }), false)).toMatchObject({
      kind: 'atCapacity',
      openLoad: 4,
      capacity: 1,
    });
    expect(assignRefusal('eng-1', load(3), true)).toBeNull();
  });

  it('refuses an engineer that does not exist or no longer works, override or not', () => {
    const unknown = { kind: 'unknownEngineer', message: 'engineerId: no active engineer "eng-9"' };
    expect(assignRefusal('eng-9', undefined, false)).toEqual(unknown);
    expect(assignRefusal('eng-9', null, true)).toEqual(unknown);
    expect(assignRefusal('eng-9', load(0, { active: false }), true)).toEqual(unknown);
  });
});
