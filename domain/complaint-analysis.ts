import type { ActionInput } from './action-inputs';
import { isClockRunning, meetClock, startClock } from './clocks';
import type { SlaPolicy } from './policy';
import { scoreBand } from './quality';
import type { Actor, Role, TicketChange, TicketState } from './ticket';
import { appendEvent } from './timeline';

/**
 * Complaint and dissatisfaction analysis (seeds 000, 002, 004): the taxonomies a ticket is
 * classified by, what a low callback must name, the QC review's three aspects and the rectification
 * a failed review owes, and what handling a complaint cost. Pure: the lifecycle wires it in.
 */

/**
 * What the problem was (seed 000's 故障类 and 投诉类 sub-types, seed 004's Top 3 problems); each value's
 * Chinese label is what reports print beside it.
 */
export const COMPLAINT_TYPES = [
  'component_damaged',
  'malfunction',
  'below_spec',
  'poor_attitude',
  'slow_handling',
  'repeat_fault',
  'parts_shortage',
  'insufficient_skill',
  'unclear_fees',
  'other',
] as const;
export type ComplaintType = (typeof COMPLAINT_TYPES)[number];
export const COMPLAINT_TYPE_LABELS: Readonly<Record<ComplaintType, string>> = {
  component_damaged: '零部件损坏',
  malfunction: '功能异常',
  below_spec: '功能不达标',
  poor_attitude: '服务态度差',
  slow_handling: '处理不及时',
  repeat_fault: '重复故障',
  parts_shortage: '配件缺货导致延迟',
  insufficient_skill: '工程师技能不足导致二次上门',
  unclear_fees: '客户对费用不清晰',
  other: '其他',
};

/** Seed 002's problem type code: Q 质量, S 服务, P 产品. */
export const PROBLEM_TYPES = ['quality', 'service', 'product'] as const;
export type ProblemType = (typeof PROBLEM_TYPES)[number];
export const PROBLEM_TYPE_LABELS: Readonly<Record<ProblemType, string>> = {
  quality: 'Q 质量',
  service: 'S 服务',
  product: 'P 产品',
};

/** Who is liable (seed 000: 明确责任方 — 产品质量、客户使用、运输损坏等). */
export const LIABILITIES = ['product_quality', 'customer_use', 'transport', 'service', 'other'] as const;
export type Liability = (typeof LIABILITIES)[number];
export const LIABILITY_LABELS: Readonly<Record<Liability, string>> = {
  product_quality: '产品质量',
  customer_use: '客户使用',
  transport: '运输损坏',
  service: '服务过失',
  other: '其他',
};

/** Seed 004's 不满问题分类, required on a callback scoring 3 or less. */
export const DISSATISFACTION_CATEGORIES = [
  'slow_response',
  'lacks_expertise',
  'poor_attitude',
  'fee_dispute',
  'other',
] as const;
export type DissatisfactionCategory = (typeof DISSATISFACTION_CATEGORIES)[number];
export const DISSATISFACTION_LABELS: Readonly<Record<DissatisfactionCategory, string>> = {
  slow_response: '响应慢',
  lacks_expertise: '专业不足',
  poor_attitude: '态度差',
  fee_dispute: '费用争议',
  other: '其他',
};

/** Seed 000's satisfaction with the result: 非常满意/满意/一般/不满意. */
export const SATISFACTION_LEVELS = ['very_satisfied', 'satisfied', 'average', 'dissatisfied'] as const;
export type SatisfactionLevel = (typeof SATISFACTION_LEVELS)[number];
export const SATISFACTION_LABELS: Readonly<Record<SatisfactionLevel, string>> = {
  very_satisfied: '非常满意',
  satisfied: '满意',
  average: '一般',
  dissatisfied: '不满意',
};

/** Seed 000's QC checklist: 服务规范性, 处理有效性, 客户沟通. */
export const QC_ASPECTS = ['compliance', 'effectiveness', 'communication'] as const;
export type QcAspect = (typeof QC_ASPECTS)[number];
export const QC_ASPECT_LABELS: Readonly<Record<QcAspect, string>> = {
  compliance: '服务规范性',
  effectiveness: '处理有效性',
  communication: '客户沟通',
};

/** What a complaint's handling cost covers, item by item (seed 004: 投诉处理成本). */
export const HANDLING_COST_ITEMS = ['revisit', 'staff_time', 'goodwill', 'logistics', 'other'] as const;
export type HandlingCostItem = (typeof HANDLING_COST_ITEMS)[number];

/** The taxonomies a classification may set: recorded on the ticket, counted in the summary report. */
export interface TicketAnalysis {
  complaintType?: ComplaintType;
  problemType?: ProblemType;
  liability?: Liability;
}
export const ANALYSIS_FIELDS = ['complaintType', 'problemType', 'liability'] as const;

/** A failed QC review's rectification (seed 000: 不合格项需反馈至服务人员限期整改). */
export interface Rectification {
  responsible: { id: string; role: Role };
  dueAt: string;
  orderedAt: string;
  doneAt: string | null;
  note?: string;
}

export interface HandlingCost {
  at: string;
  actorId: string;
  items: { kind: HandlingCostItem; amountFen: number }[];
  totalFen: number;
  note?: string;
}

/** Any of the six scores at 3 or less (seed 004: 若评分≤3分,需选择问题类型). */
export function scoresLow(scores: Readonly<Record<string, number>>): boolean {
  return Object.values(scores).some((value) => value <= 3);
}

/**
 * Why a callback's dissatisfaction category is wrong, or undefined: a low score needs one, and
 * only a dissatisfied callback (a low score, or satisfaction 一般 / 不满意) may carry one.
 */
