import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { type Command, Option } from 'commander';
import { engineOptionsForPlan, rulesForPlan } from '../../engine/pack.js';
import { eventLineParser, Replay } from '../../engine/replay.js';
import { renderMarkdown } from '../../status/post.js';
import { lineBatches } from '../lines.js';
import { CliFailure, globalOptions, loadPlanOrFail, plural } from '../options.js';

/**
 * `tocsin replay --events FILE|-`: probe-result events through the rules engine on the virtual
 * clock they carry. Never opens the store, the queue or the network. Every malformed line is
 * reported as `LINE N: reason` and nothing is printed on stdout then (exit 1).
 */
export function replayCommand(program: Command): void {
  program
    .command('replay')
    .description('feed probe-result events (JSON lines) through the rules engine and print the incidents')
    .requiredOption('--events <file>', 'JSON-lines events file, - for stdin')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'markdown']).default('json'))
    .action(async (opts: { events: string; format: 'json' | 'markdown' }, cmd: Command) => {
      const plan = await loadPlanOrFail(globalOptions(cmd));
      const replay = new Replay({ plan, rules: rulesForPlan(plan), ...engineOptionsForPlan(plan) });
      const input: Readable = opts.events === '-' ? process.stdin : createReadStream(opts.events);
      const parse = eventLineParser(plan);
      const bad: string[] = [];
      let n = 0;
      try {
        for await (const lines of lineBatches(input)) {
          for (const line of lines) {
            n++;
            if (line.trim() === '') continue;
            const parsed = parse(line);
            if (!parsed.ok) bad.push(`LINE ${n}: ${parsed.reason}`);
            // After a bad line the rest is only checked: the output would be wrong anyway.
            else if (bad.length === 0) replay.feed(parsed.event);
          }
        }
      } catch (err) {
        throw new CliFailure(`cannot read ${opts.events}: ${(err as Error).message}`);
      }
      if (bad.length > 0) throw new CliFailure(`${plural(bad.length, 'malformed line')} in ${opts.events}`, 1, bad);
      const incidents = replay.finish();
      // At-least-once delivery (CONTRACT §5.10): say what changed nothing, on stderr.
      const dropped = Object.entries(replay.engine.dropped()).filter(([, count]) => count > 0);
      if (dropped.length > 0) {
        process.stderr.write(`dropped ${dropped.map(([reason, count]) => `${count} ${reason}`).join(', ')} (docs/rules.md, Delivery)\n`);
      }
      if (opts.format === 'markdown') {
        process.stdout.write(incidents.map((i) => renderMarkdown(i, plan.components)).join('\n'));
      } else {
        process.stdout.write(`${JSON.stringify({ incidents })}\n`);
      }
    });
}
