import { createHash, randomBytes } from 'node:crypto';
import type { CheckResult } from '../../src/events/probe-result.js';
import type { CheckContext } from '../probe.js';
import { Deadline } from '../shared/deadline.js';
import type { Failure } from '../shared/net-errors.js';
import { PhaseClock } from '../shared/phase-clock.js';
import type { TlsSessionInfo } from '../shared/tls-options.js';
import type { TlsSpec } from '../shared/tls-spec.js';
import {
  checkLatency,
  freshKey,
  INSTANCE_ID,
  OpTimer,
  storageResult,
} from './ops.js';
import {
  parseS3Error,
  type S3Answer,
  type S3Call,
  type S3Credentials,
  s3Address,
  s3Request,
} from './s3-request.js';
import type { S3Op, S3Settings, StorageExpect } from './spec.js';

/** Error codes S3 (and Ceph, MinIO, Cellar) answer when the credentials are refused. */
const AUTH_CODES = new Set([
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'AuthorizationHeaderMalformed',
  'RequestTimeTooSkewed',
]);

/**
 * Objects a check wrote but could not delete (its deadline ran out first), by bucket, deleted at the
 * start of the next check of the same bucket. Bounded: past `max` keys the oldest are forgotten
 * (a bucket lifecycle rule on `key_prefix` is the backstop; see docs/probes-storage.md).
 */
export class Leftovers {
  private readonly keys = new Map<string, string[]>();
  private count = 0;

  constructor(private readonly max = 256) {}

  get size(): number {
    return this.count;
  }

  add(bucket: string, key: string): void {
    const list = this.keys.get(bucket) ?? [];
    list.push(key);
    this.keys.set(bucket, list);
    this.count++;
    while (this.count > this.max) this.dropOldest();
  }

  /** Removes and returns the keys left in `bucket`, oldest first. */
  take(bucket: string): string[] {
    const list = this.keys.get(bucket) ?? [];
    this.keys.delete(bucket);
    this.count -= list.length;
    return list;
  }

  private dropOldest(): void {
    // Maps iterate in insertion order: the first bucket holds the oldest keys.
    for (const [bucket, list] of this.keys) {
      list.shift();
      this.count--;
      if (list.length === 0) this.keys.delete(bucket);
      return;
    }
  }
}

/** Leftover cleanup may use this share of the check's budget; the rest is for the check itself. */
const CLEANUP_SHARE = 0.25;
/** At most this many leftovers deleted per check, so a long outage's backlog drains gradually. */
const CLEANUP_PER_CHECK = 8;

/** Reads the credentials now, from the environment (never from the config, never logged). */
function credentials(settings: S3Settings): S3Credentials | Failure {
  const read = (name: string, key: string): string | Failure => {
    const value = process.env[name];
    if (value === undefined || value === '') {
      return {
        error: 'storage_error',
        detail: `environment variable ${name} (${key}) is ${value === undefined ? 'not set' : 'empty'}`,
      };
    }
    return value;
  };
  const accessKeyId = read(settings.accessKeyEnv, 'access_key_env');
  if (typeof accessKeyId !== 'string') return accessKeyId;
  const secretAccessKey = read(settings.secretKeyEnv, 'secret_key_env');
  if (typeof secretAccessKey !== 'string') return secretAccessKey;
  return { accessKeyId, secretAccessKey };
}

/** An S3 answer as a failure (undefined for a 2xx): auth, missing bucket, 5xx, other statuses. */
export function s3Failure(
  op: string,
  bucket: string,
  answer: S3Answer,
): Failure | undefined {
  if (answer.failure) return answer.failure;
  const status = answer.status ?? 0;
  if (status >= 200 && status < 300) return undefined;
  const { code, message } = parseS3Error(answer.text);
  const why = message ? `: ${message}` : '';
  if (
    status === 401 ||
    (status === 403 && (code === undefined || AUTH_CODES.has(code))) ||
    (code && AUTH_CODES.has(code))
  ) {
    return {
      error: 'storage_error',
      detail: `${op}: auth: ${code ?? 'access denied'} (${status})${why}`,
    };
  }
  if (code === 'NoSuchBucket') {
    return {
      error: 'storage_error',
      detail: `${op}: missing bucket "${bucket}" (${status} NoSuchBucket)`,
    };
  }
  if (code === 'NoSuchKey' && op === 'get') {
    return {
      error: 'storage_error',
      detail: `get: the object just put is missing (${status} NoSuchKey)`,
    };
  }
  return {
    error: 'storage_error',
    detail: `${op}: ${status}${code ? ` ${code}` : ''}${why}`,
  };
}

/** A DELETE answered 2xx, or 404 NoSuchKey (some services answer that for a key already gone). */
function deleted(answer: S3Answer): boolean {
  if (answer.status === 404)
    return parseS3Error(answer.text).code === 'NoSuchKey';
  return (
    answer.failure === undefined &&
    answer.status !== undefined &&
    answer.status >= 200 &&
    answer.status < 300
  );
}

/** The key of this check: fresh each time, or one per probe and process when `delete` is not measured. */
function objectKey(settings: S3Settings, probeId: string | undefined): string {
  if (settings.ops.includes('delete')) return freshKey(settings.keyPrefix);
  const tag = (probeId ?? 'probe').replace(/[^A-Za-z0-9._-]/g, '_');
  return `${settings.keyPrefix}${tag}-${INSTANCE_ID}`;
}

