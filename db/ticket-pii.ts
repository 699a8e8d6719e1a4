import type { TicketIntake, TicketState } from '../domain/ticket';
import { FREE_TEXT_KEYS } from '../domain/view';
import type { FieldCipher } from './field-cipher';

/**
 * A ticket's personal data is kept out of its projected `state` (which reports query as JSON) and
 * stored sealed in the `pii` column beside it (SEALED_PREFIX format, see field-cipher.ts): the
 * customer's name and contacts, the home's address and coordinates, and what the customer wrote
 * (description, attachment links). The tier and service region stay in clear: dispatch and reports
 * use them, and they name nobody.
 */
type Customer = TicketIntake['customer'];
type PersonalCustomerFields = 'name' | 'phone' | 'email' | 'address' | 'location';

export interface TicketPersonalData {
  readonly customer: Pick<Customer, PersonalCustomerFields>;
  readonly description: string;
  readonly attachments: string[];
}

/** The `state` column: the ticket without its personal data. */
export type StoredTicketState = Omit<TicketState, 'intake'> & {
  intake: Omit<TicketIntake, 'customer' | 'description' | 'attachments'> & {
    customer: Omit<Customer, PersonalCustomerFields>;
  };
};

export const PII_PURPOSE = 'tickets.pii';

/** What an anonymised ticket (see retention) shows in place of the personal data it no longer has. */
export const ANONYMISED = '[anonymised]';

export function splitPersonalData(state: TicketState): {
  stored: StoredTicketState;
  personal: TicketPersonalData;
} {
  const { customer, description, attachments, ...intake } = state.intake;
  const { name, phone, email, address, location, ...kept } = customer;
  return {
    stored: { ...state, intake: { ...intake, customer: kept } },
    personal: {
      customer: {
        name,
        phone,
        ...(email === undefined ? {} : { email }),
        ...(address === undefined ? {} : { address }),
        ...(location === undefined ? {} : { location }),
      },
      description,
      attachments,
    },
  };
}

/**
 * The whole ticket again. Without personal data (an anonymised ticket) its fields read as
 * ANONYMISED; a row written before personal data was sealed still holds it in `state`, which then
 * wins (the start-up backfill seals those rows, see sealExistingPersonalData).
 */
export function joinPersonalData(
  stored: StoredTicketState,
  personal: TicketPersonalData | null,
): TicketState {
  const legacy = stored.intake as Partial<TicketIntake>;
  return {
    ...stored,
    intake: {
      ...stored.intake,
      customer: {
        name: ANONYMISED,
        phone: ANONYMISED,
        ...stored.intake.customer,
        ...personal?.customer,
      },
      description: personal?.description ?? legacy.description ?? ANONYMISED,
      attachments: personal?.attachments ?? legacy.attachments ?? [],
    },
  };
}

export function sealPersonalData(
  cipher: FieldCipher,
  state: TicketState,
): { stored: StoredTicketState; pii: string } {
  const { stored, personal } = splitPersonalData(state);
  return { stored, pii: cipher.sealJson(personal, PII_PURPOSE) };
}

export function openTicketRow(
  cipher: FieldCipher,
  row: { state: StoredTicketState; pii: string | null },
): TicketState {
  return joinPersonalData(
    row.state,
    row.pii === null ? null : cipher.openJson<TicketPersonalData>(row.pii, PII_PURPOSE),
  );
}

function withoutFreeText<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !FREE_TEXT_KEYS.includes(key))) as T;
}

/**
 * A finished ticket as retention keeps it: no free text in what was recorded on it (plans, service
 * records, approval, callbacks, quality reviews, declines, hold), and what the reports count intact.
 */
export function anonymiseStoredState(stored: StoredTicketState): StoredTicketState {
  const recorded = <T extends { input: Record<string, unknown> }>(entry: T): T => ({
    ...entry,
    input: withoutFreeText(entry.input),
  });
  return {
    ...stored,
    plans: stored.plans.map(recorded),
    serviceRecords: stored.serviceRecords.map(recorded),
    approval: stored.approval && recorded(stored.approval),
    callbacks: stored.callbacks.map(recorded),
    quality: stored.quality && {
      ...stored.quality,
      reviews: stored.quality.reviews.map((review) => withoutFreeText(review)),
    },
    dispatch: {
      ...stored.dispatch,
      declines: stored.dispatch.declines.map((decline) => ({ ...decline, reason: ANONYMISED })),
    },
    hold: stored.hold && { ...stored.hold, reason: ANONYMISED },
  };
}
