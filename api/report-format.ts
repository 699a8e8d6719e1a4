import { CSAT_DIMENSIONS, type SummaryReport } from '../db/report-store';
import type { KpiName } from '../domain/kpi';

const KPI_LABELS: Record<KpiName, string> = {
  firstTimeFixRatePercent: 'First-time fix',
  callbackWithin24hPercent: 'Callbacks within 24 h',
  complaintResponseWithin24hPercent: 'Complaints answered within 24 h',
  onTimeArrivalPercent: 'On-time arrival',
  dispatchWithin5mPercent: 'Offered to an engineer within 5 min',
  offersAnsweredWithin15mPercent: 'Offers answered within 15 min',
  bookedWithin30mPercent: 'Visits booked within 30 min of acceptance',
};

/**
 * The summary report as CSV (one figure a row) and as a picture managers can read at a glance.
 * Text that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return:
 * a root cause typed by an engineer) is written with a leading apostrophe, as OWASP advises, so it
 * shows as text; numbers are written as they are. Money is in fen, as in the JSON.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

const csvField = (value: unknown) => {
  const raw = value === null || value === undefined ? '' : String(value);
  const text = typeof value === 'string' && FORMULA_START.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export function reportCsv(report: SummaryReport): string {
  const rows: [string, string, unknown][] = [
    ['period', 'from', report.period.from],
    ['period', 'to', report.period.to],
    ['period', 'timeZone', report.period.timeZone],
    ['tickets', 'total', report.tickets.total],
    ...(['byStatus', 'byCategory', 'byPriority', 'byChannel'] as const).flatMap((section) =>
      Object.entries(report.tickets[section]).map(([key, count]): [string, string, unknown] => [
        section,
        key,
        count,
      ]),
    ),
    ['firstResponse', 'averageSeconds', report.firstResponse.averageSeconds],
    ['firstResponse', 'p90Seconds', report.firstResponse.p90Seconds],
    ['firstResponse', 'compliancePercent', report.firstResponse.compliancePercent],
    ['resolution', 'compliancePercent', report.resolution.compliancePercent],
    ['service', 'averageSecondsToOnSite', report.averageSecondsToOnSite],
    ['service', 'completionRatePercent', report.completionRatePercent],
    ['service', 'firstTimeFixRatePercent', report.firstTimeFixRatePercent],
    ['service', 'repeatRepairRatePercent', report.repeatRepairRatePercent],
    ['csat', 'callbacks', report.csat.callbacks],
    ...CSAT_DIMENSIONS.map((dimension): [string, string, unknown] => [
      'csat',
      dimension,
      report.csat[dimension],
    ]),
    ...report.csatTrend.map((point): [string, string, unknown] => ['csatTrend', point.date, point.overall]),
    ['escalations', 'total', report.escalations.total],
    ...Object.entries(report.escalations.byLevel).map(([level, n]): [string, string, unknown] => [
      'escalationsByLevel',
      level,
      n,
    ]),
    ...Object.entries(report.escalations.byReason).map(([reason, n]): [string, string, unknown] => [
      'escalationsByReason',
      reason,
      n,
    ]),
    ...report.topCauses.map((cause): [string, string, unknown] => ['topCauses', cause.cause, cause.count]),
    ['resolution', 'averageSeconds', report.resolution.averageSeconds],
    ['callbacks', 'owed', report.callbacks.owed],
    ['callbacks', 'within24h', report.callbacks.within24h],
    ['callbacks', 'within24hPercent', report.callbacks.within24hPercent],
    ...Object.entries(report.complaints)
      .filter(([metric]) => metric !== 'handlingCost')
      .map(([metric, value]): [string, string, unknown] => ['complaints', metric, value]),
    ...Object.entries(report.complaints.handlingCost).map(([metric, value]): [string, string, unknown] => [
      'complaintHandlingCost',
      metric,
      value,
    ]),
    ...Object.entries(report.complaintAnalysis).flatMap(([taxonomy, counts]) =>
      counts.flatMap((row): [string, string, unknown][] => [
        [taxonomy, row.key, row.count],
        [`${taxonomy}SharePercent`, row.key, row.sharePercent],
      ]),
    ),
    ...Object.entries(report.visits).map(([metric, value]): [string, string, unknown] => [
      'visits',
      metric,
      value,
    ]),
    ...Object.entries(report.dispatch).map(([metric, value]): [string, string, unknown] => [
      'dispatch',
      metric,
      value,
    ]),
    ['qualityChecks', 'reviews', report.qualityChecks.reviews],
    ['qualityChecks', 'passRatePercent', report.qualityChecks.passRatePercent],
    ...Object.entries(report.qualityChecks.byBand).map(([band, n]): [string, string, unknown] => [
      'qualityChecksByBand',
      band,
      n,
    ]),
    ...Object.entries(report.qualityChecks.aspects).flatMap(
      ([aspect, figures]): [string, string, unknown][] => [
        ['qualityChecksAspectReviews', aspect, figures.reviews],
        ['qualityChecksAspectAverage', aspect, figures.average],
        ...Object.entries(figures.byBand).map(([band, n]): [string, string, unknown] => [
          'qualityChecksAspectByBand',
          `${aspect}.${band}`,
          n,
        ]),
      ],
    ),
    ...Object.entries(report.timeouts).flatMap(([clock, figures]): [string, string, unknown][] => [
      ['timeoutRuns', clock, figures.runs],
      ['timeouts', clock, figures.timeouts],
      ['timeoutRatePercent', clock, figures.ratePercent],
    ]),
    ...report.repairsByModel.flatMap((row): [string, string, unknown][] => [
      ['repairsByModel', row.model, row.repairs],
      ['repeatRepairsByModel', row.model, row.repeatRepairs],
      ['repairShareByModelPercent', row.model, row.sharePercent],
    ]),
    ...report.topProblems.flatMap((problem): [string, string, unknown][] => [
      ['topProblems', problem.problem, problem.count],
      ['topProblemsSharePercent', problem.problem, problem.sharePercent],
    ]),
    ...report.targets.flatMap((kpi): [string, string, unknown][] => [
      ['kpi', kpi.kpi, kpi.value],
      ['kpiTarget', kpi.kpi, kpi.target],
      ['kpiMet', kpi.kpi, kpi.met],
    ]),
    ['costs', 'averagePartsCostFen', report.costs.averagePartsCostFen],
    ['costs', 'averageVisitCostFen', report.costs.averageVisitCostFen],
    ['parts', 'issuedQuantity', report.parts.issued.quantity],
    ['parts', 'issuedValue', report.parts.issued.value],
    ['parts', 'ticketsIssuedParts', report.parts.issued.tickets],
    ['parts', 'averagePartsCostPerTicket', report.parts.averagePartsCostPerTicket],
    ['parts', 'stockOnHand', report.parts.stockNow.onHand],
    ['parts', 'stockValue', report.parts.stockNow.value],
    ['parts', 'turnover', report.parts.turnover],
    ['partsStockOuts', 'tickets', report.parts.stockOuts.tickets],
    ['partsStockOuts', 'ticketsRequestingParts', report.parts.stockOuts.ticketsRequestingParts],
    ['partsStockOuts', 'sharePercent', report.parts.stockOuts.sharePercent],
    ...report.parts.topConsumed.map((part): [string, string, unknown] => [
      'partsTopConsumed',
      `${part.partNumber} (${part.model})`,
      part.quantity,
    ]),
    ...report.returns.requests.flatMap((row): [string, string, unknown][] => {
      const key = `${row.kind} ${row.returnReason} (${row.model ?? 'no model'})`;
      return [
        ['returnRequests', key, row.requested],
        ['returnsApproved', key, row.approved],
        ['returnsRefused', key, row.refused],
        ['returnsRejected', key, row.rejected],
      ];
    }),
    ...Object.entries(report.returns.refunds).map(([metric, value]): [string, string, unknown] => [
      'refunds',
      metric,
      value,
    ]),
    ['outOfWarrantyRevenue', 'payments', report.returns.outOfWarrantyRevenue.payments],
    ['outOfWarrantyRevenue', 'totalFen', report.returns.outOfWarrantyRevenue.totalFen],
    ...report.returns.remedies.flatMap((row): [string, string, unknown][] => [
      ['remediesGranted', row.kind, row.granted],
      ['remedyCostFen', row.kind, row.costFen],
    ]),
    ...Object.entries(report.returns.quotes).map(([metric, value]): [string, string, unknown] => [
      'quotes',
      metric,
      value,
    ]),
  ];
  return ['section,metric,value', ...rows.map((row) => row.map(csvField).join(','))].join('\r\n') + '\r\n';
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** Fen as yuan, for the picture. */
const yuan = (fen: number | null) => (fen === null ? 'n/a' : `¥${(fen / 100).toFixed(2)}`);

