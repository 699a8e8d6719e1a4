import type { QualityState, TicketState } from './ticket';

/**
 * Quality check (SPEC 1.8): every complaint and repeat fault is reviewed; of the other tickets a
 * deterministic sample — the same ticket and resolution always draw the same way, so a replayed
 * workflow makes the same decision.
 */
export function qualityDecision(
  state: TicketState,
  sampleRate: number,
): Pick<QualityState, 'required' | 'reason'> {
  if (state.intake.category === 'complaint' || state.complaints > 0) {
    return { required: true, reason: 'complaint' };
  }
  if (state.repeatOf !== null || state.reservices > 0) return { required: true, reason: 'repeat' };
  const drawn = sampleFraction(`${state.number}:${state.serviceRecords.length}`) < sampleRate;
  return { required: drawn, reason: drawn ? 'sampled' : 'not_sampled' };
}

/** A stable fraction in [0, 1) from a text: FNV-1a, 32 bits. */
export function sampleFraction(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}

/** ≥ 90 excellent, 70–89 pass, < 70 fail (a failed review sends the ticket back for service). */
export function scoreBand(score: number): 'excellent' | 'pass' | 'fail' {
  if (score >= 90) return 'excellent';
  if (score >= 70) return 'pass';
  return 'fail';
}
