import axios, { type AxiosInstance, isAxiosError } from 'axios';
import type { ComponentList, CreateIncidentBody, EditIncidentBody, IncidentList } from '../api/schemas.js';
import type { UpdatePhase } from '../events/incident.js';
import type { ListLimit, SummarisedIncident } from '../events/incident-summary.js';
import type { ReloadAnswer } from '../config/reload.js';

/** How long the CLI waits for the daemon before giving up (a local API answers in milliseconds). */
const DEFAULT_TIMEOUT_MS = 10_000;

/** The API answered with an error (CONTRACT §6 shape): its status, code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Each problem the answer lists (`error.problems`: an invalid config at a reload). */
    readonly problems: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** No answer at all: nothing listens, DNS, timeout. `reason` is short ("connection refused"). */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach tocsin at ${url} (${reason})`);
    this.name = 'UnreachableError';
  }
}

export interface ClientOptions {
  /** Base URL of the daemon, e.g. `http://127.0.0.1:9470`. */
  readonly url: string;
  /** Bearer token; omitted when none is known (the API then answers 401). */
  readonly token?: string;
  /** Per-request timeout, ms. Default 10 s. */
  readonly timeoutMs?: number;
}

export interface ListQuery {
  readonly status?: string;
  readonly review?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

/**
 * The CLI's client of the operator API (axios, the project's HTTP client for control-plane
 * calls). Every failure is an ApiError or an UnreachableError; neither carries the token.
 */
export class ApiClient {
  readonly #http: AxiosInstance;
  readonly url: string;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.#http = axios.create({
      baseURL: this.url,
      timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      // Statuses are handled here, so axios never builds an error holding the request config.
      validateStatus: () => true,
      maxRedirects: 0,
      responseType: 'json',
    });
  }

  listIncidents(query: ListQuery = {}): Promise<IncidentList> {
    const params = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
    return this.#call<IncidentList>('GET', '/api/v1/incidents', { params });
  }

  /** One document; `lists` asks for more (or fewer) components and signals than the API's default. */
  getIncident(id: string, lists: { components?: ListLimit; signals?: ListLimit } = {}): Promise<SummarisedIncident> {
    const params = Object.fromEntries(
      Object.entries(lists)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    return this.#call<SummarisedIncident>('GET', incidentPath(id), { params });
  }

  confirm(id: string, note?: string): Promise<SummarisedIncident> {
    return this.#call<SummarisedIncident>('POST', `${incidentPath(id)}/confirm`, { data: note === undefined ? {} : { note } });
  }

  dismiss(id: string, reason: string): Promise<SummarisedIncident> {
    return this.#call<SummarisedIncident>('POST', `${incidentPath(id)}/dismiss`, { data: { reason } });
  }

  resolve(id: string, note?: string): Promise<SummarisedIncident> {
    return this.#call<SummarisedIncident>('POST', `${incidentPath(id)}/resolve`, { data: note === undefined ? {} : { note } });
  }

  addNote(id: string, text: string, phase?: UpdatePhase): Promise<SummarisedIncident> {
    return this.#call<SummarisedIncident>('POST', `${incidentPath(id)}/notes`, { data: phase ? { text, phase } : { text } });
  }

  /** An operator-written incident (`POST /api/v1/incidents`). */
  createIncident(body: CreateIncidentBody): Promise<SummarisedIncident> {
    return this.#call<SummarisedIncident>('POST', '/api/v1/incidents', { data: body });
  }

  /** Edits title, components and impacts (`PATCH /api/v1/incidents/{id}`). */
  editIncident(id: string, body: EditIncidentBody): Promise<SummarisedIncident> {
    return this.#call<SummarisedIncident>('PATCH', incidentPath(id), { data: body });
  }

  components(): Promise<ComponentList> {
    return this.#call<ComponentList>('GET', '/api/v1/components');
  }

  /** Asks the daemon to re-read its configuration (`POST /-/reload`). */
  reload(): Promise<ReloadAnswer> {
    return this.#call<ReloadAnswer>('POST', '/-/reload', { data: {} });
  }

  async #call<T>(method: 'GET' | 'POST' | 'PATCH', path: string, opts: { params?: object; data?: object } = {}): Promise<T> {
    let res;
    try {
      res = await this.#http.request<unknown>({ method, url: path, params: opts.params, data: opts.data });
    } catch (err) {
      throw new UnreachableError(this.url, networkReason(err));
    }
    if (res.status >= 200 && res.status < 300) return res.data as T;
    const body = res.data as { error?: { code?: unknown; message?: unknown; problems?: unknown } } | undefined;
    const code = typeof body?.error?.code === 'string' ? body.error.code : `HTTP_${res.status}`;
    const message = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${res.status} ${res.statusText}`.trim();
    const problems = Array.isArray(body?.error?.problems) ? body.error.problems.filter((p): p is string => typeof p === 'string') : [];
    throw new ApiError(res.status, code, message, problems);
  }
}

function incidentPath(id: string): string {
  return `/api/v1/incidents/${encodeURIComponent(id)}`;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNABORTED: 'timed out',
  ETIMEDOUT: 'timed out',
  ERR_INVALID_URL: 'invalid URL',
};

function networkReason(err: unknown): string {
  if (isAxiosError(err)) {
    const code = err.code ?? '';
    // A refused connection to "localhost" tries ::1 and 127.0.0.1: axios reports an AggregateError.
    const inner = (err.cause as { code?: string } | undefined)?.code ?? '';
    return REASONS[code] ?? REASONS[inner] ?? (code || err.message || 'no answer');
  }
  return (err as Error)?.message ?? String(err);
}
