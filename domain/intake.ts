import { z } from 'zod';
import { CATEGORIES, CHANNELS, LANGUAGES, MOODS, PRIORITIES, SERVICE_TYPES } from './ticket';

/**
 * What an API client sends to open a ticket (SPEC section 1.1). Apart from the ticket's types so
 * workflow code, which never parses an intake, does not build this schema for every workflow.
 */
const PHONE_PATTERN = /^\+?[0-9][0-9 -]{5,19}$/;

export const ticketIntakeSchema = z
  .object({
    channel: z.enum(CHANNELS),
    category: z.enum(CATEGORIES),
    priority: z.enum(PRIORITIES),
    serviceType: z.enum(SERVICE_TYPES).optional(),
    customer: z
      .object({
        name: z.string().trim().min(1).max(100),
        phone: z.string().regex(PHONE_PATTERN, 'must be a phone number of 6 to 20 digits'),
        email: z.email().max(254).optional(),
        address: z.string().trim().min(1).max(500).optional(),
        tier: z.string().trim().min(1).max(32).optional(),
        /** The service region dispatch matches engineers by, e.g. "shanghai-pudong". */
        region: z.string().trim().min(1).max(100).optional(),
        /** Where the service happens, for dispatch by distance. */
        location: z
          .object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) })
          .strict()
          .optional(),
      })
      .strict(),
    product: z
      .object({
        model: z.string().trim().min(1).max(100),
        /** The product line dispatch matches engineers' skills against, e.g. "air-conditioner". */
        line: z.string().trim().min(1).max(100).optional(),
        serialNumber: z.string().trim().min(1).max(100).optional(),
        purchaseDate: z.iso.date().optional(),
        purchaseChannel: z.string().trim().min(1).max(100).optional(),
      })
      .strict()
      .optional(),
    description: z.string().trim().min(1).max(5000),
    mood: z.enum(MOODS).optional(),
    /** Links to photos and documents: http(s) only (a javascript: or data: link would run where it is shown). */
    attachments: z
      .array(z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).max(2000))
      .max(20)
      .default([]),
    externalRef: z.string().trim().min(1).max(100).optional(),
    /** The language of the customer's messages (and the ticket's staff notices); zh-CN when absent. */
    language: z.enum(LANGUAGES).optional(),
  })
  .strict();
