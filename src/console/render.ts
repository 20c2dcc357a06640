import { createHash } from 'node:crypto';
import { worstStatus } from '../engine/types.js';
import { type Incident, MAX_TEXT_CHARS, MAX_TITLE_CHARS, UPDATE_PHASES } from '../events/incident.js';
import {
  firstPreferred,
  formatCount,
  impactBreakdown,
  PAGE_LIST_LIMIT,
  plural,
  summariseIncident,
} from '../events/incident-summary.js';
import { PHASE_WORDS } from '../status/public-text.js';
import { escapeHtml, moreLine, STATUS_WORDS } from '../status/html.js';
import { CSRF_FIELD } from './csrf.js';
import type { ConsoleComponent, ConsoleProbe, ConsoleView } from './model.js';
import type { Flash } from './sessions.js';
import { sparkline } from './sparkline.js';

/**
 * The operator console's HTML, rendered on the server from a {@link ConsoleView}. Every text from
 * the config, probes or operators goes through escapeHtml (shared with the public status page).
 * The page is usable without its script (forms post and redirect back); the script only swaps in
 * fresh sections (see client.ts), which is why each section is a list of keyed items with a
 * signature of their markup: the client replaces an item only when it changed and nobody is
 * typing in it.
 */

/** Paths of the console (one place, shared by the routes and the markup). */
export const CONSOLE_PATHS = {
  home: '/',
  signIn: '/console/sign-in',
  signOut: '/console/sign-out',
  live: '/console/live.json',
  css: '/console/console.css',
  script: '/console/client.js',
  icon: '/console/icon.svg',
  incident: (id: string, all: IncidentPageLists = {}) =>
    `/console/incidents/${encodeURIComponent(id)}${incidentQuery(all)}`,
  verb: (id: string, verb: ConsoleVerb) => `/console/incidents/${encodeURIComponent(id)}/${verb}`,
  /** An operator-written incident (the "Write an incident" form). */
  create: '/console/incidents',
} as const;

export type ConsoleVerb = 'confirm' | 'dismiss' | 'resolve' | 'notes' | 'edit';

/** The phase select of the note and new-incident forms: no phase, or one of the public update phases. */
function phaseSelect(label: string): string {
  const options = UPDATE_PHASES.map((p) => `<option value="${p}">${PHASE_WORDS[p]}</option>`).join('');
  return `<select name="phase" aria-label="${escapeHtml(label)}"><option value="">No phase</option>${options}</select>`;
}

/** Impacts as the forms take them, one `id=impact` per line. */
const IMPACT_HINT = 'one per line: component-id=major, partial or degraded';

/** What an incident page lists in whole (`?components=all`, `?signals=all`); else the first ones. */
export interface IncidentPageLists {
  readonly components?: boolean;
  readonly signals?: boolean;
}

function incidentQuery(all: IncidentPageLists): string {
  const q = [all.components ? 'components=all' : '', all.signals ? 'signals=all' : ''].filter((p) => p !== '');
  return q.length > 0 ? `?${q.join('&')}` : '';
}

/** Rows a group of the components board shows before "and N more" (a group may hold thousands). */
export const BOARD_GROUP_ROWS = 50;

/** The page's live sections, in page order. */
export const SECTIONS = ['nav', 'drafts', 'open', 'recent', 'components', 'probes'] as const;
export type SectionName = (typeof SECTIONS)[number];

/** What `GET /console/live.json` answers: each section's items, and the counts for the tab title. */
export interface LiveSections {
  readonly title: string;
  readonly sections: Record<SectionName, string>;
}

const SEVERITY_WORDS: Record<Incident['severity'], string> = { minor: 'Minor', major: 'Major', critical: 'Critical' };
const REVIEW_WORDS: Record<Incident['review'], string> = { pending: 'Draft', confirmed: 'Confirmed', dismissed: 'Dismissed' };

/** `2024-11-18 21:03:07 UTC`; unparsable text as is. */
export function utc(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC` : iso;
}

function time(iso: string): string {
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(utc(iso))}</time> <span class="ago" data-since="${escapeHtml(iso)}"></span>`;
}

