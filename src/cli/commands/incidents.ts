import { type Command, InvalidArgumentError, Option } from 'commander';
import { MAX_PAGE_SIZE } from '../../api/schemas.js';
import { operatorTime } from '../../api/time-input.js';
import { type ComponentImpact, parseComponentImpact } from '../../engine/edit.js';
import { type Incident, INCIDENT_STATUSES, REVIEW_STATES, UPDATE_PHASES, type UpdatePhase } from '../../events/incident.js';
import { renderMarkdown } from '../../status/post.js';
import {
  type ComponentCounts,
  countsOf,
  impactBreakdown,
  type ListLimit,
  PAGE_LIST_LIMIT,
  type SignalCounts,
  type SummarisedIncident,
} from '../../events/incident-summary.js';
import type { ApiClient } from '../client.js';
import { type ConnectionFlags, withClient, withConnectionOptions } from '../with-client.js';
import { CliFailure } from '../options.js';
import { escapeControls, renderFields, renderTable } from '../table.js';

const FORMATS = ['table', 'json', 'markdown'] as const;
type Format = (typeof FORMATS)[number];

interface ClientFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly format: Format;
}

/** The options every `incidents` subcommand takes. */
function withClientOptions(cmd: Command): Command {
  return withConnectionOptions(cmd)
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--json', 'print the API\'s JSON (same as --format json)');
}

/** `withClient` with the flags of the `incidents` subcommands. */
const withFlags = <T>(cmd: Command, fn: (client: ApiClient, flags: ClientFlags) => Promise<T>): Promise<T> =>
  withClient<ClientFlags, T>(cmd, fn);

