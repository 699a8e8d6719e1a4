import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { findStaff, listStaff, StaffRefusedError, upsertStaff } from '../../db/staff-store';
import { STAFF_CHANNELS, STAFF_ID_PATTERN, STAFF_ROLES, staffInputSchema } from '../../domain/staff';
import { authorize } from '../authorize';
import { Problem } from '../problem';
import { problems } from '../schemas';

const staffId = z.string().regex(STAFF_ID_PATTERN, 'must be 1–64 characters: a-z, 0-9, ".", "_", "-"');

const staffView = z.object({
  id: z.string().describe('the actor id the person’s API key names (an engineer’s engineer id)'),
  role: z.enum(STAFF_ROLES),
  name: z.string(),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  notifyBy: z.enum(STAFF_CHANNELS),
  superiorId: z.string().nullable(),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const listQuery = z
  .object({
    role: z.enum(STAFF_ROLES).optional(),
    active: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional(),
  })
  .strict();

/**
 * `/v1/staff`: the staff directory — how a named person is told (system message, SMS or e-mail)
 * and who their superior is. Escalations and warnings name the person holding the ticket and reach
 * their superior at the escalation's level; without a record, the role's inbox stands in.
 */
export const staffRoutes: FastifyPluginAsyncZod<{ readonly db: Database }> = async (app, { db }) => {
  app.get(
    '/staff',
    {
      onRequest: authorize('staff.read'),
      schema: {
        tags: ['staff'],
        summary: 'Staff with their contact channel and superior',
        querystring: listQuery,
        response: { 200: z.object({ items: z.array(staffView) }), ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request) => ({ items: await listStaff(db, request.query) }),
  );

  app.get(
    '/staff/:id',
    {
      onRequest: authorize('staff.read'),
      schema: {
        tags: ['staff'],
        summary: 'One staff member',
        params: z.object({ id: staffId }),
        response: { 200: staffView, ...problems(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const record = await findStaff(db, request.params.id);
      if (!record) throw new Problem(404, 'Staff member not found', `no staff member ${request.params.id}`);
      return record;
    },
  );

  app.put(
    '/staff/:id',
    {
      onRequest: authorize('staff.manage'),
      schema: {
        tags: ['staff'],
        summary: 'Create (201) or replace (200) a staff member',
        description:
          'notifyBy sms needs a phone, email an e-mail address; the superior must be on file, not the ' +
          'person, and not below them (422 otherwise).',
        params: z.object({ id: staffId }),
        body: staffInputSchema,
        response: {
          200: staffView,
          201: staffView,
          ...problems(400, 401, 403, 413, 415, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      let created: boolean;
      try {
        created = await upsertStaff(db, id, request.body);
      } catch (error) {
        if (error instanceof StaffRefusedError)
          throw new Problem(422, 'Unprocessable staff member', error.message);
        throw error;
      }
      const record = await findStaff(db, id);
      if (!record) throw new Error(`staff member ${id} vanished after it was written`);
      reply.code(created ? 201 : 200).header('location', `/v1/staff/${id}`);
      return record;
    },
  );
};
