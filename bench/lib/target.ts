import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Listener, TargetMessage, TargetStats } from '../target-server.js';

export type { Listener, TargetStats };

const READY_TIMEOUT_MS = 10_000;

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
export function startTarget(hosts: readonly string[] = ['127.0.0.1']): Promise<Target> {
  const script = fileURLToPath(new URL('../target-server.js', import.meta.url));
  const child: ChildProcess = fork(script, [hosts.join(',')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      if (child.connected) child.send({ type: 'stop' });
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
  };

  return new Promise<Target>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error('target server did not start within 10 s'));
    }, READY_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`target server exited early (code ${code})`));
    });
    child.on('message', function onReady(msg: TargetMessage) {
      if (msg.type !== 'ready') return;
      clearTimeout(timer);
      child.off('message', onReady);
      resolve({
        listeners: msg.listeners,
        stats: () =>
          new Promise<TargetStats>((res) => {
            const onStats = (m: TargetMessage): void => {
              if (m.type !== 'stats') return;
              child.off('message', onStats);
              res(m.stats);
            };
            child.on('message', onStats);
            child.send({ type: 'stats' });
          }),
        stop,
      });
    });
  });
}