function format(flags: ClientFlags): Format {
  return flags.json ? 'json' : flags.format;
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** `--json`: the API's JSON, with what JSON leaves raw (C1 controls, bidi overrides) as `\uXXXX`. */
function printJson(value: unknown): void {
  print(escapeControls(JSON.stringify(value), { json: true }));
}

/** A markdown post: its lines as they are, any other control character escaped. */
function printMarkdown(text: string): void {
  print(escapeControls(text.replace(/\r\n/g, '\n'), { keepLines: true }));
}

/** `2024-11-18 21:04` (UTC). */
function minute(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : '-';
}

const SHORT_IMPACT: Record<keyof Omit<ComponentCounts, 'total'>, string> = {
  major_outage: 'major',
  partial_outage: 'partial',
  degraded_performance: 'degraded',
};

/** `1 major`, `10000 (9000 major, 1000 partial)`: a list cell. */
export function componentsCell(counts: ComponentCounts): string {
  const parts = impactBreakdown(counts);
  if (parts.length === 0) return String(counts.total);
  if (parts.length === 1 && parts[0]) return `${counts.total} ${SHORT_IMPACT[parts[0].impact]}`;
  return `${counts.total} (${parts.map((p) => `${p.count} ${SHORT_IMPACT[p.impact]}`).join(', ')})`;
}

/** `10000: 9000 major_outage, 1000 partial_outage` (the words of the IMPACT column). */
function componentsField(counts: ComponentCounts): string {
  const parts = impactBreakdown(counts).map((p) => `${p.count} ${p.impact}`);
  return parts.length > 0 ? `${counts.total}: ${parts.join(', ')}` : String(counts.total);
}

/** `10000: 9000 outage, 1000 degraded` (per rule). */
function signalsField(counts: SignalCounts): string {
  const parts = Object.entries(counts.by_rule).map(([rule, n]) => `${n} ${rule}`);
  return parts.length > 0 ? `${counts.total}: ${parts.join(', ')}` : String(counts.total);
}

/** The list view: one row per incident, its components counted per impact. */
export function renderIncidentList(incidents: readonly (Incident | SummarisedIncident)[]): string {
  return renderTable(
    ['ID', 'STATUS', 'REVIEW', 'SEVERITY', 'OPENED (UTC)', 'ROOT', 'COMPONENTS', 'TITLE'],
    incidents.map((i) => [
      i.id,
      i.status,
      i.review,
      i.severity,
      minute(i.opened_at),
      i.root_component,
      componentsCell(countsOf(i).components),
      i.title,
    ]),
    { maxWidth: { 7: 100 } },
  );
}

export interface RenderOptions {
  /** Components and signals listed (default {@link PAGE_LIST_LIMIT}); the counts cover them all. */
  readonly limit?: ListLimit;
}

/**
 * The detailed view: header fields (with the counts per impact and per rule), the first
 * components and signals with "and N more", then the timeline oldest first.
 */
export function renderIncident(i: Incident | SummarisedIncident, opts: RenderOptions = {}): string {
  const limit = opts.limit ?? PAGE_LIST_LIMIT;
  const counts = countsOf(i);
  const header = renderFields([
    ['id', i.id],
    ['title', i.title],
    ['status', i.status],
    ['review', i.review],
    ['severity', i.severity],
    ['opened', `${minute(i.opened_at)} UTC`],
    ['resolved', i.resolved_at ? `${minute(i.resolved_at)} UTC` : '-'],
    ['root', i.root_component],
    ['regions', i.regions.join(', ') || '-'],
    ['affected', componentsField(counts.components)],
    ['signals', signalsField(counts.signals)],
  ]);
  const shownComponents = limit === 'all' ? i.components : i.components.slice(0, limit);
  const components =
    renderTable(
      ['COMPONENT', 'IMPACT'],
      shownComponents.map((c) => [c.id, c.impact]),
    ) + more(counts.components.total - shownComponents.length, i.id);
  const shownSignals = limit === 'all' ? i.signals : i.signals.slice(0, limit);
  const signals =
    renderTable(
      ['RULE', 'PROBE', 'ERROR', 'SINCE (UTC)', 'UNTIL (UTC)', 'TARGETS', 'VANTAGES'],
      shownSignals.map((s) => [s.rule, s.probe, s.error ?? '-', minute(s.since), minute(s.until), s.targets.join(', '), s.vantages.join(', ')]),
      { maxWidth: { 5: 60 } },
    ) + more(counts.signals.total - shownSignals.length, i.id);
  // "hh:mm UTC": a day line before the entries of each day when the timeline spans several.
  const days = new Set(i.timeline.map((e) => e.at.slice(0, 10)));
  const timeline: string[] = [];
  let day = '';
  for (const e of i.timeline) {
    if (days.size > 1 && e.at.slice(0, 10) !== day) {
      day = e.at.slice(0, 10);
      timeline.push(escapeControls(day));
    }
    const kind = e.phase ? `${e.kind} [${e.phase}]` : e.kind;
    const line = `${e.at.slice(11, 16)} UTC  ${kind}  ${e.text.replace(/\s*[\r\n]+\s*/g, ' ')}  (${e.author})`;
    timeline.push(escapeControls(line));
  }
  return [header, components, signals, ['TIMELINE', ...timeline].join('\n') + '\n'].join('\n');
}

function more(n: number, id: string): string {
  return n > 0 ? `... and ${n} more (tocsin incidents show ${escapeControls(id)} --all)\n` : '';
}

/** Component names for the markdown post, from the API (the CLI may run far from the config). */
async function componentNames(client: ApiClient): Promise<{ id: string; name: string }[]> {
  try {
    const { components } = await client.components();
    return components.map((c) => ({ id: c.id, name: c.name }));
  } catch {
    return []; // Ids instead of names: still a readable post.
  }
}

async function showIncident(
  client: ApiClient,
  flags: ClientFlags,
  incident: SummarisedIncident,
  opts: RenderOptions = {},
): Promise<void> {
  switch (format(flags)) {
    case 'json':
      return printJson(incident);
    case 'markdown':
      return printMarkdown(renderMarkdown(incident, await componentNames(client), opts));
    default:
      return print(renderIncident(incident, opts));
  }
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_PAGE_SIZE) {
    throw new InvalidArgumentError(`expected an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  return n;
}

function nonEmpty(what: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${what} must not be empty`);
    return value;
  };
}

