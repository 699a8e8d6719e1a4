import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { BLANK_MESSAGE, NOT_BLANK } from '../../domain/text-rules';
import { findEngineer, listEngineers, upsertEngineer, type EngineerRecord } from '../../db/engineer-store';
import { authorize } from '../authorize';
import { Problem } from '../problem';
import { problems } from '../schemas';

const label = z.string().max(100).trim().regex(NOT_BLANK, BLANK_MESSAGE);

const engineerBody = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1–64 characters: a-z, 0-9, ".", "_", "-"'),
    name: label,
    skills: z.array(label).min(1).max(50).describe('product lines the engineer services'),
    regions: z.array(label).max(50).default([]),
    location: z
      .object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) })
      .strict()
      .optional(),
    capacity: z.number().int().min(1).max(50).default(3).describe('open tickets at once'),
    active: z.boolean().default(true),
  })
  .strict();

const engineerView = z.object({
  id: z.string(),
  name: z.string(),
  skills: z.array(z.string()),
  regions: z.array(z.string()),
  location: z.object({ latitude: z.number(), longitude: z.number() }).nullable(),
  capacity: z.number().int(),
  active: z.boolean(),
  openLoad: z.number().int().describe('tickets the engineer holds now'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

function present({ latitude, longitude, ...engineer }: EngineerRecord) {
  return {
    ...engineer,
    location: latitude === null || longitude === null ? null : { latitude, longitude },
  };
}

const listQuery = z
  .object({
    active: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional(),
    skill: label.optional(),
    region: label.optional(),
  })
  .strict();

/** `/v1/engineers`: who dispatch can send, with their skills, regions, place and open load. */
export const engineerRoutes: FastifyPluginAsyncZod<{ readonly db: Database }> = async (app, { db }) => {
  app.get(
    '/engineers',
    {
      onRequest: authorize('engineer.read'),
      schema: {
        tags: ['engineers'],
        summary: 'Engineers with their open load',
        querystring: listQuery,
        response: { 200: z.object({ items: z.array(engineerView) }), ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request) => ({ items: (await listEngineers(db, request.query)).map(present) }),
  );

  app.get(
    '/engineers/:id',
    {
      onRequest: authorize('engineer.read'),
      schema: {
        tags: ['engineers'],
        summary: 'One engineer',
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 200: engineerView, ...problems(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const engineer = await findEngineer(db, request.params.id);
      if (!engineer) throw new Problem(404, 'Engineer not found', `no engineer ${request.params.id}`);
      return present(engineer);
    },
  );

  app.post(
    '/engineers',
    {
      onRequest: authorize('engineer.manage'),
      schema: {
        tags: ['engineers'],
        summary: 'Create an engineer (201) or replace one with the same id (200)',
        body: engineerBody,
        response: { 200: engineerView, 201: engineerView, ...problems(400, 401, 403, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const created = await upsertEngineer(db, request.body);
      const engineer = await findEngineer(db, request.body.id);
      if (!engineer) throw new Error(`engineer ${request.body.id} vanished after it was written`);
      reply.code(created ? 201 : 200).header('location', `/v1/engineers/${engineer.id}`);
      return present(engineer);
    },
  );
};
