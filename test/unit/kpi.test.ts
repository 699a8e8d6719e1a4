import { describe, expect, it } from 'vitest';
import { againstTargets, KPI_NAMES, KPI_TARGETS } from '../../domain/kpi';

const noFigures = Object.fromEntries(KPI_NAMES.map((kpi) => [kpi, null])) as Record<
  (typeof KPI_NAMES)[number],
  null
>;

describe('KPIs against their targets', () => {
  it('a figure meets its target when it reaches it; without a figure, neither met nor missed', () => {
    expect(
      againstTargets(
        {
          firstTimeFixRatePercent: 90,
          callbackWithin24hPercent: 89.9,
          complaintResponseWithin24hPercent: null,
          onTimeArrivalPercent: 100,
          dispatchWithin5mPercent: 100,
          offersAnsweredWithin15mPercent: 99.9,
          bookedWithin30mPercent: null,
        },
        KPI_TARGETS,
      ),
    ).toEqual([
      { kpi: 'firstTimeFixRatePercent', value: 90, target: 90, met: true },
      { kpi: 'callbackWithin24hPercent', value: 89.9, target: 90, met: false },
      { kpi: 'complaintResponseWithin24hPercent', value: null, target: 100, met: null },
      { kpi: 'onTimeArrivalPercent', value: 100, target: 95, met: true },
      { kpi: 'dispatchWithin5mPercent', value: 100, target: 100, met: true },
      { kpi: 'offersAnsweredWithin15mPercent', value: 99.9, target: 100, met: false },
      { kpi: 'bookedWithin30mPercent', value: null, target: 100, met: null },
    ]);
  });

  it('seed 004’s dispatch, confirmation and booking standards are 100 % targets', () => {
    expect(KPI_TARGETS).toMatchObject({
      dispatchWithin5mPercent: 100,
      offersAnsweredWithin15mPercent: 100,
      bookedWithin30mPercent: 100,
    });
  });

  it('targets set before a KPI existed (a monthly run’s input) keep its default for it', () => {
    const older = {
      firstTimeFixRatePercent: 80,
      callbackWithin24hPercent: 90,
      complaintResponseWithin24hPercent: 100,
      onTimeArrivalPercent: 95,
    };
    expect(
      againstTargets({ ...noFigures, firstTimeFixRatePercent: 85, bookedWithin30mPercent: 90 }, older),
    ).toEqual(
      expect.arrayContaining([
        { kpi: 'firstTimeFixRatePercent', value: 85, target: 80, met: true },
        { kpi: 'bookedWithin30mPercent', value: 90, target: 100, met: false },
      ]),
    );
  });
});
