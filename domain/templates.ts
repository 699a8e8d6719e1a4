import { DateTime } from 'luxon';
import { formatYuan } from './money';
import type { MonthlyReportOverdueNotice, MonthlyReportReadyNotice } from './monthly-report';
import type { LowStockNotice } from './parts';
import type { Language, NotificationKind, NotificationRecord } from './ticket';

/**
 * Message templates per notification kind and language. Personal data stays out of the text: the
 * customer is addressed without a name (the channel already knows the phone or address), staff
 * notices name only the ticket.
 */
export interface RenderedMessage {
  readonly subject: string;
  readonly body: string;
}

interface TemplateContext {
  readonly number: string;
  readonly data: NotificationRecord['data'];
  /** Local time of an instant in the business time zone: "2026-11-25 14:00". */
  readonly local: (iso: unknown) => string;
}

type Template = (context: TemplateContext) => RenderedMessage;

const LEVEL_ROLE: Record<Language, Record<number, string>> = {
  'zh-CN': { 1: '主管', 2: '经理', 3: '总监' },
  en: { 1: 'supervisor', 2: 'manager', 3: 'director' },
};

/** Clock names as staff read them (the policy field names are the API's). */
const CLOCK_NAMES_READ: Record<Language, Record<string, string>> = {
  'zh-CN': {
    firstResponse: '首次响应',
    plan: '处理方案',
    criticalTemporaryPlan: '临时方案',
    customerContact: '联系客户',
    resolution: '解决时限',
    callback: '回访',
    complaintFollowUp: '投诉跟进',
    directorPlan: '总监方案',
    partsWait: '配件等待',
    partsApproval: '配件审批',
    planDeadline: '方案期限',
    rectification: '限期整改',
    replacementShipment: '换货发货',
    replacementConfirmation: '换货确认',
    unitReturn: '原机寄回',
    returnInspection: '退货检验',
    returnNegotiation: '退货协商',
    payment: '收款',
  },
  en: {
    firstResponse: 'first response',
    plan: 'plan',
    criticalTemporaryPlan: 'temporary plan',
    customerContact: 'customer contact',
    resolution: 'resolution',
    callback: 'callback',
    complaintFollowUp: 'complaint follow-up',
    directorPlan: 'director plan',
    partsWait: 'parts wait',
    partsApproval: 'parts approval',
    planDeadline: 'plan',
    rectification: 'rectification',
    replacementShipment: 'replacement shipment',
    replacementConfirmation: 'replacement confirmation',
    unitReturn: 'unit return',
    returnInspection: 'return inspection',
    returnNegotiation: 'return negotiation',
    payment: 'payment',
  },
};

const clockRead = (language: Language, clock: unknown) =>
  CLOCK_NAMES_READ[language][String(clock)] ?? String(clock ?? '');

/** The customer's progress SMS, by stage: no name, phone or address, only the ticket number. */
const PROGRESS: Record<Language, Record<string, (number: string) => string>> = {
  'zh-CN': {
    plan_confirmed: (number) => `您好，您的服务单 ${number} 的处理方案已确认，我们将按方案为您处理。`,
    engineer_assigned: (number) => `您好，服务单 ${number} 已安排工程师，工程师将尽快与您联系预约上门时间。`,
    parts_delayed: (number) =>
      `您好，服务单 ${number} 所需配件正在调配，处理时间可能延后，我们会及时告知进度。`,
    resolved: (number) => `您好，服务单 ${number} 已处理完成，感谢您的耐心与支持。`,
  },
  en: {
    plan_confirmed: (number) =>
      `Hello, the plan for your service request ${number} is confirmed; we will proceed with it.`,
    engineer_assigned: (number) =>
      `Hello, an engineer has taken your service request ${number} and will contact you to book a visit.`,
    parts_delayed: (number) =>
      `Hello, the parts for your service request ${number} are on their way; it may take longer. We will keep you posted.`,
    resolved: (number) => `Hello, your service request ${number} is resolved. Thank you for your patience.`,
  },
};

