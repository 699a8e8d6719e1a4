import { z } from 'zod';
import { PHONE_PATTERN } from './intake';
import { BLANK_MESSAGE, NOT_BLANK } from './text-rules';
import { ROLES, type Role } from './ticket';

/**
 * The staff directory (seed 002: 超时未处理工单自动发送短信/系统消息给责任人及上级): how a named
 * person is reached, by a system message, SMS or e-mail, and who their superior is. Pure: the
 * routes validate with it, the relay addresses with it.
 */
export const STAFF_CHANNELS = ['internal', 'sms', 'email'] as const;
export type StaffChannel = (typeof STAFF_CHANNELS)[number];
/** Everyone but the customer's own role. */
export const STAFF_ROLES = ROLES.filter((role) => role !== 'client') as [Role, ...Role[]];

export const STAFF_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const staffInputSchema = z
  .object({
    role: z.enum(STAFF_ROLES),
    name: z.string().max(100).trim().regex(NOT_BLANK, BLANK_MESSAGE),
    phone: z.string().regex(PHONE_PATTERN, 'must be a phone number of 6 to 20 digits').optional(),
    email: z.string().max(254).regex(z.regexes.email, 'must be an e-mail address').optional(),
    notifyBy: z
      .enum(STAFF_CHANNELS)
      .default('internal')
      .describe('how notices to this person go: internal (system message), sms or email'),
    superiorId: z
      .string()
      .regex(STAFF_ID_PATTERN, 'must be a staff id')
      .optional()
      .describe('whom an escalation about this person’s work also reaches (their superior)'),
    active: z.boolean().default(true),
  })
  .strict()
  .superRefine((input, context) => {
    if (input.notifyBy === 'sms' && !input.phone) {
      context.addIssue({ code: 'custom', path: ['phone'], message: 'notifyBy sms needs a phone number' });
    }
    if (input.notifyBy === 'email' && !input.email) {
      context.addIssue({
        code: 'custom',
        path: ['email'],
        message: 'notifyBy email needs an e-mail address',
      });
    }
  })
  // What the refinement checks, in terms JSON Schema (and so the OpenAPI document) can state.
  .meta({
    anyOf: [
      { properties: { notifyBy: { not: { enum: ['sms', 'email'] } } } },
      { properties: { notifyBy: { enum: ['sms'] } }, required: ['phone'] },
      { properties: { notifyBy: { enum: ['email'] } }, required: ['email'] },
    ],
  });
export type StaffInput = z.infer<typeof staffInputSchema>;

/**
 * Why `superiorId` cannot be this person's superior, or undefined: it must be someone else, on
 * file, and not already below them (`chainAbove` is the superior's own chain upwards, nearest first).
 */
export function superiorRefusal(
  id: string,
  superiorId: string,
  superiorExists: boolean,
  chainAbove: readonly string[],
): string | undefined {
  if (superiorId === id) return 'superiorId: a person cannot be their own superior';
  if (!superiorExists) return `superiorId: no staff member ${superiorId}`;
  if (chainAbove.includes(id)) return `superiorId: ${superiorId} reports to ${id} already (a cycle)`;
  return undefined;
}

export interface StaffContact {
  readonly id: string;
  readonly role: Role;
  readonly phone: string | null;
  readonly email: string | null;
  readonly notifyBy: StaffChannel;
  readonly active: boolean;
}

/**
 * Where a notice to this person goes: their channel and address. An engineer's system messages go
 * to `engineer:<id>` as dispatch offers do, other staff's to `staff:<id>`.
 */
export function staffAddress(contact: StaffContact): { channel: StaffChannel; recipient: string } {
  if (contact.notifyBy === 'sms' && contact.phone) return { channel: 'sms', recipient: contact.phone };
  if (contact.notifyBy === 'email' && contact.email) return { channel: 'email', recipient: contact.email };
  const prefix = contact.role === 'engineer' ? 'engineer' : 'staff';
  return { channel: 'internal', recipient: `${prefix}:${contact.id}` };
}
