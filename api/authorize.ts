import type { FastifyRequest } from 'fastify';
import { can, type Permission } from '../domain/access';
import { Problem } from './problem';

const WHAT: Partial<Record<Permission, string>> = {
  'ticket.create': 'create tickets',
  'ticket.read': 'read tickets',
  'engineer.read': 'read engineers',
  'engineer.manage': 'manage engineers',
  'escalation.read': 'read escalations',
  'webhook.manage': 'manage webhooks',
  'report.read': 'read reports',
  'part.read': 'read the parts catalogue',
  'part.manage': 'manage parts and stock locations',
  'stock.read': 'read stock movements',
  'stock.move': 'record stock movements',
  'stock.approve': 'approve stock movements',
  'parts.request': 'request parts for tickets',
  'report.parts': 'read the parts report',
};

/** An `onRequest` hook: 403 unless the key's role has the permission (domain/access.ts). */
export function authorize(permission: Permission) {
  return async (request: FastifyRequest) => {
    if (!can(request.actor.role, permission)) {
      const what = WHAT[permission] ?? `${permission} tickets`;
      throw new Problem(403, 'Forbidden', `role ${request.actor.role} may not ${what}`);
    }
  };
}
