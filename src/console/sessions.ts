import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/tokens.js';

/**
 * Name of the console's session cookie (no `__Host-` prefix: that needs `Secure`, and the daemon
 * is plain http by default).
 */
export const SESSION_COOKIE = 'tocsin_session';

/** A signed-in browser: who it is (the token's name and role, never the token) and its CSRF token. */
export interface Session {
  readonly id: string;
  readonly principal: Principal;
  /** The synchronizer token every POST of this session must carry. */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
  /** A one-shot message shown on the next page (after a POST-redirect-GET). */
  flash?: Flash;
}

export interface Flash {
  readonly kind: 'ok' | 'error';
  readonly text: string;
}

export interface SessionOptions {
  /** A session unused this long is gone (default 12 h). */
  readonly idleMs?: number;
  /** A session is gone this long after sign-in, used or not (default 7 days). */
  readonly maxAgeMs?: number;
  /** At most this many sessions; signing in past it drops the least recently used (default 1000). */
  readonly maxSessions?: number;
  /** Milliseconds now (tests pass a fake clock). */
  readonly now?: () => number;
}

export const DEFAULT_IDLE_MS = 12 * 3_600_000;
export const DEFAULT_MAX_AGE_MS = 7 * 86_400_000;
export const DEFAULT_MAX_SESSIONS = 1000;

/**
 * Server-side console sessions, in memory: a restart signs everyone out, which is fine for an
 * operator console (the token signs in again) and means no session secret ever lands on disk.
 * The map is in least-recently-used order (a touched session moves to the end), so the bound
 * evicts the session idle the longest.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #idleMs: number;
  readonly #maxAgeMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: SessionOptions = {}) {
    this.#idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
    this.#maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#max = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** A new session for `principal`, with fresh random id and CSRF token (32 bytes each). */
  create(principal: Principal): Session {
    const now = this.#now();
    this.#sweep(now);
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next();
      if (oldest.done) break;
      this.#sessions.delete(oldest.value);
    }
    const session: Session = {
      id: randomToken(),
      principal: { name: principal.name, role: principal.role },
      csrf: randomToken(),
      createdAt: now,
      lastSeen: now,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, marked as used now; undefined when unknown or expired. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    const now = this.#now();
    if (this.#expired(session, now)) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    this.#sessions.delete(id);
    this.#sessions.set(id, session);
    return session;
  }

  /** Signs a session out. */
  destroy(id: string): void {
    this.#sessions.delete(id);
  }

  #expired(s: Session, now: number): boolean {
    return now - s.lastSeen >= this.#idleMs || now - s.createdAt >= this.#maxAgeMs;
  }

  /** Drops every expired session; runs on sign-in only, over at most `maxSessions` entries. */
  #sweep(now: number): void {
    for (const [id, s] of this.#sessions) if (this.#expired(s, now)) this.#sessions.delete(id);
  }
}

/** 32 random bytes, URL-safe: a session id, a CSRF token. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Equality of two secrets in time independent of where they differ (and of their lengths). */
export function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  // Digests first: equal lengths for timingSafeEqual, and no early exit on a length mismatch.
  return timingSafeEqual(da, db);
}

/** The value of cookie `name` in a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The `Set-Cookie` value of a session cookie: HttpOnly (no script reads it), SameSite=Strict (no
 * other site's page sends it), Path=/, and Secure only when the console is served over https
 * (a plain-http loopback daemon would otherwise never get it back). No Max-Age: it ends with the
 * browser session, and the server expires it anyway.
 */
export function sessionCookie(value: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** Clears the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
