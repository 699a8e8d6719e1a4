/**
 * Automatic dispatch (SPEC 1.4): which engineer gets a ticket. Pure and deterministic — the same
 * candidates always give the same choice — so the workflow's activity and the tests share it.
 */
export interface GeoPoint {
  readonly latitude: number;
  readonly longitude: number;
}

export interface DispatchNeeds {
  readonly productLine?: string;
  readonly region?: string;
  readonly location?: GeoPoint;
  /**
   * Engineers this close to the ticket's location come first, whatever their load (seed 004:
   * 位置优先, within 5 km); the policy's `dispatch.radiusKm`. Absent: no one is preferred for nearness.
   */
  readonly preferWithinKm?: number;
}

export interface EngineerCandidate {
  readonly id: string;
  readonly skills: readonly string[];
  readonly regions: readonly string[];
  readonly latitude: number | null;
  readonly longitude: number | null;
  readonly capacity: number;
  readonly active: boolean;
  /** Tickets the engineer holds now (assigned, accepted, scheduled, in service). */
  readonly openLoad: number;
}

/** Seed 004's radius (优先派单至客户地址5公里范围内的工程师): the policy's default `dispatch.radiusKm`. */
export const DEFAULT_DISPATCH_RADIUS_KM = 5;

/** How far an engineer travels to a ticket that names a location rather than a region they serve. */
export const MAX_DISPATCH_DISTANCE_KM = 50;
const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle (haversine) distance in kilometres. */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const radians = (degrees: number) => (degrees * Math.PI) / 180;
  const dLat = radians(b.latitude - a.latitude);
  const dLon = radians(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

function locationOf(candidate: EngineerCandidate): GeoPoint | undefined {
  return candidate.latitude === null || candidate.longitude === null
    ? undefined
    : { latitude: candidate.latitude, longitude: candidate.longitude };
}

function distanceTo(needs: DispatchNeeds, candidate: EngineerCandidate): number {
  const here = locationOf(candidate);
  return needs.location && here ? distanceKm(needs.location, here) : Number.POSITIVE_INFINITY;
}

function serves(needs: DispatchNeeds, candidate: EngineerCandidate): boolean {
  if (!needs.region && !needs.location) return true;
  if (needs.region && candidate.regions.includes(needs.region)) return true;
  return distanceTo(needs, candidate) <= MAX_DISPATCH_DISTANCE_KM;
}

/** 0 for an engineer within the preferred radius of a located ticket, 1 for everyone else. */
function nearnessTier(needs: DispatchNeeds, distance: number): number {
  return needs.preferWithinKm !== undefined && distance <= needs.preferWithinKm ? 0 : 1;
}

/**
 * The engineer to offer the ticket to: active, not excluded (declined or silent before), skilled for
 * the product line, below capacity, serving the region or near enough. Among those, anyone within
 * `preferWithinKm` of a located ticket comes before anyone farther (distance before load: both are
 * under capacity), then fewest open tickets, then nearest, then by id. An engineer without
 * coordinates is never within the radius. Undefined when nobody matches: manual dispatch.
 */
export function chooseEngineer(
  needs: DispatchNeeds,
  candidates: readonly EngineerCandidate[],
  exclude: readonly string[],
): EngineerCandidate | undefined {
  return candidates
    .filter(
      (candidate) =>
        candidate.active &&
        !exclude.includes(candidate.id) &&
        (!needs.productLine || candidate.skills.includes(needs.productLine)) &&
        candidate.openLoad < candidate.capacity &&
        serves(needs, candidate),
    )
    .map((candidate) => {
      const distance = distanceTo(needs, candidate);
      return { candidate, distance, tier: nearnessTier(needs, distance) };
    })
    .sort(
      (a, b) =>
        a.tier - b.tier ||
        a.candidate.openLoad - b.candidate.openLoad ||
        a.distance - b.distance ||
        (a.candidate.id < b.candidate.id ? -1 : a.candidate.id > b.candidate.id ? 1 : 0),
    )[0]?.candidate;
}

/** The engineer a manual `assign` names, as it stands: whether it works, and its load beside its capacity. */
export interface EngineerLoad {
  readonly active: boolean;
  readonly capacity: number;
  /** Tickets it holds now apart from the one being assigned (a repeat does not count itself). */
  readonly openLoad: number;
}

export type AssignRefusal =
  | { readonly kind: 'unknownEngineer'; readonly message: string }
  | {
      readonly kind: 'atCapacity';
      readonly message: string;
      readonly openLoad: number;
      readonly capacity: number;
    };

/**
 * Why a manual `assign` may not offer the ticket to this engineer, or null when it may: the engineer
 * must exist and be active, and — as automatic dispatch — hold fewer open tickets than its capacity,
 * unless the assigner says `overCapacity: true` (a supervisor may overload an engineer knowingly,
 * e.g. when everyone is full and the ticket is urgent). The API asks it before it sends the Update,
 * the workflow again before it applies it, so both answer alike.
 */
export function assignRefusal(
  engineerId: string,
  engineer: EngineerLoad | null | undefined,
  overCapacity: boolean,
): AssignRefusal | null {
  if (!engineer?.active) {
    return { kind: 'unknownEngineer', message: `engineerId: no active engineer "${engineerId}"` };
  }
  if (overCapacity || engineer.openLoad < engineer.capacity) return null;
  return {
    kind: 'atCapacity',
    message:
      `engineer ${engineerId} already holds ${engineer.openLoad} open tickets, its capacity is ` +
      `${engineer.capacity}; send "overCapacity": true to assign it anyway`,
    openLoad: engineer.openLoad,
    capacity: engineer.capacity,
  };
}
