import type { ComponentStatus } from '../engine/types.js';
import { firstPreferred, formatCount, impactBreakdown, plural } from '../events/incident-summary.js';
import { everyDay, type PublicHistory } from './history.js';
import type { PublicComponent, PublicIncident, PublicMaintenance, StatusModel } from './model.js';

/**
 * The public status page as one server-rendered HTML document: inline CSS, no script, no external
 * resource (fonts, images, analytics), so it loads on a phone over a bad link and keeps working
 * when everything else is down. Every piece of text goes through {@link escapeHtml}: component
 * names come from the config and notes from operators, neither is trusted markup.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' };

/** Words a reader understands, next to each colour (colour alone is not enough). */
export const STATUS_WORDS: Record<ComponentStatus, string> = {
  operational: 'Operational',
  under_maintenance: 'Under maintenance',
  degraded_performance: 'Degraded performance',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
};

/** The banner above everything. */
export const OVERALL_WORDS: Record<ComponentStatus, string> = {
  operational: 'All systems operational',
  under_maintenance: 'Scheduled maintenance in progress',
  degraded_performance: 'Some systems are experiencing degraded performance',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
};

const COLOURS: Record<ComponentStatus, string> = {
  operational: '#1a7f37',
  under_maintenance: '#1f6feb',
  degraded_performance: '#9a6700',
  partial_outage: '#c4470c',
  major_outage: '#cf222e',
};

