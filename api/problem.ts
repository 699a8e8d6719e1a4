import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

/** The media type of RFC 9457 problem details: every error this API answers is one. */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** Errors are `application/problem+json` (RFC 9457) with a `detail` a person can act on. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'Problem';
  }
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type(PROBLEM_MEDIA_TYPE)
    .send({
      type: 'about:blank',
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      instance: reply.request.url,
      ...problem.extra,
    });
}

interface ValidationIssue {
  readonly field: string;
  readonly message: string;
}

function validationIssues(error: FastifyError): ValidationIssue[] {
  if (!hasZodFastifySchemaValidationErrors(error)) return [];
  return error.validation.map((issue) => {
    const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
    return {
      field: [error.validationContext, path].filter(Boolean).join('.'),
      message: issue.message ?? 'is invalid',
    };
  });
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** One error handler: the whole error goes to the log, a safe body to the client. */
export function registerProblemHandlers(app: FastifyInstance): void {
  /** No route for this method and path: 405 with `Allow` when the path answers other methods, else 404. */
  function unrouted(request: FastifyRequest, reply: FastifyReply) {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = ROUTED_METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
    if (allowed.length === 0) {
      return sendProblem(reply, new Problem(404, 'Not Found', `no route ${request.method} ${path}`));
    }
    reply.header('allow', allowed.join(', '));
    return sendProblem(
      reply,
      new Problem(405, 'Method Not Allowed', `${path} answers ${allowed.join(', ')}, not ${request.method}`),
    );
  }

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof Problem) return sendProblem(reply, error);
    // A request without a route that failed before the not-found handler (a QUERY without a body).
    if (request.is404) return unrouted(request, reply);
    const issues = validationIssues(error);
    if (issues.length > 0) {
      const detail = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
      return sendProblem(reply, new Problem(400, 'Invalid request', detail, { errors: issues }));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendProblem(reply, new Problem(status, STATUS_TITLES[status] ?? 'Client Error', error.message));
    }
    request.log.error({ err: error }, 'request failed');
    return sendProblem(
      reply,
      new Problem(
        500,
        'Internal Server Error',
        'The server failed to handle this request; it has been logged.',
      ),
    );
  });
  app.setNotFoundHandler(unrouted);
}

/** What a path may answer, for a 405's `Allow`; OPTIONS is left out: it is CORS preflight, not a resource. */
const ROUTED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Errors the router raises before any route runs (a malformed URL, an over-long path parameter):
 * the same problem+json as every other error, without echoing the URL back.
 */
export function frameworkProblem(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  // An over-long parameter is a bad parameter (400), like one over its documented maxLength, not 414.
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendProblem(
      reply,
      new Problem(400, 'Bad Request', 'a path parameter is longer than 100 characters'),
    );
  }
  const detail =
    error.code === 'FST_ERR_BAD_URL'
      ? 'the URL is not valid (bad percent-encoding)'
      : 'the request cannot be routed';
  const status = error.statusCode ?? 400;
  return sendProblem(reply, new Problem(status, STATUS_TITLES[status] ?? 'Bad Request', detail));
}
