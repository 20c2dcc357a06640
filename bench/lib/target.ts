import { fileURLToPath } from 'node:url';
import type { Listener, TargetMessage, TargetStats } from '../target-server.js';
import { forkReady } from './child.js';

export type { Listener, TargetStats };

/** The child-process target server, from the parent's side. */
export interface Target {
  readonly listeners: readonly Listener[];
  /** Requests served, the target's own CPU and socket states (TIME_WAIT on each side). */
  stats(): Promise<TargetStats>;
  stop(): Promise<void>;
}

/**
 * Starts bench/target-server.js as a child process listening on each of `hosts` (loopback
 * addresses), each on a port picked by the kernel. Its CPU is its own: the benchmark process
 * measures only the client side.
 */
export async function startTarget(hosts: readonly string[] = ['127.0.0.1']): Promise<Target> {
  const script = fileURLToPath(new URL('../target-server.js', import.meta.url));
  const child = await forkReady<TargetMessage>(script, [hosts.join(',')], 'target server');
  return {
    listeners: child.ready.listeners,
    stats: async () => (await child.request({ type: 'stats' }, 'stats')).stats,
    stop: child.stop,
  };
}