/** One keyed item of a live section; the signature lets the client skip unchanged items. */
function keyed(tag: string, key: string, attrs: string, inner: string): string {
  const sig = createHash('sha256').update(attrs).update('\u0000').update(inner).digest('hex').slice(0, 16);
  return `<${tag} data-key="${escapeHtml(key)}" data-sig="${sig}"${attrs}>${inner}</${tag}>`;
}

function empty(text: string): string {
  return keyed('p', 'empty', ' class="none"', escapeHtml(text));
}

export function pageTitle(view: Pick<ConsoleView, 'drafts'>): string {
  const waiting = view.drafts.filter((d) => d.status === 'open').length;
  return waiting > 0 ? `(${waiting}) Tocsin console` : 'Tocsin console';
}

/** The sections' inner markup (the live endpoint sends these; the page embeds them). */
export function renderSections(view: ConsoleView): LiveSections {
  const operator = view.principal.role === 'operator';
  const card = (inc: Incident, opts: { timelineOpen: boolean }) => incidentCard(inc, view, { ...opts, operator, back: 'home' });
  return {
    title: pageTitle(view),
    sections: {
      nav: keyed('div', 'nav', ' class="navlinks"', nav(view)),
      drafts: view.drafts.length === 0
        ? empty('No drafts waiting for review.')
        : view.drafts.map((i) => card(i, { timelineOpen: true })).join(''),
      open: view.open.length === 0
        ? empty('No confirmed incident is open.')
        : view.open.map((i) => card(i, { timelineOpen: false })).join(''),
      recent: view.recent.length === 0
        ? empty('Nothing resolved or dismissed yet.')
        : view.recent.map((i) => card(i, { timelineOpen: false })).join(''),
      components: componentsBoard(view.components),
      probes: view.probes.length === 0 ? empty('No probes configured.') : view.probes.map(probeCard).join(''),
    },
  };
}

function nav(view: ConsoleView): string {
  const waiting = view.drafts.filter((d) => d.status === 'open').length;
  return (
    `<a href="#drafts">Drafts <span class="count${waiting > 0 ? ' hot' : ''}" id="draft-count">${view.drafts.length}</span></a>` +
    `<a href="#open">Open <span class="count">${view.open.length}</span></a>` +
    '<a href="#recent">Recent</a><a href="#components">Components</a><a href="#probes">Probes</a>' +
    '<a href="/status">Public page</a>'
  );
}

const SECTION_HEADINGS: Record<Exclude<SectionName, 'nav'>, string> = {
  drafts: 'Drafts to review',
  open: 'Open incidents',
  recent: 'Recently resolved or dismissed',
  components: 'Components',
  probes: 'Probes',
};

/** The whole console page. */
export function renderConsolePage(view: ConsoleView): string {
  const live = renderSections(view);
  const who = `${escapeHtml(view.principal.name)} <span class="role">${view.principal.role}</span>`;
  const body = [
    '<header class="top">',
    '<div class="brand"><strong>Tocsin</strong> console</div>',
    `<nav data-live="nav">${live.sections.nav}</nav>`,
    `<div class="who">${who}`,
    `<form method="post" action="${CONSOLE_PATHS.signOut}" class="inline">${csrfField(view.csrf)}<button class="btn link" data-action="sign-out">Sign out</button></form>`,
    '</div>',
    '</header>',
    '<main>',
    view.flash ? flashBox(view.flash) : '',
    view.principal.role === 'viewer' ? '<p class="readonly">Signed in with a viewer token: read only.</p>' : '',
    '<p class="live-state" id="live-state" aria-live="polite"></p>',
    view.principal.role === 'operator' ? writeIncidentForm(view.csrf) : '',
  ];
  for (const s of SECTIONS) {
    if (s === 'nav') continue;
    body.push(`<section id="${s}"><h2>${SECTION_HEADINGS[s]}</h2><div data-live="${s}">${live.sections[s]}</div></section>`);
  }
  body.push('</main>');
  return layout(live.title, body.join('\n'), { script: true, csrf: view.csrf });
}