const progressText = (language: Language, number: string, stage: unknown) =>
  PROGRESS[language][String(stage)]?.(number) ??
  (language === 'en'
    ? `Hello, there is news on your service request ${number}.`
    : `您好，您的服务单 ${number} 有新的处理进度。`);
const RETURN_KIND: Record<Language, Record<string, string>> = {
  'zh-CN': { return: '退货', exchange: '换货' },
  en: { return: 'return', exchange: 'exchange' },
};

const REMEDY: Record<Language, Record<string, string>> = {
  'zh-CN': {
    voucher: '代金券',
    free_recheck: '免费上门复查',
    gifted_part: '赠送配件',
    extended_warranty: '延长保修',
  },
  en: {
    voucher: 'a voucher',
    free_recheck: 'a free re-check',
    gifted_part: 'a gifted part',
    extended_warranty: 'extended warranty',
  },
};

const INELIGIBLE: Record<Language, Record<string, (lastDay: string) => string>> = {
  'zh-CN': {
    no_purchase_date: () => '缺少购买日期',
    purchase_after_request: () => '购买日期晚于申请日期',
    window_passed: (lastDay) => `已超过期限（最后一天：${lastDay}）`,
    missing_proofs: () => '缺少所需凭证（购买凭证或原产品）',
  },
  en: {
    no_purchase_date: () => 'no purchase date is known',
    purchase_after_request: () => 'the purchase date is after the request',
    window_passed: (lastDay) => `the window ended on ${lastDay}`,
    missing_proofs: () => 'a required proof (purchase proof or the product) is missing',
  },
};

/** The refusal's reasons (codes in the notification's data) in the customer's language. */
function ineligibleText(language: Language, data: NotificationRecord['data']): string {
  const reasons = Array.isArray(data.reasons) ? (data.reasons as unknown[]) : [];
  return reasons
    .map((reason) => INELIGIBLE[language][String(reason)]?.(String(data.lastDay)))
    .filter((text) => text !== undefined)
    .join(language === 'zh-CN' ? '；' : '; ');
}

