/**
 * `npm run bench -- reliability`: the promise "nothing acknowledged is ever lost, nothing
 * unacknowledged is ever applied, and the detector comes back by itself", measured with real
 * processes (bench/lib/reliability.ts): kill -9 rounds of the embedded daemon, Redis restart
 * rounds under a fleet of two daemons, and the start-up with 1,000 open incidents.
 * Prints counts and timings, and the offending notes with the answers they got; asserts nothing.
 */
import { checkOptions, numberOption } from './lib/args.js';
import { choiceOption } from './lib/options.js';
import {
  describeProblems,
  type EmbeddedKillResult,
  measureReadyWithOpenIncidents,
  type ReadyWithIncidentsResult,
  type RedisRestartResult,
  runEmbeddedKillRounds,
  runRedisRestartRounds,
} from './lib/reliability.js';
import { fmtInt, percentile, sortedCopy } from './lib/stats.js';
import { printTable } from './lib/table.js';

const OPTIONS = ['rounds', 'redis-rounds', 'redis-signal', 'incidents', 'writers', 'seed'];

const log = (line: string): void => {
  process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${line}\n`);
};

function runRow(name: string, r: EmbeddedKillResult | RedisRestartResult): string[] {
  const ready = sortedCopy(r.timings.map((t) => t.readyMs));
  const ack = sortedCopy(r.timings.map((t) => t.firstAckMs));
  const v = r.notes;
  return [
    name,
    String(r.rounds),
    fmtInt(v.acked),
    fmtInt(v.lost),
    fmtInt(v.failed),
    fmtInt(v.failedApplied),
    `${fmtInt(v.unknown)} (${fmtInt(v.unknownApplied)} applied)`,
    fmtInt(v.duplicates),
    String(r.confirm.status ?? 'none'),
    r.resolved ? 'yes' : `no (${r.finalStatus})`,
    String(r.incidentsAtEnd),
    `${fmtInt(percentile(ready, 50))} / ${fmtInt(ready[ready.length - 1] ?? Number.NaN)}`,
    `${fmtInt(percentile(ack, 50))} / ${fmtInt(ack[ack.length - 1] ?? Number.NaN)}`,
  ];
}

export async function reliabilityBench(args: readonly string[]): Promise<void> {
  checkOptions(args, OPTIONS);
  const rounds = numberOption(args, 'rounds', 20, 0);
  const redisRounds = numberOption(args, 'redis-rounds', 10, 0);
  const incidents = numberOption(args, 'incidents', 1000, 0);
  const writers = numberOption(args, 'writers', 3);
  const seed = numberOption(args, 'seed', Math.floor(Math.random() * 2 ** 31), 0);
  const signal = choiceOption(args, 'redis-signal', ['SIGTERM', 'SIGKILL'], 'SIGTERM');

  process.stdout.write(
    `\n## reliability: kill -9 (${rounds} rounds), Redis ${signal} (${redisRounds} rounds), start-up with ${incidents} open incidents; seed ${seed}\n`,
  );
  const runs: [string, EmbeddedKillResult | RedisRestartResult][] = [];
  const failures: string[] = [];
  if (rounds > 0) {
    log(`embedded: ${rounds} kill -9 rounds`);
    try {
      runs.push(['embedded, kill -9', await runEmbeddedKillRounds({ rounds, writers, seed, log })]);
    } catch (err) {
      failures.push(`embedded kill -9 rounds stopped: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (redisRounds > 0) {
    log(`fleet: ${redisRounds} Redis ${signal} rounds`);
    try {
      runs.push([`fleet, Redis ${signal}`, await runRedisRestartRounds({ rounds: redisRounds, writers, seed, signal, log })]);
    } catch (err) {
      failures.push(`Redis restart rounds stopped: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let ready: ReadyWithIncidentsResult | undefined;
  if (incidents > 0) {
    log(`start-up with ${incidents} open incidents`);
    try {
      ready = await measureReadyWithOpenIncidents({ incidents, log });
    } catch (err) {
      failures.push(`start-up with ${incidents} open incidents: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  if (runs.length > 0) {
    printTable(
      ['run', 'rounds', 'acked', 'lost', 'failed', 'failed but applied', 'unknown', 'duplicates', 'confirm', 'resolved', 'incidents', 'ready ms (median / max)', 'first ack ms (median / max)'],
      runs.map(([name, r]) => runRow(name, r)),
      { title: 'Notes written while the daemon is killed (embedded) or Redis restarts (fleet); ready and first ack from spawn (embedded) or Redis restart (fleet)' },
    );
    for (const [name, r] of runs) {
      const problems = describeProblems(r);
      if (problems) process.stdout.write(`\n${name} (seed ${r.seed}, incident ${r.incidentId}):\n${problems}\n`);
    }
  }
  if (ready) {
    printTable(
      ['open incidents', 'probes (1 h)', 'seed ms', 'spawn → /readyz 200 ms', 'spawn → 2xx note ms', 'open listed'],
      [[ready.incidents, ready.probes, ready.seedMs, ready.readyMs, ready.firstNoteMs, ready.openListed].map(fmtInt)],
      { title: 'Start-up with open incidents in the SQLite store' },
    );
  }
  for (const f of failures) process.stdout.write(`\n${f}\n`);
}