const SEVERITY_WORDS: Record<PublicIncident['severity'], string> = { minor: 'Minor', major: 'Major', critical: 'Critical' };

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f6f8fa}
main{max-width:46rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.75rem 0 .5rem}
h3{font-size:1rem;margin:1rem 0 .25rem;color:#59636e}
.banner{padding:.9rem 1rem;border-radius:.5rem;color:#fff;font-weight:600;font-size:1.1rem}
.card{background:#fff;border:1px solid #d1d9e0;border-radius:.5rem;margin:.5rem 0;padding:.75rem 1rem}
.group{background:#fff;border:1px solid #d1d9e0;border-radius:.5rem;margin:.5rem 0;overflow:hidden}
.group h3{margin:0;padding:.5rem 1rem;background:#f6f8fa;border-bottom:1px solid #d1d9e0;color:#1f2328}
.row{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem 1rem;padding:.5rem 1rem;border-top:1px solid #eff2f5}
.group h3+.row{border-top:0}
.region{color:#59636e;font-size:.85rem}
.status{font-weight:600;white-space:nowrap}
.dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.4rem;vertical-align:baseline}
.maint{border-left:.3rem solid ${COLOURS.under_maintenance}}
.inc{border-left:.3rem solid #d1d9e0}
.inc h4{margin:0 0 .25rem;font-size:1.05rem}
.meta{color:#59636e;font-size:.85rem;margin:0 0 .5rem}
.affected{margin:.25rem 0 .5rem;padding-left:1.2rem}
.more{color:#59636e}
.inc p{margin:.4rem 0;overflow-wrap:anywhere}
.label{font-weight:600}
.retro{color:#8250df}
.none{color:#59636e}
.stale{border-left:.3rem solid #9a6700}
.hist{flex-basis:100%;margin:.15rem 0 .1rem}
.bars{display:block;width:100%;height:2rem}
.legend{display:flex;justify-content:space-between;color:#59636e;font-size:.8rem}
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
footer{color:#59636e;font-size:.85rem;margin:2rem 0 1rem}
a{color:#0969da}
`;

/**
 * `stale`: the model is the last one built before the store became unreachable; the page says so
 * under the banner, with the time it dates from.
 */
export function renderStatusHtml(model: StatusModel, opts: { title?: string; stale?: boolean } = {}): string {
  const title = opts.title ?? 'System status';
  const active = model.maintenance.filter((m) => m.active);
  const upcoming = model.maintenance.filter((m) => !m.active);
  const open = model.incidents.filter((i) => i.status === 'open');
  const past = model.incidents.filter((i) => i.status !== 'open');
  const parts = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    // A status page is left open in a tab during an incident: refresh without any script.
    '<meta http-equiv="refresh" content="60">',
    `<title>${escapeHtml(title)} — ${escapeHtml(OVERALL_WORDS[model.overall])}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<div class="banner" id="overall" data-status="${model.overall}" style="background:${COLOURS[model.overall]}">${escapeHtml(OVERALL_WORDS[model.overall])}</div>`,
  ];
  if (opts.stale) {
    parts.push(
      `<p class="card stale" id="stale">This page could not be updated: it shows the situation as of ${escapeHtml(model.generated_at.slice(0, 16).replace('T', ' '))} UTC and will update again automatically.</p>`,
    );
  }
  if (active.length > 0 || upcoming.length > 0) {
    parts.push('<section id="maintenance">');
    for (const m of active) parts.push(maintenanceCard(m, 'Maintenance in progress'));
    for (const m of upcoming) parts.push(maintenanceCard(m, 'Scheduled maintenance'));
    parts.push('</section>');
  }
  if (open.length > 0) {
    parts.push('<section id="ongoing">', '<h2>Ongoing incidents</h2>');
    for (const inc of open) parts.push(incidentCard(inc));
    parts.push('</section>');
  }
  parts.push('<section id="components">', '<h2>Components</h2>');
  for (const [group, members] of groups(model.components)) {
    parts.push('<div class="group">', `<h3>${escapeHtml(group)}</h3>`);
    // A group of thousands (a zone's apps) shows those in trouble first, then a count of the rest.
    const { shown, more } = firstPreferred(members, (c) => c.status !== 'operational', GROUP_ROWS);
    for (const c of shown) parts.push(componentRow(c));
    if (more > 0) parts.push(`<div class="row more">${escapeHtml(moreLine(shown, members, more))}</div>`);
    parts.push('</div>');
  }
  parts.push('</section>');
  parts.push('<section id="past">', '<h2>Past incidents</h2>');
  if (past.length === 0) parts.push('<p class="none">No incidents reported in the last 7 days.</p>');
  for (const [day, list] of byDay(past)) {
    parts.push(`<h3>${escapeHtml(day)}</h3>`);
    for (const inc of list) parts.push(incidentCard(inc));
  }
  parts.push('</section>');
  parts.push(
    `<footer>Updated ${escapeHtml(model.generated_at.slice(0, 16).replace('T', ' '))} UTC · times are UTC · <a href="status.json">JSON</a></footer>`,
    '</main>',
    '</body>',
    '</html>',
    '',
  );
  return parts.join('\n');
}

/** Rows a group of the components list shows before "and N more" (`/status.json` has every one). */
export const GROUP_ROWS = 50;

/** Groups in the config's order of first appearance, members in config order. */
function groups(components: readonly PublicComponent[]): Map<string, PublicComponent[]> {
  const out = new Map<string, PublicComponent[]>();
  for (const c of components) {
    const members = out.get(c.group);
    if (members) members.push(c);
    else out.set(c.group, [c]);
  }
  return out;
}

const STATUS_ORDER: readonly ComponentStatus[] = [
  'major_outage',
  'partial_outage',
  'degraded_performance',
  'under_maintenance',
  'operational',
];

/**
 * `and 9,950 more: 9,000 Major outage, 950 Operational`: the statuses of the members of a group
 * left out of a bounded list (shared with the console's board). Plain text: escape it.
 */
export function moreLine<T extends { readonly status: ComponentStatus }>(
  shown: readonly T[],
  members: readonly T[],
  more: number,
): string {
  const hidden = new Map<ComponentStatus, number>();
  for (const m of members) hidden.set(m.status, (hidden.get(m.status) ?? 0) + 1);
  for (const m of shown) hidden.set(m.status, (hidden.get(m.status) ?? 0) - 1);
  const parts = STATUS_ORDER.filter((s) => (hidden.get(s) ?? 0) > 0).map((s) => `${formatCount(hidden.get(s) ?? 0)} ${STATUS_WORDS[s]}`);
  return `and ${formatCount(more)} more: ${parts.join(', ')}`;
}

function componentRow(c: PublicComponent): string {
  const region = c.region ? ` <span class="region">${escapeHtml(c.region)}</span>` : '';
  return (
    `<div class="row" data-component="${escapeHtml(c.id)}" data-status="${c.status}">` +
    `<span>${escapeHtml(c.name)}${region}</span>` +
    `<span class="status" style="color:${COLOURS[c.status]}"><span class="dot" style="background:${COLOURS[c.status]}"></span>${STATUS_WORDS[c.status]}</span>` +
    (c.history ? historyBars(c.history) : '') +
    '</div>'
  );
}

/** A day without data (before history started): grey, not green. */
const NO_DATA_COLOUR = '#d1d9e0';
/** Days a bar's text fallback names one by one; the rest are counted. */
const LISTED_DAYS = 10;

/** `99.95%`, truncated (never rounded up to 100% while there was downtime). */
export function uptimeText(uptime: number | null): string {
  return uptime === null ? 'no data' : `${(Math.floor(uptime * 100) / 100).toFixed(2)}%`;
}

/**
 * A component's 90 daily bars as inline SVG (no script, nothing fetched: the page's CSP holds).
 * Each bar's `<title>` is the browser's own tooltip; a visually hidden paragraph says the same
 * in text for screen readers and text browsers.
 */
function historyBars(h: PublicHistory): string {
  const days = everyDay(h);
  const step = 6;
  const rects = days.map((d, i) => {
    const colour = d.worst === 'no_data' ? NO_DATA_COLOUR : COLOURS[d.worst];
    const words = d.worst === 'no_data' ? 'No data' : `${uptimeText(d.uptime)} uptime, ${STATUS_WORDS[d.worst]}`;
    return (
      `<rect x="${i * step}" y="0" width="${step - 1.5}" height="32" rx="1" fill="${colour}" data-day="${escapeHtml(d.day)}" data-worst="${d.worst}">` +
      `<title>${escapeHtml(d.day)}: ${escapeHtml(words)}</title></rect>`
    );
  });
  const summary = `${uptimeText(h.uptime)} uptime over ${days.length} days; ${plural(h.days_with_incidents, 'day')} with incidents`;
  const notable = h.days.filter((d) => d.worst !== 'operational' && d.worst !== 'no_data');
  const listed = notable
    .slice(-LISTED_DAYS)
    .map((d) => `${d.day} ${STATUS_WORDS[d.worst as ComponentStatus].toLowerCase()} (${uptimeText(d.uptime)})`);
  const more = notable.length - listed.length;
  const detail = listed.length > 0 ? `: ${listed.join(', ')}${more > 0 ? `, and ${formatCount(more)} earlier` : ''}` : '';
  return (
    `<div class="hist" data-uptime="${h.uptime ?? ''}">` +
    `<svg class="bars" viewBox="0 0 ${days.length * step} 32" preserveAspectRatio="none" aria-hidden="true">${rects.join('')}</svg>` +
    `<div class="legend" aria-hidden="true"><span>${days.length} days ago</span><span>${escapeHtml(uptimeText(h.uptime))} uptime</span><span>Today</span></div>` +
    `<p class="sr">${escapeHtml(summary + detail)}</p>` +
    '</div>'
  );
}

/** `Mon 18 Nov 21:00–23:00 UTC`, or both dates when the window spans midnight. */
export function windowSpan(startIso: string, endIso: string): string {
  const day = (iso: string) => {
    const d = new Date(iso);
    return `${WEEKDAYS[d.getUTCDay()] ?? ''} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()] ?? ''}`;
  };
  const time = (iso: string) => new Date(iso).toISOString().slice(11, 16);
  return new Date(startIso).toISOString().slice(0, 10) === new Date(endIso).toISOString().slice(0, 10)
    ? `${day(startIso)} ${time(startIso)}–${time(endIso)} UTC`
    : `${day(startIso)} ${time(startIso)} – ${day(endIso)} ${time(endIso)} UTC`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LONG_WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const LONG_MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

function maintenanceCard(m: PublicMaintenance, heading: string): string {
  const affects = m.components.map((c) => c.name).join(', ');
  return (
    `<div class="card maint" data-maintenance="${escapeHtml(m.id)}" data-active="${m.active}">` +
    `<strong>${heading}:</strong> ${escapeHtml(m.title)}, ${escapeHtml(windowSpan(m.start, m.end))}` +
    `${m.recurring ? ' (recurring)' : ''}, affects: ${escapeHtml(affects)}` +
    '</div>'
  );
}

const IMPACT_WORDS: Record<PublicIncident['components'][number]['impact'], string> = {
  degraded_performance: 'degraded performance',
  partial_outage: 'partial outage',
  major_outage: 'major outage',
};

function incidentCard(inc: PublicIncident): string {
  const state = inc.status === 'open' ? 'Ongoing' : 'Resolved';
  const open = inc.status === 'open';
  // The seeds' per-service availability list: "Load Balancing: OK, Metrics API: KO". A zone
  // failure (CONTRACT §5.11) gets a count per impact, its first components, and "and N more".
  const counts = inc.component_counts;
  const hidden = counts.total - inc.components.length;
  const countLine =
    hidden > 0
      ? `<p class="affected-count">${plural(counts.total, 'component')} affected` +
        (open
          ? `: ${impactBreakdown(counts).map((p) => `${formatCount(p.count)} ${IMPACT_WORDS[p.impact]}`).join(', ')}`
          : ', all available again') +
        '</p>'
      : '';
  const affected =
    inc.components
      .map((c) => `<li>${escapeHtml(c.name)}: ${open ? `KO (${IMPACT_WORDS[c.impact]})` : 'OK'}</li>`)
      .join('') + (hidden > 0 ? `<li class="more">and ${formatCount(hidden)} more</li>` : '');
  const [post, ...edits] = inc.timeline;
  const lines: string[] = [];
  if (post) lines.push(`<p><span class="label">${escapeHtml(post.label)}:</span> ${escapeHtml(post.text)}</p>`);
  for (const e of edits) lines.push(`<p><span class="label">${escapeHtml(e.label)}:</span> ${escapeHtml(e.text)}</p>`);
  const colour = open ? COLOURS[worstImpact(inc)] : COLOURS.operational;
  return (
    `<article class="card inc" id="${escapeHtml(inc.id)}" data-status="${inc.status}" style="border-left-color:${colour}">` +
    `<h4>${inc.retroactive ? '<span class="retro">[RETROACTIVE]</span> ' : ''}${escapeHtml(inc.title)}</h4>` +
    `<p class="meta">${state} · ${SEVERITY_WORDS[inc.severity]} · opened ${escapeHtml(shortTime(inc.opened_at))}` +
    `${inc.resolved_at ? ` · resolved ${escapeHtml(shortTime(inc.resolved_at))}` : ''}</p>` +
    countLine +
    (affected ? `<ul class="affected">${affected}</ul>` : '') +
    lines.join('') +
    '</article>'
  );
}

/** The worst impact over every affected component, not only those listed. */
function worstImpact(inc: PublicIncident): ComponentStatus {
  return impactBreakdown(inc.component_counts)[0]?.impact ?? 'degraded_performance';
}

/** `2023-11-24 16:13 UTC`. */
function shortTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC` : iso;
}

/** Past incidents under the seeds' day headings ("Friday 24 November 2023"), by opening day. */
function byDay(incidents: readonly PublicIncident[]): Map<string, PublicIncident[]> {
  const out = new Map<string, PublicIncident[]>();
  for (const inc of incidents) {
    const d = new Date(inc.opened_at);
    const key = Number.isFinite(d.getTime())
      ? `${LONG_WEEKDAYS[d.getUTCDay()] ?? ''} ${d.getUTCDate()} ${LONG_MONTHS[d.getUTCMonth()] ?? ''} ${d.getUTCFullYear()}`
      : inc.opened_at.slice(0, 10);
    out.set(key, [...(out.get(key) ?? []), inc]);
  }
  return out;
}