const TEMPLATES: Record<Language, Record<NotificationKind, Template>> = {
  'zh-CN': {
    ticket_acknowledged: ({ number }) => ({
      subject: `服务单 ${number} 已受理`,
      body: `您好，您的服务单 ${number} 已受理，我们会尽快安排处理。`,
    }),
    critical_ticket_created: ({ number }) => ({
      subject: `紧急服务单 ${number}`,
      body: `紧急服务单 ${number} 已创建，请立即跟进。`,
    }),
    progress: ({ number, data }) => ({
      subject: `服务单 ${number} 处理进度`,
      body: progressText('zh-CN', number, data.stage),
    }),
    major_complaint: ({ number }) => ({
      subject: `重大投诉：服务单 ${number}`,
      body: `服务单 ${number} 为重大投诉，请立即组织投诉处理会议，制定处理方案并明确责任人和处理期限。`,
    }),
    urgent_ticket_created: ({ number }) => ({
      subject: `客户标记紧急：服务单 ${number}`,
      body: `服务单 ${number} 被标记为紧急，已创建，请主管同步跟进。`,
    }),
    escalation: ({ number, data }) => ({
      subject: `服务单 ${number} 已升级至${LEVEL_ROLE['zh-CN'][Number(data.level)] ?? ''}`,
      body: `服务单 ${number} 已升级（级别 ${String(data.level)}，原因：${String(data.reason)}），请确认处理。`,
    }),
    sms_survey: ({ number }) => ({
      subject: `服务单 ${number} 满意度回访`,
      body: `您好，您的服务单 ${number} 已处理完毕。请回复 1-5 为本次服务评分，感谢您的反馈。`,
    }),
    manual_dispatch_needed: ({ number }) => ({
      subject: `服务单 ${number} 需人工派单`,
      body: `服务单 ${number} 没有匹配的工程师，请人工派单。`,
    }),
    dispatch_offer: ({ number, local, data }) => ({
      subject: `新派单 ${number}`,
      body: `您有新的服务单 ${number}，请在 ${local(data.acceptDueAt)} 前接单。`,
    }),
    appointment_confirmed: ({ number, local, data }) => ({
      subject: `服务单 ${number} 预约${data.rescheduled ? '已改期' : '已确认'}`,
      body: `您好，服务单 ${number} 的上门时间${data.rescheduled ? '已改为' : '为'} ${local(data.slotStart)}。`,
    }),
    appointment_reminder: ({ number, local, data }) => ({
      subject: `服务单 ${number} 上门提醒`,
      body: `提醒：服务单 ${number} 的上门时间为 ${local(data.slotStart)}。`,
    }),
    follow_up_due: ({ number, local, data }) => ({
      subject: `服务单 ${number} 客户投诉待回访`,
      body: `服务单 ${number} 收到客户不满意反馈，请在 ${local(data.dueAt)} 前完成回访并记录改进方案。`,
    }),
    clock_warning: ({ number, local, data }) => ({
      subject: `超时预警：服务单 ${number}`,
      body: `服务单 ${number} 的${clockRead('zh-CN', data.clock)}将于 ${local(data.dueAt)} 超时，请及时处理。`,
    }),
    return_approval_needed: ({ number, local, data }) => ({
      subject: `服务单 ${number} ${RETURN_KIND['zh-CN'][String(data.kind)] ?? ''}待审批`,
      body: `服务单 ${number} 的${RETURN_KIND['zh-CN'][String(data.kind)] ?? ''}申请${data.exception ? '（不符合条件，申请例外）' : ''}请在 ${local(data.dueAt)} 前审批。`,
    }),
    return_refused: ({ number, data }) => ({
      subject: `服务单 ${number} ${RETURN_KIND['zh-CN'][String(data.kind)] ?? ''}申请未通过`,
      body: `您好，服务单 ${number} 的${RETURN_KIND['zh-CN'][String(data.kind)] ?? ''}申请不符合条件：${ineligibleText('zh-CN', data)}。如有疑问请联系客服。`,
    }),
    return_decided: ({ number, local, data }) => ({
      subject: `服务单 ${number} ${RETURN_KIND['zh-CN'][String(data.kind)] ?? ''}申请${data.outcome === 'approved' ? '已批准' : '未批准'}`,
      body:
        data.outcome === 'approved'
          ? `您好，服务单 ${number} 的${RETURN_KIND['zh-CN'][String(data.kind)] ?? ''}申请已批准${data.shipBackBy ? `，请在 ${local(data.shipBackBy)} 前将商品寄回` : '，我们将告知您后续步骤'}。`
          : `您好，服务单 ${number} 的${RETURN_KIND['zh-CN'][String(data.kind)] ?? ''}申请未获批准，客服将与您联系说明原因。`,
    }),
    ship_back_reminder: ({ number, local, data }) => ({
      subject: `服务单 ${number} 退货寄回提醒`,
      body: `提醒：请在 ${local(data.dueAt)} 前将服务单 ${number} 的退货商品寄回，逾期退货申请将自动取消。`,
    }),
    return_lapsed: ({ number }) => ({
      subject: `服务单 ${number} 退货已取消`,
      body: `您好，服务单 ${number} 的退货商品未在期限内寄回，退货申请已取消。`,
    }),
    return_received: ({ number }) => ({
      subject: `服务单 ${number} 退货已签收`,
      body: `您好，我们已签收服务单 ${number} 的退货商品，检验后将为您办理退款。`,
    }),
    return_inspection_failed: ({ number }) => ({
      subject: `服务单 ${number} 退货检验未通过`,
      body: `您好，服务单 ${number} 的退货商品检验未通过（外观或功能），客服将与您协商处理。`,
    }),
    refund_due: ({ number, local, data }) => ({
      subject: `服务单 ${number} 待退款`,
      body: `服务单 ${number} 的退货已检验合格，请在 ${local(data.dueAt)} 前按原支付方式退款。`,
    }),
    refund_issued: ({ number, data }) => ({
      subject: `服务单 ${number} 已退款`,
      body: `您好，服务单 ${number} 已按原支付方式退款 ${formatYuan(Number(data.amountFen))}。`,
    }),
    replacement_needed: ({ number, local, data }) => ({
      subject: `服务单 ${number} 待发换货产品`,
      body: `服务单 ${number} 的换货已批准（第 ${String(data.round)} 轮），请从库存预留并发出换货产品${data.dueAt ? `（${local(data.dueAt)} 前）` : ''}。`,
    }),
    return_inbound: ({ number, data }) => ({
      subject: `服务单 ${number} 退货在途`,
      body: `服务单 ${number} 的退货商品已由客户寄出（${String(data.carrier)}，运单号 ${String(data.trackingNumber)}），请准备签收。`,
    }),
    quote_consented: ({ number, data }) => ({
      subject: `服务单 ${number} 报价已确认`,
      body: `客户已确认服务单 ${number} 的报价（第 ${String(data.round)} 轮，${formatYuan(Number(data.totalFen))}），可以继续维修。`,
    }),
    replacement_answered: ({ number, local, data }) => ({
      subject: `服务单 ${number} 换货${data.accepted ? '已接受' : '被拒收'}`,
      body: data.accepted
        ? `客户已接受服务单 ${number} 的换货产品，请在 ${local(data.unitDueAt)} 前收回原机。`
        : `客户拒收服务单 ${number} 的换货产品（第 ${String(data.round)} 轮），将重新发货。`,
    }),
    unit_to_inspect: ({ number, data }) => ({
      subject: `服务单 ${number} 原机待检验`,
      body: `服务单 ${number} 换货收回的原机已入库（${String(data.partNumber)}，${String(data.locationId)}），请检验。`,
    }),
    quote_sent: ({ number, local, data }) => ({
      subject: `服务单 ${number} 维修报价`,
      body: `您好，服务单 ${number} 已过保修期，维修报价 ${formatYuan(Number(data.totalFen))}（配件、人工、上门费），请在 ${local(data.expiresAt)} 前确认，确认后开始维修；逾期视为放弃，不收取费用。`,
    }),
    payment_received: ({ number, data }) => ({
      subject: `服务单 ${number} 已收款`,
      body: `您好，已收到服务单 ${number} 的维修费用 ${formatYuan(Number(data.amountFen))}，电子发票将发送至您的邮箱。`,
    }),
    invoice_sent: ({ number, data }) => ({
      subject: `服务单 ${number} 电子发票`,
      body: `您好，服务单 ${number} 的电子发票（发票号 ${String(data.invoiceNumber)}，金额 ${formatYuan(Number(data.amountFen))}）已开具，请查收。`,
    }),
    remedy_granted: ({ number, data }) => ({
      subject: `服务单 ${number} 补偿方案`,
      body: `您好，针对服务单 ${number} 给您带来的不便，我们为您提供：${REMEDY['zh-CN'][String(data.kind)] ?? ''}${data.months ? `（${String(data.months)} 个月）` : ''}。`,
    }),
    remedy_approval_needed: ({ number, local, data }) => ({
      subject: `服务单 ${number} 补偿待审批`,
      body: `服务单 ${number} 的补偿（${REMEDY['zh-CN'][String(data.kind)] ?? ''}，${formatYuan(Number(data.valueFen))}）超过 ${formatYuan(Number(data.thresholdFen))}，请在 ${local(data.dueAt)} 前审批。`,
    }),
    replacement_shipped: ({ number, data }) => ({
      subject: `服务单 ${number} 换货产品已发出`,
      body: `您好，服务单 ${number} 的换货产品已由 ${String(data.carrier)} 发出，运单号 ${String(data.trackingNumber)}。`,
    }),
  },
  en: {
    ticket_acknowledged: ({ number }) => ({
      subject: `Ticket ${number} received`,
      body: `Hello, we have received your service request ${number} and are on it.`,
    }),
    critical_ticket_created: ({ number }) => ({
      subject: `Critical ticket ${number}`,
      body: `Critical ticket ${number} was opened. Please take it up now.`,
    }),
    progress: ({ number, data }) => ({
      subject: `Progress on ${number}`,
      body: progressText('en', number, data.stage),
    }),
    major_complaint: ({ number }) => ({
      subject: `Major complaint ${number}`,
      body: `Ticket ${number} is a major complaint. Please hold the complaint meeting and record its plan with an owner and a deadline.`,
    }),
    urgent_ticket_created: ({ number }) => ({
      subject: `Urgent ticket ${number}`,
      body: `Ticket ${number} was opened as urgent. Please follow it up.`,
    }),
    escalation: ({ number, data }) => ({
      subject: `Ticket ${number} escalated to the ${LEVEL_ROLE.en[Number(data.level)] ?? ''}`,
      body: `Ticket ${number} escalated (level ${String(data.level)}, reason: ${String(data.reason)}). Please acknowledge.`,
    }),
    sms_survey: ({ number }) => ({
      subject: `How did we do on ${number}?`,
      body: `Hello, your service request ${number} is complete. Reply 1-5 to rate our service. Thank you.`,
    }),
    manual_dispatch_needed: ({ number }) => ({
      subject: `Ticket ${number} needs manual dispatch`,
      body: `No engineer matches ticket ${number}. Please assign one by hand.`,
    }),
    dispatch_offer: ({ number, local, data }) => ({
      subject: `New job ${number}`,
      body: `Ticket ${number} is offered to you. Please accept by ${local(data.acceptDueAt)}.`,
    }),
    appointment_confirmed: ({ number, local, data }) => ({
      subject: `Appointment for ${number} ${data.rescheduled ? 'moved' : 'confirmed'}`,
      body: `Hello, your appointment for ${number} is ${data.rescheduled ? 'now ' : ''}on ${local(data.slotStart)}.`,
    }),
    appointment_reminder: ({ number, local, data }) => ({
      subject: `Reminder: appointment for ${number}`,
      body: `Reminder: our engineer visits for ${number} on ${local(data.slotStart)}.`,
    }),
    follow_up_due: ({ number, local, data }) => ({
      subject: `Complaint follow-up due on ${number}`,
      body: `The customer of ${number} is not satisfied. Record the follow-up and a second plan by ${local(data.dueAt)}.`,
    }),
    clock_warning: ({ number, local, data }) => ({
      subject: `Deadline warning: ticket ${number}`,
      body: `The ${clockRead('en', data.clock)} deadline of ticket ${number} is at ${local(data.dueAt)}. Please act before it passes.`,
    }),
    return_approval_needed: ({ number, local, data }) => ({
      subject: `${RETURN_KIND.en[String(data.kind)] ?? ''} on ${number} waits for approval`,
      body: `The ${RETURN_KIND.en[String(data.kind)] ?? ''} request on ${number}${data.exception ? ' (not eligible: an exception is asked for)' : ''} needs your approve or reject by ${local(data.dueAt)}.`,
    }),
    return_refused: ({ number, data }) => ({
      subject: `Your ${RETURN_KIND.en[String(data.kind)] ?? ''} request ${number} is not eligible`,
      body: `Hello, your ${RETURN_KIND.en[String(data.kind)] ?? ''} request ${number} cannot be accepted: ${ineligibleText('en', data)}. Contact us with any question.`,
    }),
    return_decided: ({ number, local, data }) => ({
      subject: `Your ${RETURN_KIND.en[String(data.kind)] ?? ''} request ${number} is ${data.outcome === 'approved' ? 'approved' : 'not approved'}`,
      body:
        data.outcome === 'approved'
          ? `Hello, your ${RETURN_KIND.en[String(data.kind)] ?? ''} request ${number} is approved; ${data.shipBackBy ? `please ship the product back by ${local(data.shipBackBy)}` : 'we will tell you the next steps'}.`
          : `Hello, your ${RETURN_KIND.en[String(data.kind)] ?? ''} request ${number} is not approved; our service desk will call you with the reason.`,
    }),
    ship_back_reminder: ({ number, local, data }) => ({
      subject: `Reminder: ship back the return ${number}`,
      body: `Reminder: please ship the product of return ${number} back by ${local(data.dueAt)}, or the return is cancelled.`,
    }),
    return_lapsed: ({ number }) => ({
      subject: `Return ${number} cancelled`,
      body: `Hello, the product of return ${number} did not arrive in time; the return is cancelled.`,
    }),
    return_received: ({ number }) => ({
      subject: `Return ${number} received`,
      body: `Hello, we signed for the product of return ${number}; after inspection we refund it.`,
    }),
    return_inspection_failed: ({ number }) => ({
      subject: `Return ${number} did not pass inspection`,
      body: `Hello, the product of return ${number} did not pass inspection (appearance or function); our service desk will call you to agree what follows.`,
    }),
    refund_due: ({ number, local, data }) => ({
      subject: `Refund due on ${number}`,
      body: `The return ${number} passed inspection. Refund it through the original payment method by ${local(data.dueAt)}.`,
    }),
    refund_issued: ({ number, data }) => ({
      subject: `Refund for ${number}`,
      body: `Hello, ${formatYuan(Number(data.amountFen))} for ${number} was refunded through your original payment method.`,
    }),
    replacement_needed: ({ number, local, data }) => ({
      subject: `Replacement due on ${number}`,
      body: `The exchange ${number} is approved (round ${String(data.round)}). Reserve a replacement from stock and ship it${data.dueAt ? ` by ${local(data.dueAt)}` : ''}.`,
    }),
    return_inbound: ({ number, data }) => ({
      subject: `Return ${number} on its way`,
      body: `The customer shipped the product of return ${number} (${String(data.carrier)}, tracking ${String(data.trackingNumber)}). Expect the parcel.`,
    }),
    quote_consented: ({ number, data }) => ({
      subject: `Quote on ${number} accepted`,
      body: `The customer accepted the quote on ${number} (round ${String(data.round)}, ${formatYuan(Number(data.totalFen))}). The work may go on.`,
    }),
    replacement_answered: ({ number, local, data }) => ({
      subject: `Replacement on ${number} ${data.accepted ? 'accepted' : 'refused'}`,
      body: data.accepted
        ? `The customer accepted the replacement on ${number}. Take the unit back by ${local(data.unitDueAt)}.`
        : `The customer refused the replacement on ${number} (round ${String(data.round)}); another is shipped.`,
    }),
    unit_to_inspect: ({ number, data }) => ({
      subject: `Unit of ${number} to inspect`,
      body: `The unit taken back on ${number} is booked in (${String(data.partNumber)} at ${String(data.locationId)}). Please inspect it.`,
    }),
    quote_sent: ({ number, local, data }) => ({
      subject: `Quote for ${number}`,
      body: `Hello, ${number} is out of warranty. The repair costs ${formatYuan(Number(data.totalFen))} (parts, labour, visit). Please consent by ${local(data.expiresAt)} and we start; without an answer nothing is done or charged.`,
    }),
    payment_received: ({ number, data }) => ({
      subject: `Payment received for ${number}`,
      body: `Hello, we received ${formatYuan(Number(data.amountFen))} for ${number}; the e-invoice follows by e-mail.`,
    }),
    invoice_sent: ({ number, data }) => ({
      subject: `E-invoice for ${number}`,
      body: `Hello, the e-invoice for ${number} (number ${String(data.invoiceNumber)}, ${formatYuan(Number(data.amountFen))}) is issued.`,
    }),
    remedy_granted: ({ number, data }) => ({
      subject: `A remedy for ${number}`,
      body: `Hello, for the trouble with ${number} we offer you: ${REMEDY.en[String(data.kind)] ?? ''}${data.months ? ` (${String(data.months)} months)` : ''}.`,
    }),
    remedy_approval_needed: ({ number, local, data }) => ({
      subject: `Remedy on ${number} waits for approval`,
      body: `The remedy on ${number} (${REMEDY.en[String(data.kind)] ?? ''}, ${formatYuan(Number(data.valueFen))}) is above ${formatYuan(Number(data.thresholdFen))}. Please decide by ${local(data.dueAt)}.`,
    }),
    replacement_shipped: ({ number, data }) => ({
      subject: `Your replacement for ${number} is on its way`,
      body: `Hello, the replacement for ${number} was shipped by ${String(data.carrier)}, tracking number ${String(data.trackingNumber)}.`,
    }),
  },
};

