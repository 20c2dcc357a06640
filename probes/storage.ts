import type { CheckResult } from '../src/events/probe-result.js';
import type { CheckContext, ProbeKind } from './probe.js';
import type { TlsSpec } from './shared/tls-spec.js';
import { checkRedis } from './storage/redis.js';
import { checkS3, Leftovers } from './storage/s3.js';
import {
  refineStorageSpec,
  resolveBackend,
  StorageProbeShape,
  StorageProbeSpec,
  storageTarget,
} from './storage/spec.js';
import { checkTcp } from './storage/tcp.js';

export { StorageProbeSpec };

/** What `run` receives: the kind's keys plus the common ones; `tls` and `id` matter here. */
export type StorageCheckSpec = StorageProbeSpec & {
  readonly tls?: TlsSpec | undefined;
  readonly id?: string | undefined;
};

/** S3 objects a failed check could not delete in time, retried at the next check (one list per process). */
const leftovers = new Leftovers();

async function checkOnce(
  spec: StorageCheckSpec,
  target: string,
  ctx: CheckContext,
): Promise<CheckResult> {
  try {
    const settings = resolveBackend(spec);
    switch (settings.backend) {
      case 's3':
        return await checkS3(
          {
            settings,
            expect: spec.expect,
            tls: spec.tls,
            probeId: spec.id,
            target,
          },
          ctx,
          leftovers,
        );
      case 'redis':
        return await checkRedis(settings, spec.expect, spec.tls, target, ctx);
      case 'tcp':
        return await checkTcp(settings, spec.expect, target, ctx);
    }
  } catch (err) {
    // Only a bug gets here (the backends never reject): Tocsin's own failure, not the target's.
    return {
      target,
      ok: false,
      error: 'internal',
      detail: `storage probe: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

/**
 * `kind: storage` (CONTRACT §2): writes, reads back and deletes a small object in an S3 bucket or a
 * key in Redis, or only connects (tcp), timing each operation. Per-op latencies go to
 * `observations.ops`, and slow-but-working checks fail with `latency` (degraded, not down).
 */
export const storageProbe: ProbeKind<StorageCheckSpec> = {
  kind: 'storage',
  shape: StorageProbeShape,
  refine: refineStorageSpec,
  grouping: 'each',
  targets: (spec) => [storageTarget(spec)],
  run: (spec, targets, ctx) =>
    Promise.all(targets.map((target) => checkOnce(spec, target, ctx))),
};
