import { log } from '@temporalio/activity';
import type { Database } from '../db/client';
import {
  findEngineerLoad,
  releaseManualAssignment,
  reserveEngineer,
  reserveManualAssignment,
} from '../db/engineer-store';
import {
  releaseUnplanned,
  settleReservations,
  type PlanRelease,
  type PlanReleaseAnswer,
  type Settlement,
} from '../db/parts-store';
import { applyRetention } from '../db/retention-store';
import {
  escalateMonthlyReport,
  monthlyReportDelivered,
  produceMonthlyReport,
} from '../db/monthly-report-store';
import { catalogPrices, type PartPrices } from '../db/money-store';
import {
  bookReturnedUnit,
  issueReplacement,
  returnRefusedReplacement,
  type RefusedReplacement,
  type ReplacementIssue,
  type ReturnedUnit,
} from '../db/returns-store';
import { saveTicketChange } from '../db/ticket-store';
import type { AssignRefusal, DispatchNeeds, EngineerLoad } from '../domain/dispatch';
import type { TicketChange, TicketState } from '../domain/ticket';
import type { KpiTargets } from '../domain/kpi';
import type { MonthlyReportOverdueNotice } from '../domain/monthly-report';
import type { RetentionCounts, RetentionInput } from '../domain/retention';

export interface ActivityDependencies {
  readonly db: Database;
}

export interface RecordTicketChangeInput {
  readonly ticket: TicketState;
  readonly change: TicketChange;
}

export interface EngineerLoadInput {
  readonly engineerId: string;
  readonly ticketNumber: string;
}

export interface ReserveAssigneeInput {
  readonly ticketNumber: string;
  readonly engineerId: string;
  readonly overCapacity: boolean;
  readonly attempt: number;
}

export interface ReleaseAssigneeInput {
  readonly ticketNumber: string;
  readonly engineerId: string;
  readonly assignee: string | null;
  readonly holds: boolean;
}

export interface ProduceMonthlyReportInput {
  readonly month: string;
  readonly timeZone: string;
  readonly targets: KpiTargets;
}

/** A month's report is the heaviest read there is: it gets longer than an API request's budget. */
const MONTHLY_REPORT_TIMEOUT_MS = 5 * 60_000;

export interface FindEngineerInput {
  readonly ticketNumber: string;
  readonly attempt: number;
  readonly needs: DispatchNeeds;
  readonly exclude: readonly string[];
}

/**
 * The ticket workflow's I/O. Every activity is idempotent: a retry writes nothing twice. What a
 * change queues to send (notifications, webhooks) is written with it, and a delivery relay sends
 * it: no receiver can hold up a ticket's write.
 */