export function renderNotification(
  notification: Pick<NotificationRecord, 'kind' | 'ticketNumber' | 'data'>,
  language: Language,
  timeZone: string,
): RenderedMessage {
  const local = (iso: unknown) =>
    typeof iso === 'string' ? DateTime.fromISO(iso, { zone: timeZone }).toFormat('yyyy-MM-dd HH:mm') : '';
  return TEMPLATES[language][notification.kind]({
    number: notification.ticketNumber,
    data: notification.data,
    local,
  });
}

export interface SubscriptionPausedNotice {
  readonly subscriptionId: string;
  /** The receiver's host only: a URL may carry credentials in its path or query. */
  readonly host: string;
  readonly reason: string;
}

/** The notice to managers that a webhook subscription was paused because its receiver kept failing. */
export function renderSubscriptionPaused(
  notice: SubscriptionPausedNotice,
  language: Language,
): RenderedMessage {
  return language === 'en'
    ? {
        subject: `Webhook to ${notice.host} paused`,
        body: `Webhook subscription ${notice.subscriptionId} (${notice.host}) was paused: ${notice.reason}. Fix the receiver, then set it active again.`,
      }
    : {
        subject: `Webhook 订阅已暂停（${notice.host}）`,
        body: `Webhook 订阅 ${notice.subscriptionId}（${notice.host}）已自动暂停：${notice.reason}。请修复接收端后重新启用。`,
      };
}

