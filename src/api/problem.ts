import { z } from 'zod';
import { StaleVersionError } from '../commands/handle-command.js';
import { DomainError } from '../domain/decider.js';
import { DuplicateEventIdError, EventStoreUnavailableError, WrongExpectedVersionError } from '../eventstore/types.js';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

/** An HTTP error with a problem+json body; everything a route throws ends up as one of these. */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly title: string,
    detail?: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }

  get body(): ProblemDetails {
    return {
      type: `https://alertops.dev/problems/${this.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...this.extensions,
    };
  }
}

export const badRequest = (detail: string, extensions?: Record<string, unknown>) =>
  new HttpProblem(400, 'Bad Request', detail, extensions);
export const unauthorized = (detail = 'authentication required') =>
  new HttpProblem(401, 'Unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer' });
export const forbiddenProblem = (detail: string) => new HttpProblem(403, 'Forbidden', detail);
export const notFoundProblem = (detail = 'not found') => new HttpProblem(404, 'Not Found', detail);

export function validationProblem(error: z.ZodError, where: 'body' | 'query' | 'path' | 'header'): HttpProblem {
  return new HttpProblem(400, 'Validation Failed', `the request ${where} is invalid`, {
    errors: error.issues.map((issue) => ({
      path: [where, ...issue.path.map(String)].join('.'),
      message: issue.message,
    })),
  });
}

const domainStatus: Record<DomainError['kind'], { status: number; title: string }> = {
  unauthenticated: { status: 401, title: 'Unauthorized' },
  not_found: { status: 404, title: 'Not Found' },
  forbidden: { status: 403, title: 'Forbidden' },
  conflict: { status: 409, title: 'Conflict' },
  invalid: { status: 422, title: 'Unprocessable Content' },
  gone: { status: 410, title: 'Gone' },
};

/** The one place where typed errors become HTTP statuses. Unknown errors are 500 and logged by the caller. */
export function toProblem(error: unknown): HttpProblem | null {
  if (error instanceof HttpProblem) return error;
  if (error instanceof DomainError) {
    // Input the body's schema could not judge alone (membership, overlaps) is still a field of the body at fault.
    if (error.kind === 'invalid' && error.field !== undefined) {
      return new HttpProblem(400, 'Validation Failed', error.message, {
        code: error.code,
        errors: [{ path: `body.${error.field}`, message: error.message }],
      });
    }
    const { status, title } = domainStatus[error.kind];
    return new HttpProblem(status, title, error.message, { code: error.code });
  }
  if (error instanceof StaleVersionError) {
    return new HttpProblem(412, 'Precondition Failed', `${error.message}; reload and retry`, {
      code: 'stale_version',
      currentVersion: error.currentVersion,
    });
  }
  if (error instanceof DuplicateEventIdError) {
    return new HttpProblem(409, 'Conflict', 'this change was already recorded', { code: 'duplicate_event' });
  }
  if (error instanceof WrongExpectedVersionError) {
    return new HttpProblem(409, 'Conflict', 'the resource is being changed concurrently; retry', { code: 'concurrent_change' });
  }
  if (error instanceof EventStoreUnavailableError) {
    return new HttpProblem(503, 'Service Unavailable', 'the event store cannot be reached; retry shortly', {}, { 'Retry-After': '1' });
  }
  if (error instanceof z.ZodError) return validationProblem(error, 'body');
  return null;
}
