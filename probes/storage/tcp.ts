import type { CheckResult } from '../../src/events/probe-result.js';
import type { CheckContext } from '../probe.js';
import { Deadline } from '../shared/deadline.js';
import { PhaseClock } from '../shared/phase-clock.js';
import { connectSocket } from './connect.js';
import { checkLatency, OpTimer, storageResult } from './ops.js';
import type { StorageExpect, TcpSettings } from './spec.js';

/**
 * `backend: tcp`: the connect latency of a storage service Tocsin does not speak (a database, a
 * cache): a fresh TCP connection, closed at once. `observations.ops.connect` is DNS + TCP connect.
 */
export async function checkTcp(
  settings: TcpSettings,
  expect: StorageExpect,
  target: string,
  ctx: CheckContext,
): Promise<CheckResult> {
  const deadline = new Deadline(ctx);
  const clock = new PhaseClock();
  const timer = new OpTimer<'connect'>();
  try {
    timer.start('connect');
    const conn = await connectSocket(
      {
        host: settings.host,
        port: settings.port,
        localAddress: ctx.sourceAddress,
      },
      deadline,
      clock,
      'connect',
    );
    const observations = (): Record<string, unknown> => ({
      ops: timer.ops(),
      timings: clock.timings(),
      ...(conn.ok && conn.remoteAddress
        ? { remote_address: conn.remoteAddress }
        : {}),
    });
    if (!conn.ok) {
      timer.abandon();
      return storageResult(target, deadline, conn.failure, observations());
    }
    timer.end();
    clock.stop();
    conn.socket.destroy();
    const ops = timer.ops();
    return storageResult(
      target,
      deadline,
      checkLatency(ops, expect.max_latency),
      observations(),
    );
  } finally {
    deadline.dispose();
  }
}