export interface S3CheckInput {
  readonly settings: S3Settings;
  readonly expect: StorageExpect;
  readonly tls: TlsSpec | undefined;
  readonly probeId: string | undefined;
  readonly target: string;
}

/**
 * `backend: s3`: PUT `object_size` random bytes, GET them back (SHA-256 compared), DELETE, each a
 * SigV4-signed request on a fresh connection, all under one deadline. An object that was (or may
 * have been) written is deleted even when a later op fails; when the deadline leaves no time for
 * that, its key is kept in `leftovers` and deleted at the start of the next check of the bucket.
 */
export async function checkS3(
  input: S3CheckInput,
  ctx: CheckContext,
  leftovers: Leftovers,
): Promise<CheckResult> {
  const { settings, expect, target } = input;
  const deadline = new Deadline(ctx);
  const clock = new PhaseClock();
  const timer = new OpTimer<S3Op>();
  let peer: { remote_address?: string } & TlsSessionInfo = {};
  let cleanup: { deleted: number; pending: number } | undefined;
  const done = (failure: Failure | undefined): CheckResult => {
    clock.stop();
    const ops = timer.ops();
    return storageResult(
      target,
      deadline,
      failure ?? checkLatency(ops, expect.max_latency),
      {
        ops,
        timings: clock.timings(),
        object_size: settings.objectSize,
        ...peer,
        ...(cleanup ? { cleanup } : {}),
      },
    );
  };

  try {
    const creds = credentials(settings);
    if ('error' in creds) return done(creds);
    const bucketId = `${settings.endpoint.href}|${settings.bucket}|${settings.pathStyle}|${creds.accessKeyId}`;
    const call = (
      method: S3Call['method'],
      key: string,
      extra: Partial<S3Call> = {},
    ): S3Call => ({
      method,
      address: s3Address(
        settings.endpoint,
        settings.bucket,
        key,
        settings.pathStyle,
      ),
      region: settings.region,
      credentials: creds,
      tls: input.tls,
      localAddress: ctx.sourceAddress,
      ...extra,
    });

    const pending = leftovers.take(bucketId);
    if (pending.length > 0)
      cleanup = await deleteLeftovers(
        pending,
        call,
        deadline,
        leftovers,
        bucketId,
      );

    const key = objectKey(settings, input.probeId);
    const bytes = randomBytes(settings.objectSize);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // Whether the object may exist now, so that a failed check still removes it.
    let written = false;
    let failure: Failure | undefined;
    for (const op of settings.ops) {
      timer.start(op);
      const method = op === 'put' ? 'PUT' : op === 'get' ? 'GET' : 'DELETE';
      const answer = await s3Request(
        call(
          method,
          key,
          op === 'put'
            ? { body: { bytes, sha256 } }
            : op === 'get'
              ? { maxContent: bytes.length }
              : {},
        ),
        op,
        deadline,
        clock,
      );
      if (answer.remoteAddress)
        peer = { remote_address: answer.remoteAddress, ...answer.tls };
      failure = s3Failure(op, settings.bucket, answer);
      // A PUT sent but not answered (timeout, reset) may still have stored the object; one that
      // never got a connection (refused, DNS) did not, and leaves nothing to clean up.
      const unanswered = answer.status === undefined && answer.sent === true;
      if (op === 'put' && (failure === undefined || unanswered)) written = true;
      if (op === 'get' && failure === undefined && answer.content)
        failure = contentFailure(answer.content, bytes.length, sha256);
      if (failure) {
        timer.abandon();
        break;
      }
      timer.end();
      if (op === 'delete') written = false;
    }
    if (written && settings.ops.includes('delete')) {
      // Best effort and unmeasured (its own clock): the check has already failed.
      const removed =
        !deadline.expired &&
        deleted(
          await s3Request(
            call('DELETE', key),
            'delete',
            deadline,
            new PhaseClock(),
          ),
        );
      if (!removed) leftovers.add(bucketId, key);
    }
    return done(failure);
  } finally {
    deadline.dispose();
  }
}

function contentFailure(
  content: { bytes: number; sha256: string; overflow: boolean },
  size: number,
  sha256: string,
): Failure | undefined {
  if (!content.overflow && content.bytes === size && content.sha256 === sha256)
    return undefined;
  const got = content.overflow
    ? `more than ${size} bytes`
    : `${content.bytes} bytes, sha256 ${content.sha256.slice(0, 12)}…`;
  return {
    error: 'storage_error',
    detail: `get: content mismatch (got ${got}; put ${size} bytes, sha256 ${sha256.slice(0, 12)}…)`,
  };
}

/** Deletes earlier checks' leftovers within a share of the budget; what it cannot delete stays listed. */
async function deleteLeftovers(
  keys: readonly string[],
  call: (method: S3Call['method'], key: string) => S3Call,
  deadline: Deadline,
  leftovers: Leftovers,
  bucketId: string,
): Promise<{ deleted: number; pending: number }> {
  const share = new Deadline({
    signal: deadline.signal,
    timeoutMs: deadline.remainingMs() * CLEANUP_SHARE,
  });
  let removed = 0;
  try {
    for (const [i, key] of keys.entries()) {
      if (i >= CLEANUP_PER_CHECK || share.expired) {
        leftovers.add(bucketId, key);
        continue;
      }
      if (
        deleted(
          await s3Request(
            call('DELETE', key),
            'delete',
            share,
            new PhaseClock(),
          ),
        )
      )
        removed++;
      else leftovers.add(bucketId, key);
    }
  } finally {
    share.dispose();
  }
  return { deleted: removed, pending: keys.length - removed };
}