/**
 * One incident on its own page (a link target for notifications): the first components and
 * signals like a card, or every one of them when `all` asks (the page's "show all" links).
 */
export function renderIncidentPage(view: ConsoleView, inc: Incident, all: IncidentPageLists = {}): string {
  const operator = view.principal.role === 'operator';
  const body = [
    '<header class="top"><div class="brand"><strong>Tocsin</strong> console</div>',
    `<nav><div class="navlinks"><a href="${CONSOLE_PATHS.home}">← All incidents</a></div></nav>`,
    `<div class="who">${escapeHtml(view.principal.name)} <span class="role">${view.principal.role}</span></div></header>`,
    '<main>',
    view.flash ? flashBox(view.flash) : '',
    incidentCard(inc, view, { timelineOpen: true, operator, back: 'incident', all }),
    '</main>',
  ];
  return layout(`${inc.title} — Tocsin console`, body.join('\n'), { script: false });
}

export function renderSignInPage(opts: { csrf: string; error?: string }): string {
  const body = [
    '<main class="narrow">',
    '<h1><strong>Tocsin</strong> console</h1>',
    opts.error ? flashBox({ kind: 'error', text: opts.error }) : '',
    `<form method="post" action="${CONSOLE_PATHS.signIn}" class="card signin">`,
    csrfField(opts.csrf),
    '<label for="token">API token (operator or viewer)</label>',
    '<input id="token" name="token" type="password" autocomplete="current-password" required autofocus spellcheck="false">',
    '<button class="btn primary" type="submit">Sign in</button>',
    '</form>',
    '<p class="muted">A local install keeps its generated operator token in <code>data/operator.token</code>. ' +
      'The token is checked once; the browser keeps only a session cookie.</p>',
    '</main>',
  ];
  return layout('Sign in — Tocsin console', body.join('\n'), { script: false });
}

/** A refusal or failure page (403 for CSRF and roles, 404, ...). */
export function renderErrorPage(title: string, message: string): string {
  const body = [
    '<main class="narrow">',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(message)}</p>`,
    `<p><a href="${CONSOLE_PATHS.home}">Back to the console</a></p>`,
    '</main>',
  ];
  return layout(`${title} — Tocsin console`, body.join('\n'), { script: false });
}

function layout(title: string, body: string, opts: { script: boolean; csrf?: string }): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    '<meta name="referrer" content="same-origin">',
    opts.csrf ? `<meta name="csrf-token" content="${escapeHtml(opts.csrf)}">` : '',
    `<title>${escapeHtml(title)}</title>`,
    `<link rel="stylesheet" href="${CONSOLE_PATHS.css}">`,
    `<link rel="icon" href="${CONSOLE_PATHS.icon}" type="image/svg+xml">`,
    opts.script ? `<script type="module" src="${CONSOLE_PATHS.script}"></script>` : '',
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].filter((l) => l !== '').join('\n');
}

function flashBox(f: Flash): string {
  return `<p class="flash ${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}">${escapeHtml(f.text)}</p>`;
}

function csrfField(token: string): string {
  return `<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(token)}">`;
}

