import type { FastifyRequest } from 'fastify';
import { TocsinError } from '../errors.js';
import type { Principal, Role, TokenTable } from './auth.js';

const RANK: Record<Role, number> = { viewer: 1, operator: 2 };

/** Returns the caller if its bearer token grants at least `role`; throws 401/403 otherwise. */
export function requireRole(tokens: TokenTable, req: FastifyRequest, role: Role): Principal {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const principal = m?.[1] ? tokens.authenticate(m[1]) : undefined;
  if (!principal) throw new TocsinError('UNAUTHORIZED', 'missing or unknown bearer token');
  if (RANK[principal.role] < RANK[role]) {
    throw new TocsinError(
      'FORBIDDEN',
      `this action needs the ${role} role; token "${principal.name}" is a ${principal.role}`,
    );
  }
  return principal;
}
