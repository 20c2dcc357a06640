import { type ChildProcess, fork } from 'node:child_process';

const READY_TIMEOUT_MS = 10_000;

/**
 * Resolves when `child` has exited, at once if it has already: waiting for an 'exit' event that
 * has fired leaves nothing on the event loop, and the benchmark would end there, silently, with 0.
 */
export function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A forked helper process (a benchmark target) that says `{ type: 'ready' }` once listening. */
export interface ReadyChild<M extends { type: string }> {
  readonly ready: Extract<M, { type: 'ready' }>;
  /** Sends `msg` and resolves with the child's next message of `type`. */
  request<T extends M['type']>(msg: object, type: T): Promise<Extract<M, { type: T }>>;
  /** Asks the child to stop (`{ type: 'stop' }`), kills it after 5 s. */
  stop(): Promise<void>;
}

/**
 * Forks `script` with `args` on an IPC channel and waits for its `ready` message (10 s at most),
 * so its CPU is its own and the benchmark process measures only its side. `name` is for errors.
 */
export function forkReady<M extends { type: string }>(
  script: string,
  args: readonly string[],
  name: string,
): Promise<ReadyChild<M>> {
  const child: ChildProcess = fork(script, [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const request = <T extends M['type']>(msg: object, type: T): Promise<Extract<M, { type: T }>> =>
    new Promise((resolve) => {
      const on = (m: M): void => {
        if (m.type !== type) return;
        child.off('message', on);
        resolve(m as Extract<M, { type: T }>);
      };
      child.on('message', on);
      child.send(msg);
    });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      if (child.connected) child.send({ type: 'stop' });
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${name} did not start within 10 s`));
    }, READY_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited early (code ${code})`));
    });
    child.on('message', function onReady(m: M) {
      if (m.type !== 'ready') return;
      clearTimeout(timer);
      child.off('message', onReady);
      resolve({ ready: m as Extract<M, { type: 'ready' }>, request, stop });
    });
  });
}
