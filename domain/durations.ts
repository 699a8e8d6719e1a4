/**
 * SLA durations as the policy file writes them: `90s`, `10m`, `24h`, `30d` run on the wall clock;
 * `4bh` (business hours) and `5bd` (business days) run on the business calendar.
 */
export type WallUnit = 's' | 'm' | 'h' | 'd';
export type BusinessUnit = 'bh' | 'bd';

export interface WallDuration {
  readonly kind: 'wall';
  readonly text: string;
  readonly ms: number;
}

export type SlaDuration =
  | WallDuration
  | {
      readonly kind: 'business';
      readonly text: string;
      readonly amount: number;
      readonly unit: BusinessUnit;
    };

const WALL_UNIT_MS: Record<WallUnit, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(s|m|h|d|bh|bd)$/;

export const DURATION_FORMAT_HINT = 'a positive number followed by s, m, h, d, bh or bd (e.g. "10m", "5bd")';

/** Parses a policy duration; returns undefined when the text is not one. */
export function parseDuration(text: string): SlaDuration | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] as WallUnit | BusinessUnit;
  if (!(amount > 0)) return undefined;
  if (unit === 'bh' || unit === 'bd') return { kind: 'business', text, amount, unit };
  return { kind: 'wall', text, ms: Math.round(amount * WALL_UNIT_MS[unit]) };
}
