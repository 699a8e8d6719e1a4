import { describe, expect, it } from 'vitest';
import { againstTargets, KPI_TARGETS } from '../../domain/kpi';

describe('KPIs against their targets', () => {
  it('a figure meets its target when it reaches it; without a figure, neither met nor missed', () => {
    expect(
      againstTargets(
        {
          firstTimeFixRatePercent: 90,
          callbackWithin24hPercent: 89.9,
          complaintResponseWithin24hPercent: null,
          onTimeArrivalPercent: 100,
        },
        KPI_TARGETS,
      ),
    ).toEqual([
      { kpi: 'firstTimeFixRatePercent', value: 90, target: 90, met: true },
      { kpi: 'callbackWithin24hPercent', value: 89.9, target: 90, met: false },
      { kpi: 'complaintResponseWithin24hPercent', value: null, target: 100, met: null },
      { kpi: 'onTimeArrivalPercent', value: 100, target: 95, met: true },
    ]);
  });
});