function incidentCard(
  inc: Incident,
  view: Pick<ConsoleView, 'csrf' | 'componentNames'>,
  opts: { timelineOpen: boolean; operator: boolean; back: 'home' | 'incident'; all?: IncidentPageLists },
): string {
  const name = (id: string) => view.componentNames[id] ?? id;
  const all = opts.all ?? {};
  // A zone failure is one incident with thousands of components (CONTRACT §5.11): the card lists
  // the first ones, counts the rest per impact, and links to the page listing them all.
  const sum = summariseIncident(inc, {
    components: all.components ? 'all' : PAGE_LIST_LIMIT,
    signals: all.signals ? 'all' : PAGE_LIST_LIMIT,
  });
  const badges = [
    `<span class="badge sev-${inc.severity}">${SEVERITY_WORDS[inc.severity]}</span>`,
    `<span class="badge rv-${inc.review}">${REVIEW_WORDS[inc.review]}</span>`,
    `<span class="badge st-${inc.status}">${inc.status === 'open' ? 'Open' : 'Resolved'}</span>`,
  ].join(' ');
  const meta =
    `${badges} · opened ${time(inc.opened_at)}` +
    (inc.resolved_at ? ` · resolved ${time(inc.resolved_at)}` : '') +
    (inc.regions.length > 0 ? ` · ${escapeHtml(inc.regions.join(', '))}` : '') +
    ` · <a href="${CONSOLE_PATHS.incident(inc.id)}">${escapeHtml(inc.id)}</a>`;
  const counts = sum.componentCounts;
  const countsLine =
    counts.total > PAGE_LIST_LIMIT
      ? `<p class="counts">${plural(counts.total, 'component')}: ` +
        impactBreakdown(counts)
          .map((p) => `<span class="imp imp-${p.impact}">${formatCount(p.count)} ${STATUS_WORDS[p.impact]}</span>`)
          .join(' · ') +
        '</p>'
      : '';
  const impacts =
    sum.components
      .map(
        (c) =>
          `<li><span class="imp imp-${c.impact}">${STATUS_WORDS[c.impact]}</span> ${escapeHtml(name(c.id))} <code>${escapeHtml(c.id)}</code>` +
          `${c.id === inc.root_component ? ' <span class="muted">(root)</span>' : ''}</li>`,
      )
      .join('') +
    (sum.moreComponents > 0
      ? `<li class="more">and ${formatCount(sum.moreComponents)} more · ` +
        `<a href="${escapeHtml(CONSOLE_PATHS.incident(inc.id, { ...all, components: true }))}" data-show="components">show all</a></li>`
      : '');
  const signals = sum.signals
    .map(
      (s) =>
        '<tr>' +
        `<td><code>${escapeHtml(s.probe)}</code><div class="muted">${escapeHtml(s.rule)}</div></td>` +
        `<td>${s.targets.map((t) => `<div class="target">${escapeHtml(t)}</div>`).join('')}</td>` +
        `<td>${escapeHtml(s.vantages.join(', '))}</td>` +
        `<td>${s.error ? `<code class="err">${escapeHtml(s.error)}</code>` : '—'}</td>` +
        `<td>${time(s.since)}${s.until ? `<div class="muted">until ${escapeHtml(utc(s.until))}</div>` : ''}</td>` +
        '</tr>',
    )
    .join('');
  const byRule = Object.entries(sum.signalCounts.by_rule)
    .map(([rule, n]) => `${escapeHtml(rule)}: ${formatCount(n)}`)
    .join(', ');
  const moreSignals =
    sum.moreSignals > 0
      ? `<p class="more">and ${formatCount(sum.moreSignals)} more (${plural(sum.signalCounts.total, 'signal')}; ${byRule}) · ` +
        `<a href="${escapeHtml(CONSOLE_PATHS.incident(inc.id, { ...all, signals: true }))}" data-show="signals">show all</a></p>`
      : '';
  const timeline = inc.timeline
    .map(
      (e) =>
        `<li class="tl-${e.kind}"><time datetime="${escapeHtml(e.at)}">${escapeHtml(utc(e.at))}</time> ` +
        `<span class="kind">${escapeHtml(e.kind.replace('_', ' '))}</span> ` +
        `${e.phase ? `<span class="phase">${PHASE_WORDS[e.phase]}</span> ` : ''}${escapeHtml(e.text)}` +
        ` <span class="author">— ${escapeHtml(e.author)}</span></li>`,
    )
    .join('');
  const inner = [
    `<h3>${escapeHtml(inc.title)}</h3>`,
    `<p class="meta">${meta}</p>`,
    '<h4>Components and impact</h4>',
    countsLine,
    `<ul class="impacts">${impacts}</ul>`,
    `<h4>Signals</h4><div class="scroll"><table class="signals"><thead><tr><th>Probe / rule</th><th>Targets</th><th>Vantages</th><th>Error</th><th>Since</th></tr></thead><tbody>${signals}</tbody></table></div>`,
    moreSignals,
    `<details data-d="timeline"${opts.timelineOpen ? ' open' : ''}><summary>Timeline (${inc.timeline.length})</summary><ol class="timeline">${timeline}</ol></details>`,
    opts.operator ? actions(inc, view.csrf, opts.back) : '',
  ].join('');
  const attrs =
    ` id="${escapeHtml(inc.id)}" class="card inc rv-${inc.review} st-${inc.status}" data-review="${inc.review}" data-status="${inc.status}"`;
  return keyed('article', inc.id, attrs, inner);
}

