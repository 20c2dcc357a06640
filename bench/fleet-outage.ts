/**
 * `npm run bench -- fleet-outage`: a fleet across a Redis outage (bench/lib/fleet-outage.ts):
 * checks lost, duplicated and delivered late, and how long a target failing during the outage
 * took to get its draft; with `--before PATH` (another build's bin/tocsin.js) the same run of
 * that build, side by side. Then the chaos run (bench/lib/chaos.ts): worker kill, Redis restart,
 * leader kill, one outage each. Prints figures; asserts nothing.
 */
import { checkOptions, numberOption } from './lib/args.js';
import { runChaos } from './lib/chaos.js';
import { type FleetOutageResult, runFleetOutage } from './lib/fleet-outage.js';
import { textOption } from './lib/options.js';
import { fmtInt } from './lib/stats.js';
import { printTable } from './lib/table.js';

const OPTIONS = ['probes', 'interval', 'outage', 'fault-after', 'before', 'chaos'];

const log = (line: string): void => {
  process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${line}\n`);
};

const seconds = (ms: number): string => (Number.isNaN(ms) ? 'never' : (ms / 1000).toFixed(1));

function row(name: string, r: FleetOutageResult): string[] {
  const counts = [r.expected, r.lost, r.duplicates, r.late].map(fmtInt);
  return [name, ...counts, seconds(r.draftMs), seconds(r.openedAfterMs)];
}

export async function fleetOutageBench(args: readonly string[]): Promise<void> {
  checkOptions(args, OPTIONS);
  const probes = numberOption(args, 'probes', 500);
  const intervalMs = numberOption(args, 'interval', 1, 0.5) * 1000;
  const outageMs = numberOption(args, 'outage', 10, 1) * 1000;
  const faultAfterMs = numberOption(args, 'fault-after', 2, 0) * 1000;
  const before = textOption(args, 'before');
  const chaos = numberOption(args, 'chaos', 1, 0);
  process.stdout.write(
    `\n## fleet-outage: ${probes} http probes every ${intervalMs / 1000} s at one vantage, Redis killed for ${outageMs / 1000} s, a target failing ${faultAfterMs / 1000} s into it\n`,
  );
  const rows: string[][] = [];
  const profiles: string[] = [];
  const opts = { probes, intervalMs, outageMs, faultAfterMs, log };
  const measure = async (name: string, bin?: string): Promise<void> => {
    log(name);
    const r = await runFleetOutage({ ...opts, bin });
    rows.push(row(name, r));
    const [a, b] = r.outageSeconds;
    const marks = r.perSecond.map((n, i) => (i === a ? `[${n}` : i === b ? `${n}]` : String(n)));
    profiles.push(`${name}: ${marks.join(' ')}`);
  };
  if (before) await measure(`before (${before})`, before);
  await measure('this build');
  printTable(
    ['build', 'checks expected', 'lost', 'duplicated', 'delivered > 2 s late', 'fault → draft listed (s)', 'fault → opened_at (s)'],
    rows,
    { title: 'Checks in the window outage − 5 s … outage end + 5 s, as the results stream holds them; the failing target\'s draft' },
  );
  process.stdout.write(`\nDistinct checks per second of the window, by check time ([ … ] = Redis down):\n${profiles.join('\n')}\n`);
  for (let i = 0; i < chaos; i++) {
    log(`chaos run ${i + 1}/${chaos}`);
    const r = await runChaos({ log });
    printTable(
      ['outage', 'fault', 'incidents', 'fault → draft (s)', 'resolved', 'notes acked', 'lost', 'refused but applied', 'duplicated'],
      r.outages.map((o) => [
        o.component,
        o.fault,
        String(o.incidents),
        seconds(o.draftMs),
        o.resolved ? 'yes' : 'no',
        fmtInt(o.notes.acked),
        fmtInt(o.notes.lost),
        fmtInt(o.notes.failedApplied),
        fmtInt(o.notes.duplicates),
      ]),
      { title: `Chaos run ${i + 1}: ${r.incidentsAtEnd} incidents at the end, ${r.confirmsLost} confirmations lost, ${(r.elapsedMs / 1000).toFixed(0)} s` },
    );
  }
}
