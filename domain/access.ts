import type { Role } from './ticket';

/** Roles that may see customers' personal data in clear: through the API and through the codec. */
export const PERSONAL_DATA_ROLES: readonly Role[] = ['supervisor', 'manager', 'director', 'admin'];

export function maySeePersonalData(role: Role): boolean {
  return PERSONAL_DATA_ROLES.includes(role);
}