function actions(inc: Incident, csrf: string, back: 'home' | 'incident'): string {
  const form = (verb: ConsoleVerb, fields: string, button: string, cls: string) =>
    `<form method="post" action="${CONSOLE_PATHS.verb(inc.id, verb)}" class="act" data-verb="${verb}">` +
    `${csrfField(csrf)}<input type="hidden" name="back" value="${back}">${fields}` +
    `<button class="btn ${cls}" type="submit" data-action="${verb}">${button}</button></form>`;
  const out: string[] = [];
  if (inc.review === 'pending') {
    const retro = inc.status === 'resolved' ? ' (retroactive)' : '';
    out.push(
      form('confirm', `<input name="note" maxlength="${MAX_TEXT_CHARS}" placeholder="Public update (optional)" aria-label="Public update published with the confirmation">`, `Confirm${retro}`, 'primary'),
      form('dismiss', `<input name="reason" maxlength="${MAX_TEXT_CHARS}" required placeholder="Why is this not an incident? (required)" aria-label="Reason for dismissing">`, 'Dismiss', 'warn'),
    );
  }
  if (inc.status === 'open' && inc.review !== 'dismissed') {
    out.push(form('resolve', `<input name="note" maxlength="${MAX_TEXT_CHARS}" placeholder="Resolution note (optional)" aria-label="Resolution note">`, 'Resolve', 'plain'));
  }
  out.push(
    form(
      'notes',
      `<input name="text" maxlength="${MAX_TEXT_CHARS}" required placeholder="Add a note to the timeline" aria-label="Note">` +
        phaseSelect('Public update phase'),
      'Add note',
      'plain',
    ),
  );
  // Title, components and impacts of a draft or a published incident; a dismissed one is not an incident.
  const edit =
    inc.review === 'dismissed'
      ? ''
      : '<details class="edit" data-d="edit"><summary>Edit title, components and impacts</summary>' +
        form(
          'edit',
          `<label>Title <input name="title" maxlength="${MAX_TITLE_CHARS}" value="${escapeHtml(inc.title)}" aria-label="Title"></label>` +
            `<label>Set impacts <textarea name="set" rows="3" placeholder="${IMPACT_HINT}" aria-label="Impacts to set"></textarea></label>` +
            '<label>Remove components <input name="remove" placeholder="component ids, separated by spaces or commas" aria-label="Components to remove"></label>',
          'Save edit',
          'plain',
        ) +
        '</details>';
  return `<div class="actions">${out.join('')}</div>${edit}`;
}

/** The form of an operator-written incident: published at once; past times make a retroactive post. */
function writeIncidentForm(csrf: string): string {
  return (
    '<details class="card write" data-d="write"><summary>Write an incident (published at once)</summary>' +
    `<form method="post" action="${CONSOLE_PATHS.create}" class="write" data-verb="create">${csrfField(csrf)}` +
    `<label>Title <input name="title" maxlength="${MAX_TITLE_CHARS}" required aria-label="Title"></label>` +
    `<label>Components and impacts <textarea name="components" rows="3" required placeholder="${IMPACT_HINT} (the first is the root)" aria-label="Components and impacts"></textarea></label>` +
    '<label>Started (UTC, empty: now) <input name="opened_at" type="datetime-local" step="60" aria-label="Started at, UTC"></label>' +
    '<label>Ended (UTC, for a post about the past) <input name="resolved_at" type="datetime-local" step="60" aria-label="Ended at, UTC"></label>' +
    `<label>First public update <input name="update" maxlength="${MAX_TEXT_CHARS}" placeholder="(default: the title)" aria-label="First public update"></label>` +
    phaseSelect('Phase of the first update') +
    '<button class="btn primary" type="submit" data-action="create">Publish</button></form></details>'
  );
}