export function dissatisfactionRefusal(input: ActionInput<'callback'>): string | undefined {
  const low = scoresLow(input.scores);
  if (low && input.dissatisfaction === undefined) {
    return `a callback scoring 3 or less names its dissatisfaction (${DISSATISFACTION_CATEGORIES.join(', ')})`;
  }
  const dissatisfied = low || input.satisfaction === 'average' || input.satisfaction === 'dissatisfied';
  if (!dissatisfied && input.dissatisfaction !== undefined) {
    return 'dissatisfaction is recorded on a dissatisfied callback (a score of 3 or less, or satisfaction average or dissatisfied)';
  }
  return undefined;
}

/** The review's score: as given, or the mean of its three aspects (each 0–100), rounded. */
export function reviewScore(input: Pick<ActionInput<'qc-review'>, 'score' | 'aspects'>): number {
  if (input.aspects === undefined) return input.score ?? 0;
  const values = QC_ASPECTS.map((aspect) => input.aspects?.[aspect] ?? 0);
  return Math.round(values.reduce((sum, value) => sum + value, 0) / values.length);
}

/**
 * Why a QC review's rectification fields are wrong, or undefined. On a ticket that owes
 * rectifications (`analysesComplaints`), a failed review names the person responsible; only a
 * failed review names one or a deadline, and the deadline lies ahead.
 */
export function rectificationOrderRefusal(
  state: TicketState,
  input: ActionInput<'qc-review'>,
  nowMs: number,
): string | undefined {
  const failed = scoreBand(reviewScore(input)) === 'fail';
  if (!failed && (input.responsible !== undefined || input.rectifyBy !== undefined)) {
    return 'only a failed review (score below 70) names a responsible person and a rectification deadline';
  }
  if (failed && state.analysesComplaints && input.responsible === undefined) {
    return 'a failed review names the person responsible for the rectification (responsible)';
  }
  if (input.rectifyBy !== undefined && Date.parse(input.rectifyBy) <= nowMs) {
    return 'rectifyBy must be in the future';
  }
  return undefined;
}

/**
 * A failed review with a responsible person orders a rectification by `rectifyBy` (or the policy's
 * `rectification` from now): the rectification clock.
 */
export function orderRectification(
  state: TicketState,
  input: ActionInput<'qc-review'>,
  { nowMs, actor, policy }: { nowMs: number; actor: Actor; policy: SlaPolicy },
  change: TicketChange,
): void {
  if (input.responsible === undefined) return;
  const dueAtMs = input.rectifyBy === undefined ? undefined : Date.parse(input.rectifyBy);
  const clock = startClock(state, 'rectification', nowMs, policy, dueAtMs);
  state.rectification = {
    responsible: { ...input.responsible },
    dueAt: clock.dueAt,
    orderedAt: clock.startedAt,
    doneAt: null,
  };
  appendEvent(state, change, 'rectification_ordered', nowMs, actor, {
    responsibleId: input.responsible.id,
    responsibleRole: input.responsible.role,
    dueAt: clock.dueAt,
  });
}

export function rectifiedRefusal(state: TicketState): string | undefined {
  return isClockRunning(state, 'rectification') ? undefined : 'no rectification is due on this ticket';
}

/** `record-rectification`: the responsible person's rectification is done; its clock stops. */
export function recordRectification(
  state: TicketState,
  input: ActionInput<'record-rectification'>,
  { nowMs, actor }: { nowMs: number; actor: Actor },
  change: TicketChange,
): void {
  meetClock(state, 'rectification', nowMs);
  const rectification = state.rectification as Rectification;
  rectification.doneAt = new Date(nowMs).toISOString();
  rectification.note = input.note;
  appendEvent(state, change, 'rectification_recorded', nowMs, actor, {
    ...input,
    responsibleId: rectification.responsible.id,
    late: nowMs > Date.parse(rectification.dueAt),
  });
}

/** A complaint: a ticket opened as one, or one with a dissatisfied callback. */
export function isComplaintTicket(state: TicketState): boolean {
  return state.intake.category === 'complaint' || state.complaints > 0;
}

export function handlingCostRefusal(state: TicketState): string | undefined {
  return isComplaintTicket(state)
    ? undefined
    : 'a handling cost is recorded on a complaint (a ticket opened as one, or after a dissatisfied callback)';
}

/** `record-handling-cost`: what handling the complaint cost, item by item, in integer fen. */
export function recordHandlingCost(
  state: TicketState,
  input: ActionInput<'record-handling-cost'>,
  { nowMs, actor }: { nowMs: number; actor: Actor },
  change: TicketChange,
): void {
  const totalFen = input.items.reduce((sum, item) => sum + item.amountFen, 0);
  const cost: HandlingCost = {
    at: new Date(nowMs).toISOString(),
    actorId: actor.id,
    items: input.items.map((item) => ({ ...item })),
    totalFen,
    ...(input.note ? { note: input.note } : {}),
  };
  state.handlingCosts = [...(state.handlingCosts ?? []), cost];
  appendEvent(state, change, 'handling_cost_recorded', nowMs, actor, { ...input, totalFen });
}

/** `classify`'s taxonomy fields, merged into what the ticket already records. */
export function classifyAnalysis(
  state: TicketState,
  input: Partial<TicketAnalysis>,
): TicketAnalysis | undefined {
  const given = Object.fromEntries(
    ANALYSIS_FIELDS.filter((field) => input[field] !== undefined).map((field) => [field, input[field]]),
  ) as TicketAnalysis;
  if (Object.keys(given).length === 0) return undefined;
  state.analysis = { ...state.analysis, ...given };
  return given;
}
