/** What a retention run is given and what it did (see temporal/retention.ts). */
export interface RetentionInput {
  /** Finished tickets last changed longer ago than this lose their personal data (RETENTION_CLOSED_TICKETS). */
  readonly closedTicketsMs: number;
  /** Delivered and failed deliveries older than this are deleted (RETENTION_DELIVERIES). */
  readonly deliveriesMs: number;
}

export interface RetentionCounts {
  readonly anonymisedTickets: number;
  readonly expiredIdempotencyKeys: number;
  readonly purgedDeliveries: number;
}