/** The notice to the parts group and the supervisor that a part fell below its safety stock. */
export function renderLowStock(notice: LowStockNotice, language: Language): RenderedMessage {
  const { partNumber, name, available, safetyStock } = notice;
  return language === 'en'
    ? {
        subject: `Part ${partNumber} below safety stock`,
        body: `Part ${partNumber} (${name}) has ${available} available, below its safety stock of ${safetyStock}. Please reorder or transfer stock.`,
      }
    : {
        subject: `配件 ${partNumber} 低于安全库存`,
        body: `配件 ${partNumber}（${name}）可用库存 ${available}，低于安全库存 ${safetyStock}，请及时采购或调货。`,
      };
}

/** The managers' notice that last month's report is ready, with where to read it. */
export function renderMonthlyReportReady(
  notice: MonthlyReportReadyNotice,
  language: Language,
): RenderedMessage {
  const { month, links } = notice;
  return language === 'en'
    ? {
        subject: `After-sales report for ${month}`,
        body: `The after-sales report for ${month} is ready: ${links.json} (CSV ${links.csv}, chart ${links.svg}).`,
      }
    : {
        subject: `${month} 售后数据统计分析表`,
        body: `${month} 售后数据统计分析表已生成：${links.json}（CSV ${links.csv}，图表 ${links.svg}）。`,
      };
}

/** The director's notice that a month's report was not delivered by the 5th. */
export function renderMonthlyReportOverdue(
  notice: MonthlyReportOverdueNotice,
  language: Language,
  timeZone: string,
): RenderedMessage {
  const due = DateTime.fromISO(notice.dueAt, { zone: timeZone }).minus({ days: 1 }).toISODate();
  const what =
    language === 'en'
      ? notice.produced
        ? 'was produced but not delivered'
        : 'was not produced'
      : notice.produced
        ? '已生成但未送达'
        : '未能生成';
  return language === 'en'
    ? {
        subject: `After-sales report for ${notice.month} overdue`,
        body: `The after-sales report for ${notice.month} ${what} by ${due}. Please follow up with the after-sales managers.`,
      }
    : {
        subject: `${notice.month} 售后数据统计逾期`,
        body: `${notice.month} 售后数据统计分析表${what}（应于 ${due} 前完成），请督促售后经理处理。`,
      };
}