export function createActivities({ db }: ActivityDependencies) {
  return {
    async recordTicketChange({ ticket, change }: RecordTicketChangeInput): Promise<void> {
      const deliveryIds = await saveTicketChange(db, ticket, change);
      log.info('ticket change recorded', {
        ticketNumber: ticket.number,
        version: ticket.version,
        events: change.events.map((event) => event.type),
        escalations: change.escalations.map((escalation) => escalation.id),
        deliveries: deliveryIds.length,
      });
    },

    /**
     * Picks the least-loaded matching engineer and reserves the place in the same transaction; the
     * same attempt retried finds the same engineer. Null when nobody matches.
     */
    async findEngineer({ ticketNumber, attempt, needs, exclude }: FindEngineerInput): Promise<string | null> {
      const engineerId = await reserveEngineer(db, {
        ticketNumber,
        attempt,
        needs,
        exclude,
        assignedAt: new Date().toISOString(),
      });
      log.info('dispatch searched', { ticketNumber, attempt, matched: engineerId !== null });
      return engineerId;
    },

    /**
     * A manual assignment's engineer: active, capacity, and its load apart from this ticket; null if
     * none. Only assigns that ran before the workflow reserved their place (patch
     * 'assign-reserves-engineer') replay through it.
     */
    async engineerLoad({ engineerId, ticketNumber }: EngineerLoadInput): Promise<EngineerLoad | null> {
      return (await findEngineerLoad(db, engineerId, ticketNumber)) ?? null;
    },

    /**
     * A manual assign's engineer checked and its place reserved under the dispatch lock: null when
     * reserved, else why not. A retry checks again and writes the same.
     */
    async reserveAssignee(input: ReserveAssigneeInput): Promise<AssignRefusal | null> {
      const refusal = await reserveManualAssignment(db, { ...input, assignedAt: new Date().toISOString() });
      log.info('manual assign reserved', {
        ticketNumber: input.ticketNumber,
        engineerId: input.engineerId,
        reserved: refusal === null,
        overCapacity: input.overCapacity,
      });
      return refusal;
    },

    /** The place a refused manual assign reserved, given back to what the ticket's state says. */
    async releaseAssignee(input: ReleaseAssigneeInput): Promise<void> {
      const released = await releaseManualAssignment(db, input);
      log.info('manual assign reservation released', {
        ticketNumber: input.ticketNumber,
        engineerId: input.engineerId,
        released,
      });
    },

    /**
     * Settles the parts a ticket holds when it is resolved (used ones issued, the rest released) or
     * cancelled (all released). Keyed by the workflow step: a retry writes nothing twice.
     */
    async settleTicketParts(settlement: Settlement): Promise<void> {
      const { issued, released, unreserved } = await settleReservations(db, settlement);
      log.info('ticket parts settled', {
        ticketNumber: settlement.ticketNumber,
        outcome: settlement.outcome,
        key: settlement.key,
        issued,
        released,
        // Used parts the ticket had not reserved: they came from elsewhere, not from stock.
        usedWithoutReservation: unreserved,
      });
    },

    /**
     * A changed plan: what the ticket holds or awaits beyond the plan's parts is let go. Keyed by
     * the workflow step: a retry writes nothing twice and answers what the first run did.
     */
    async releaseUnplannedParts(release: PlanRelease): Promise<PlanReleaseAnswer> {
      const answer = await releaseUnplanned(db, release);
      log.info('ticket parts released for a changed plan', {
        ticketNumber: release.ticketNumber,
        key: release.key,
        released: answer.released,
        withdrawn: answer.withdrawn,
      });
      return answer;
    },

    /** A quote's catalogue unit prices (fen), and the part numbers the catalogue does not have. */
    async quotePrices(partNumbers: string[]): Promise<PartPrices> {
      return catalogPrices(db, partNumbers);
    },

    /** An exchange's replacement leaves stock from the ticket's reservation; how many were issued. */
    async issueExchangeReplacement(issue: ReplacementIssue): Promise<number> {
      const issued = await issueReplacement(db, issue);
      log.info('exchange replacement issued', { ticketNumber: issue.ticketNumber, key: issue.key, issued });
      return issued;
    },

    /** A replacement the customer refused is booked back into stock; how many units came back. */
    async restockRefusedReplacement(refused: RefusedReplacement): Promise<number> {
      const returned = await returnRefusedReplacement(db, refused);
      log.info('refused replacement restocked', {
        ticketNumber: refused.ticketNumber,
        key: refused.key,
        returned,
      });
      return returned;
    },

    /** An exchange's unit taken back is booked into stock; why it cannot be, or null. */
    async bookExchangedUnit(unit: ReturnedUnit): Promise<string | null> {
      const refusal = await bookReturnedUnit(db, unit);
      log.info('exchanged unit booked', {
        ticketNumber: unit.ticketNumber,
        key: unit.key,
        disposition: unit.disposition,
        booked: refusal === null,
      });
      return refusal;
    },

    /** The month's report, produced and queued to the managers once per month (a repeat is a no-op). */
    async produceMonthlyReport(input: ProduceMonthlyReportInput): Promise<boolean> {
      const produced = await produceMonthlyReport(db, { ...input, timeoutMs: MONTHLY_REPORT_TIMEOUT_MS });
      log.info('monthly report', { month: input.month, producedNow: produced });
      return produced;
    },

    async monthlyReportDelivered(month: string): Promise<boolean> {
      return monthlyReportDelivered(db, month);
    },

    /** The director's notice that the month's report missed the 5th, once per month. */
    async escalateMonthlyReport(notice: Omit<MonthlyReportOverdueNotice, 'produced'>): Promise<boolean> {
      const escalated = await escalateMonthlyReport(db, notice);
      log.info('monthly report overdue', { month: notice.month, escalatedNow: escalated });
      return escalated;
    },

    /** The retention run: anonymises old finished tickets, deletes expired claims and old deliveries. */
    async applyRetention({ closedTicketsMs, deliveriesMs }: RetentionInput): Promise<RetentionCounts> {
      const nowMs = Date.now();
      const counts = await applyRetention(db, {
        closedTicketsBefore: new Date(nowMs - closedTicketsMs).toISOString(),
        deliveriesBefore: new Date(nowMs - deliveriesMs).toISOString(),
      });
      log.info('retention applied', { ...counts });
      return counts;
    },
  };
}

export type TicketActivities = ReturnType<typeof createActivities>;
