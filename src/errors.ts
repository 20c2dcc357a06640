/** The closed set of error codes Tocsin reports to API clients and maps to CLI exit codes. */
export const ERROR_STATUS = {
  INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  /** The store stopped answering with the write in flight: it may or may not have taken effect. */
  OUTCOME_UNKNOWN: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An expected failure with a code; anything else reaching a boundary is a bug (INTERNAL). */
export class TocsinError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TocsinError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