/** `--component id=impact`, repeatable: the list so far with this one (a later one for the same id wins). */
export function parseComponentFlag(value: string, previous: ComponentImpact[] = []): ComponentImpact[] {
  const parsed = parseComponentImpact(value);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.message);
  return [...previous.filter((c) => c.id !== parsed.value.id), parsed.value];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface CreateFlags {
  readonly title: string;
  readonly component?: ComponentImpact[];
  readonly openedAt?: string;
  readonly resolvedAt?: string;
  readonly update?: string;
  readonly phase?: UpdatePhase;
}

interface EditFlags {
  readonly title?: string;
  readonly component?: ComponentImpact[];
  readonly remove?: string[];
}

/** The phase option of `create` and `note`. */
function phaseOption(): Option {
  return new Option('--phase <phase>', 'the public update phase').choices(UPDATE_PHASES);
}

/** `2024-11-18T21:00:00Z`, or `2024-11-18 21:00` read as UTC (src/api/time-input.ts, shared with the console). */
function parseTime(flag: string) {
  return (value: string): string => {
    const time = operatorTime(value);
    if (!time.ok) throw new InvalidArgumentError(`${flag}: ${time.message}`);
    return time.value;
  };
}

/**
 * `tocsin incidents list|show|confirm|dismiss|resolve|note|create|edit`: operator commands over the HTTP API
 * (CONTRACT §1). Tables by default, `--json` for the API's JSON, `--format markdown` for a
 * status-page post. Failures are one line on stderr (exit 1); bad usage exits 2.
 */