interface Bar {
  readonly label: string;
  readonly value: number | null;
}

/** A labelled horizontal bar chart, `max` the value of a full bar. */
function bars(title: string, items: readonly Bar[], max: number, unit: string, top: number): string {
  const width = 300;
  const rows = items.map((item, index) => {
    const y = top + 28 + index * 26;
    const length = item.value === null ? 0 : Math.max(0, Math.min(1, item.value / max)) * width;
    const shown = item.value === null ? 'n/a' : `${item.value}${unit}`;
    return [
      `<text x="20" y="${y + 14}" font-size="13">${escapeXml(item.label)}</text>`,
      `<rect x="200" y="${y}" width="${length.toFixed(1)}" height="18" fill="#2f6fde"/>`,
      `<text x="${(208 + length).toFixed(1)}" y="${y + 14}" font-size="13">${escapeXml(shown)}</text>`,
    ].join('');
  });
  return `<text x="20" y="${top + 16}" font-size="15" font-weight="bold">${escapeXml(title)}</text>${rows.join('')}`;
}

export function reportSvg(report: SummaryReport): string {
  const sla = bars(
    'SLA compliance',
    [
      { label: 'First response', value: report.firstResponse.compliancePercent },
      { label: 'Resolution', value: report.resolution.compliancePercent },
    ],
    100,
    ' %',
    50,
  );
  const levels = [1, 2, 3].map((level) => ({
    label: `Level ${level} (${['supervisor', 'manager', 'director'][level - 1]})`,
    value: report.escalations.byLevel[String(level)] ?? 0,
  }));
  const escalations = bars(
    'Escalations by level',
    levels,
    Math.max(1, ...levels.map((bar) => bar.value)),
    '',
    140,
  );
  const csat = bars(
    `CSAT (${report.csat.callbacks} callbacks, 1–5)`,
    CSAT_DIMENSIONS.map((dimension) => ({ label: dimension, value: report.csat[dimension] })),
    5,
    '',
    256,
  );
  const trendTop = 436;
  const points = report.csatTrend.map((point, index, all) => {
    const x = 200 + (all.length > 1 ? (index / (all.length - 1)) * 300 : 150);
    const y = trendTop + 110 - ((point.overall - 1) / 4) * 90;
    return { x, y, point };
  });
  const trend = [
    `<text x="20" y="${trendTop + 16}" font-size="15" font-weight="bold">CSAT trend (overall, by day)</text>`,
    `<line x1="200" y1="${trendTop + 110}" x2="500" y2="${trendTop + 110}" stroke="#999"/>`,
    `<text x="170" y="${trendTop + 114}" font-size="11">1</text><text x="170" y="${trendTop + 24}" font-size="11">5</text>`,
    points.length > 1
      ? `<polyline fill="none" stroke="#2f6fde" stroke-width="2" points="${points.map(({ x, y }) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`
      : '',
    ...points.map(
      ({ x, y, point }) =>
        `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="#2f6fde"><title>${escapeXml(`${point.date}: ${point.overall}`)}</title></circle>`,
    ),
    points.length === 0 ? `<text x="200" y="${trendTop + 70}" font-size="13">no callbacks</text>` : '',
  ].join('');
  const parts = report.parts;
  const shareOf = parts.stockOuts.sharePercent === null ? '' : ` (${parts.stockOuts.sharePercent} %)`;
  const partsTop = 600;
  const partsBlock = [
    `<text x="20" y="${partsTop + 16}" font-size="15" font-weight="bold">Parts (issued in the period, at unit cost)</text>`,
    `<text x="20" y="${partsTop + 40}" font-size="13">${escapeXml(
      `${parts.issued.quantity} issued to ${parts.issued.tickets} tickets, ${yuan(parts.issued.value)}; ` +
        `average ${yuan(parts.averagePartsCostPerTicket)} per ticket; ` +
        `stock-outs delayed ${parts.stockOuts.tickets} of ${parts.stockOuts.ticketsRequestingParts} tickets${shareOf}`,
    )}</text>`,
    `<text x="20" y="${partsTop + 62}" font-size="13">${escapeXml(
      `Top: ${
        parts.topConsumed.map((part) => `${part.partNumber} (${part.model}) × ${part.quantity}`).join(', ') ||
        'none'
      }`,
    )}</text>`,
    `<text x="20" y="${partsTop + 84}" font-size="13">${escapeXml(
      `Turnover ${parts.turnover ?? 'n/a'} (issued at cost over the stock now, ${yuan(parts.stockNow.value)})`,
    )}</text>`,
  ].join('');
  const targetsTop = 690;
  const targetsBlock = [
    `<text x="20" y="${targetsTop + 16}" font-size="15" font-weight="bold">KPIs against their targets</text>`,
    ...report.targets.map((kpi, index) => {
      const shown = kpi.value === null ? 'n/a' : `${kpi.value} %`;
      const verdict = kpi.met === null ? '' : kpi.met ? ' ✓' : ' ✗ below target';
      return `<text x="20" y="${targetsTop + 40 + index * 22}" font-size="13">${escapeXml(
        `${KPI_LABELS[kpi.kpi]}: ${shown} (target ≥ ${kpi.target} %)${verdict}`,
      )}</text>`;
    }),
    `<text x="20" y="${targetsTop + 40 + report.targets.length * 22}" font-size="13">${escapeXml(
      `Top problems: ${
        report.topProblems.map((problem) => `${problem.label} (${problem.sharePercent} %)`).join(', ') ||
        'none'
      }`,
    )}</text>`,
  ].join('');
  const title = `Aftercare · ${report.period.from} – ${report.period.to} (${report.period.timeZone}) · ${report.tickets.total} tickets`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="910" viewBox="0 0 640 910" font-family="sans-serif">',
    '<rect width="640" height="910" fill="#fff"/>',
    `<text x="20" y="30" font-size="17" font-weight="bold">${escapeXml(title)}</text>`,
    sla,
    escalations,
    csat,
    trend,
    partsBlock,
    targetsBlock,
    '</svg>',
  ].join('\n');
}
