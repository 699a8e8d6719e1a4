import { z } from 'zod';
import { BLANK_MESSAGE, NOT_BLANK } from './text-rules';
import { CATEGORIES, CHANNELS, LANGUAGES, MOODS, PRIORITIES, SERVICE_TYPES } from './ticket';

/**
 * What an API client sends to open a ticket (SPEC section 1.1). Apart from the ticket's types so
 * workflow code, which never parses an intake, does not build this schema for every workflow.
 */
export const PHONE_PATTERN = /^\+?[0-9][0-9 -]{5,19}$/;
/** Trimmed text: at most `max` characters as sent, and not blank. */
const text = (max: number) => z.string().max(max).trim().regex(NOT_BLANK, BLANK_MESSAGE);

export const ticketIntakeSchema = z
  .object({
    channel: z.enum(CHANNELS),
    category: z.enum(CATEGORIES),
    priority: z.enum(PRIORITIES),
    serviceType: z.enum(SERVICE_TYPES).optional(),
    customer: z
      .object({
        name: text(100),
        phone: z.string().regex(PHONE_PATTERN, 'must be a phone number of 6 to 20 digits'),
        // The pattern alone, not `format: email`: the document then states exactly the rule checked.
        email: z.string().max(254).regex(z.regexes.email, 'must be an e-mail address').optional(),
        address: text(500).optional(),
        tier: text(32).optional(),
        /** The service region dispatch matches engineers by, e.g. "shanghai-pudong". */
        region: text(100).optional(),
        /** Where the service happens, for dispatch by distance. */
        location: z
          .object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) })
          .strict()
          .optional(),
      })
      .strict(),
    product: z
      .object({
        model: text(100),
        /** The product line dispatch matches engineers' skills against, e.g. "air-conditioner". */
        line: text(100).optional(),
        serialNumber: text(100).optional(),
        purchaseDate: z.iso.date().optional(),
        purchaseChannel: text(100).optional(),
      })
      .strict()
      .optional(),
    description: text(5000),
    mood: z.enum(MOODS).optional(),
    /** Links to photos and documents: http(s) only (a javascript: or data: link would run where it is shown). */
    attachments: z
      .array(z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).max(2000))
      .max(20)
      .default([]),
    externalRef: text(100).optional(),
    /** The language of the customer's messages (and the ticket's staff notices); zh-CN when absent. */
    language: z.enum(LANGUAGES).optional(),
    /**
     * Progress SMS to the customer (plan confirmed, engineer assigned, parts delayed, resolved);
     * false opts this ticket out. Sent when absent.
     */
    progressSms: z.boolean().optional(),
  })
  .strict();