export function incidentsCommand(program: Command): void {
  const incidents = program
    .command('incidents')
    .description('list, show, confirm, dismiss, resolve, annotate, create and edit incidents through the API');

  withClientOptions(
    incidents
      .command('list')
      .description('incidents, newest first')
      .addOption(new Option('--status <status>', 'only open or resolved ones').choices(INCIDENT_STATUSES))
      .addOption(new Option('--review <review>', 'only pending (drafts), confirmed or dismissed ones').choices(REVIEW_STATES))
      .option('--limit <n>', `at most this many (1 to ${MAX_PAGE_SIZE}, default 50)`, parseLimit)
      .option('--cursor <id>', 'the next page: the id printed after the previous one'),
  ).action(async (opts: { status?: string; review?: string; limit?: number; cursor?: string }, cmd: Command) => {
    await withFlags(cmd, async (client, flags) => {
      const { status, review, limit, cursor } = opts;
      const page = await client.listIncidents({ status, review, limit, cursor });
      const fmt = format(flags);
      if (fmt === 'json') return printJson(page);
      if (fmt === 'markdown') {
        const names = await componentNames(client);
        if (page.incidents.length > 0) printMarkdown(page.incidents.map((i) => renderMarkdown(i, names)).join('\n'));
      } else if (page.incidents.length > 0) {
        print(renderIncidentList(page.incidents));
      } else {
        process.stderr.write('no incidents\n');
      }
      if (page.next_cursor) process.stderr.write(`more: tocsin incidents list --cursor ${escapeControls(page.next_cursor)}\n`);
    });
  });

  withClientOptions(
    incidents
      .command('show')
      .description('one incident (the first components and signals, and how many of each)')
      .argument('<id>', 'incident id')
      .option('--all', 'every component and signal, however many'),
  ).action(async (id: string, opts: { all?: boolean }, cmd: Command) => {
    await withFlags(cmd, async (client, flags) => {
      const lists = opts.all ? ({ components: 'all', signals: 'all' } as const) : {};
      return showIncident(client, flags, await client.getIncident(id, lists), opts.all ? { limit: 'all' } : {});
    });
  });

  withClientOptions(
    incidents
      .command('confirm')
      .description('confirm a draft: it is a real incident (review → confirmed)')
      .argument('<id>', 'incident id')
      .option('--note <text>', 'a comment kept in the timeline'),
  ).action(async (id: string, opts: { note?: string }, cmd: Command) => {
    await withFlags(cmd, async (client, flags) => showIncident(client, flags, await client.confirm(id, opts.note)));
  });

  withClientOptions(
    incidents
      .command('dismiss')
      .description('dismiss a draft: not an incident (review → dismissed)')
      .argument('<id>', 'incident id')
      .requiredOption('--reason <text>', 'why (kept in the timeline)', nonEmpty('--reason')),
  ).action(async (id: string, opts: { reason: string }, cmd: Command) => {
    await withFlags(cmd, async (client, flags) => showIncident(client, flags, await client.dismiss(id, opts.reason)));
  });

  withClientOptions(
    incidents
      .command('resolve')
      .description('resolve an open incident by hand (status → resolved)')
      .argument('<id>', 'incident id')
      .option('--note <text>', 'a comment kept in the timeline'),
  ).action(async (id: string, opts: { note?: string }, cmd: Command) => {
    await withFlags(cmd, async (client, flags) => showIncident(client, flags, await client.resolve(id, opts.note)));
  });

  withClientOptions(
    incidents
      .command('note')
      .description('add a note to the timeline (with --phase, a public update in that phase)')
      .argument('<id>', 'incident id')
      .argument('<text...>', 'the note (several words are joined with spaces)')
      .addOption(phaseOption()),
  ).action(async (id: string, words: string[], opts: { phase?: UpdatePhase }, cmd: Command) => {
    const text = words.join(' ');
    if (text.trim() === '') throw new CliFailure('the note must not be empty', 2);
    await withFlags(cmd, async (client, flags) =>
      showIncident(client, flags, await client.addNote(id, text, opts.phase)),
    );
  });

  withClientOptions(
    incidents
      .command('create')
      .description('write an incident yourself, published at once (past times make a retroactive post)')
      .requiredOption('--title <text>', 'the title', nonEmpty('--title'))
      .option('--component <id=impact>', 'an affected component and its impact (repeat; the first is the root)', parseComponentFlag)
      .option('--opened-at <time>', 'when it started (default: now), RFC 3339 or "YYYY-MM-DD HH:MM" UTC', parseTime('--opened-at'))
      .option('--resolved-at <time>', 'when it ended: the incident is created resolved', parseTime('--resolved-at'))
      .option('--update <text>', 'the first public update (default: the title)', nonEmpty('--update'))
      .addOption(phaseOption()),
  ).action(
    async (opts: CreateFlags, cmd: Command) => {
      if (!opts.component?.length) throw new CliFailure('--component ID=IMPACT: at least one is required', 2);
      if (opts.phase && opts.update === undefined) throw new CliFailure('--phase: give the update it is the phase of (--update TEXT)', 2);
      const body = {
        title: opts.title,
        components: opts.component,
        ...(opts.openedAt ? { opened_at: opts.openedAt } : {}),
        ...(opts.resolvedAt ? { resolved_at: opts.resolvedAt } : {}),
        ...(opts.update === undefined ? {} : { update: { text: opts.update, phase: opts.phase } }),
      };
      await withFlags(cmd, async (client, flags) => showIncident(client, flags, await client.createIncident(body)));
    },
  );

  withClientOptions(
    incidents
      .command('edit')
      .description('edit the title, components or impacts of a draft or a published incident')
      .argument('<id>', 'incident id')
      .option('--title <text>', 'the new title', nonEmpty('--title'))
      .option('--component <id=impact>', 'set a component\'s impact, adding it if not listed (repeat)', parseComponentFlag)
      .option('--remove <id>', 'a component no longer affected (repeat)', collect),
  ).action(async (id: string, opts: EditFlags, cmd: Command) => {
    const set = opts.component ?? [];
    const remove = opts.remove ?? [];
    if (opts.title === undefined && set.length === 0 && remove.length === 0) {
      throw new CliFailure('nothing to edit: give --title, --component or --remove', 2);
    }
    // Changes, not the whole list: the daemon applies them to the list as it is when the edit is
    // written, so a component the detector adds meanwhile is not dropped.
    const body = { title: opts.title, ...(set.length > 0 ? { set } : {}), ...(remove.length > 0 ? { remove } : {}) };
    await withFlags(cmd, async (client, flags) => showIncident(client, flags, await client.editIncident(id, body)));
  });
}
