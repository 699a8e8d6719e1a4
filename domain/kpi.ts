/**
 * The KPI targets managers read the summary report against (seed 004's monthly table): each a
 * percentage the period's figure should reach. The SLA policy file's `targets` sets them; these
 * are the defaults.
 */
export const KPI_TARGETS = {
  /** 故障一次性解决率 ≥ 90 %. */
  firstTimeFixRatePercent: 90,
  /** 24 小时内回访率 ≥ 90 %. */
  callbackWithin24hPercent: 90,
  /** 不满问题 24 小时内响应率 100 %. */
  complaintResponseWithin24hPercent: 100,
  /** 上门准时率 ≥ 95 %. */
  onTimeArrivalPercent: 95,
  /** 工单创建后5分钟内触发派单: every ticket that needs an engineer offered to one within 5 minutes. */
  dispatchWithin5mPercent: 100,
  /** 工程师确认响应率100%: every offer accepted or declined within 15 minutes. */
  offersAnsweredWithin15mPercent: 100,
  /** 工单接收后30分钟内完成预约: every accepted ticket's visit booked within 30 minutes. */
  bookedWithin30mPercent: 100,
} as const;

export type KpiName = keyof typeof KPI_TARGETS;
export type KpiTargets = Readonly<Record<KpiName, number>>;
export const KPI_NAMES = Object.keys(KPI_TARGETS) as KpiName[];

export interface KpiAgainstTarget {
  readonly kpi: KpiName;
  /** The period's figure; null when nothing in the period counts towards it. */
  readonly value: number | null;
  readonly target: number;
  /** Whether the figure reaches its target; null without a figure. */
  readonly met: boolean | null;
}

/**
 * Each targeted figure beside its target, in the order of `KPI_NAMES`. Targets set before a KPI
 * existed (a monthly report run started with them) lack it: it keeps its default.
 */
export function againstTargets(
  figures: Readonly<Record<KpiName, number | null>>,
  targets: Readonly<Partial<KpiTargets>>,
): KpiAgainstTarget[] {
  return KPI_NAMES.map((kpi) => {
    const value = figures[kpi];
    const target = targets[kpi] ?? KPI_TARGETS[kpi];
    return { kpi, value, target, met: value === null ? null : value >= target };
  });
}