function componentsBoard(components: readonly ConsoleComponent[]): string {
  if (components.length === 0) return empty('No components configured.');
  const groups = new Map<string, ConsoleComponent[]>();
  for (const c of components) {
    const members = groups.get(c.group);
    if (members) members.push(c);
    else groups.set(c.group, [c]);
  }
  return [...groups]
    .map(([group, members]) => {
      const worst = worstStatus(members.map((m) => m.status));
      // A group of thousands (a zone's apps) shows those in trouble first, then a count of the rest.
      const { shown, more } = firstPreferred(members, (m) => m.status !== 'operational', BOARD_GROUP_ROWS);
      const rows = shown
        .map((c) => {
          const incs = c.incidents
            .map((i) => `<a href="#${escapeHtml(i.id)}" class="badge rv-${i.review}">${i.review === 'pending' ? 'draft' : escapeHtml(i.review)} ${escapeHtml(i.id)}</a>`)
            .join(' ');
          return (
            `<div class="row" data-component="${escapeHtml(c.id)}" data-status="${c.status}">` +
            `<span>${escapeHtml(c.name)}${c.region ? ` <span class="muted">${escapeHtml(c.region)}</span>` : ''} ${incs}</span>` +
            `<span class="status s-${c.status}"><span class="dot"></span>${STATUS_WORDS[c.status]}</span></div>`
          );
        })
        .join('');
      const moreRow = more > 0 ? `<div class="row more">${escapeHtml(moreLine(shown, members, more))}</div>` : '';
      return keyed('div', `group:${group}`, ` class="group" data-worst="${worst}"`, `<h3>${escapeHtml(group)}</h3>${rows}${moreRow}`);
    })
    .join('');
}

function probeCard(p: ConsoleProbe): string {
  const rows = p.series
    .map((s) => {
      const r = s.latest;
      const result = !r
        ? '<span class="muted">not run yet</span>'
        : r.ok
          ? '<span class="ok">OK</span>'
          : `<span class="fail">${escapeHtml(r.error ?? 'failed')}</span>${r.detail ? `<div class="muted detail">${escapeHtml(r.detail)}</div>` : ''}`;
      return (
        `<tr data-target="${escapeHtml(s.target ?? '')}" data-vantage="${escapeHtml(s.vantage)}">` +
        `<td class="target">${escapeHtml(s.target ?? '—')}</td>` +
        `<td>${escapeHtml(s.vantage)}</td>` +
        `<td>${result}</td>` +
        `<td class="num">${r?.duration_ms !== undefined ? `${Math.round(r.duration_ms)} ms` : '—'}</td>` +
        `<td>${r ? `<time datetime="${escapeHtml(r.at)}">${escapeHtml(utc(r.at).slice(11))}</time>` : '—'}</td>` +
        `<td>${sparkline(s.history)}</td>` +
        '</tr>'
      );
    })
    .join('');
  const inner =
    `<h3><code>${escapeHtml(p.id)}</code> <span class="muted">${escapeHtml(p.kind)} · ${escapeHtml(p.component)} · every ${escapeHtml(p.interval)}</span></h3>` +
    '<div class="scroll"><table class="probes"><thead><tr><th>Target</th><th>Vantage</th><th>Latest</th><th>Duration</th><th>At</th><th>Recent latency</th></tr></thead>' +
    `<tbody>${rows}</tbody></table></div>`;
  return keyed('div', `probe:${p.id}`, ` class="card probe" data-probe="${escapeHtml(p.id)}"`, inner);
}
