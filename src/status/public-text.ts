/**
 * Generated timeline entries as the public reads them (docs/status-page.md, "What the public
 * reads"). The entries Tocsin writes are for operators: they name targets (addresses, URLs with
 * paths), raw errors ("connect ECONNREFUSED 10.0.3.17:5432") and, for alerts, the alert's own
 * text. The status page never shows that text: each generated entry is said again from the
 * incident's structure, in a reader's words ("Database add-ons: connections refused from 2 of
 * 3 vantages"), and only component names, impacts and counts are carried over. Alert text
 * reaches the public only through an operator's note or confirm.
 */
import type { Plan } from '../config/plan.js';
import type { ErrorCode } from '../events/error-codes.js';
import type { Incident, TimelineEntry, UpdatePhase } from '../events/incident.js';

/** What the public wording needs from the config. */
export interface PublicWording {
  /** A probe's component name and how many vantages check it; undefined for alerts and unknown probes. */
  probe(id: string): { readonly component: string; readonly vantages: number } | undefined;
  /** Every component name of the config: the only words of an entry carried over as they are. */
  readonly names: ReadonlySet<string>;
}

/** Built once per plan: a page is rendered per request, and a config may hold 50,000 probes. */
const built = new WeakMap<object, { probes: object; wording: PublicWording }>();

export function publicWording(plan: Pick<Plan, 'components' | 'probes'>): PublicWording {
  const cached = built.get(plan.components);
  if (cached?.probes === plan.probes) return cached.wording;
  const names = new Map(plan.components.map((c) => [c.id, c.name]));
  const probes = new Map(
    plan.probes.map((p) => [p.id, { component: names.get(p.component) ?? p.component, vantages: p.vantages.length }]),
  );
  const wording: PublicWording = { probe: (id) => probes.get(id), names: new Set(names.values()) };
  built.set(plan.components, { probes: plan.probes, wording });
  return wording;
}

/** An error code in a reader's words: what they would notice, not what the check saw. */
const READER_WORDS: Record<ErrorCode, string> = {
  timeout: 'not responding in time',
  dns: 'name resolution failing',
  connect_refused: 'connections refused',
  connect_error: 'connections failing',
  tls_handshake: 'secure connections failing',
  tls_protocol: 'outdated security protocol',
  tls_cert_expired: 'certificate expired',
  tls_cert_invalid: 'certificate not trusted',
  tls_cert_expiring: 'certificate expiring soon',
  tls_mismatch: 'unexpected security configuration',
  status: 'answering with errors',
  body_mismatch: 'answering unexpectedly',
  header_mismatch: 'answering unexpectedly',
  body_too_large: 'answering unexpectedly',
  too_many_redirects: 'redirecting unexpectedly',
  redirect_refused: 'redirecting unexpectedly',
  protocol_error: 'answering unexpectedly',
  latency: 'responding slowly',
  config_out_of_sync: 'configuration out of sync',
  storage_error: 'storage errors',
  internal: 'checks failing',
};

type PublicSignal = Incident['signals'][number];

/** "Database add-ons: connections refused from 2 of 3 vantages" — names, reader words and counts only. */
function signalWords(signal: PublicSignal | undefined, w: PublicWording): string | undefined {
  if (!signal) return undefined;
  const probe = w.probe(signal.probe);
  // An alert's signal: its text is the alert's, never published by the detector.
  if (!probe) return undefined;
  const what = READER_WORDS[signal.error as ErrorCode] ?? 'failing';
  const from = probe.vantages > 1 ? ` from ${signal.vantages.length} of ${probe.vantages} vantages` : '';
  return `${probe.component}: ${what}${from}`;
}

/** The signal an entry is about: the latest to start at or before it. */
function signalAt(inc: Incident, at: string): PublicSignal | undefined {
  const t = Date.parse(at);
  let best: PublicSignal | undefined;
  for (const s of inc.signals) {
    const since = Date.parse(s.since);
    if (since <= t && (!best || since >= Date.parse(best.since))) best = s;
  }
  return best ?? inc.signals[0];
}

/**
 * The known component name `text` starts with, ended by `:`, ` ` or `.` (the longest, since a name
 * may hold spaces), if any: looked up per candidate end, never by walking every name.
 */
function leadingName(text: string, w: PublicWording): string | undefined {
  let found: string | undefined;
  for (let i = 1; i <= text.length; i++) {
    const next = text[i];
    if ((next === undefined || next === ':' || next === ' ' || next === '.') && w.names.has(text.slice(0, i))) {
      found = text.slice(0, i);
    }
  }
  return found;
}

/** A list of names as the engine writes it ("A, B and 3 more"), published only if every name is known. */
function knownList(list: string, w: PublicWording): boolean {
  const parts = list.replace(/ and \d+ more$/, '').split(/, | and /);
  return parts.length > 0 && parts.every((p) => w.names.has(p));
}

/**
 * The public text of an entry Tocsin wrote. Entries whose only variable words are component
 * names and impacts are kept; the others are written again from the incident's structure;
 * anything not recognised reads as a plain sentence of its kind.
 */
export function publicGeneratedText(e: TimelineEntry, inc: Incident, w: PublicWording): string {
  const text = e.text.trim();
  switch (e.kind) {
    case 'opened': {
      const words = signalWords(inc.signals[0], w);
      return `Investigating — ${words ?? inc.title}.`;
    }
    case 'reopened': {
      const words = signalWords(signalAt(inc, e.at), w);
      return words ? `The problem is back — ${words}.` : 'The problem is back.';
    }
    case 'component_added': {
      const many = /^(\d+ more components? affected): (.*)\.$/.exec(text);
      if (many?.[1] && many[2] && knownList(many[2], w)) return `${many[1]}: ${many[2]}.`;
      const name = text.startsWith('Also affected: ') ? leadingName(text.slice('Also affected: '.length), w) : undefined;
      return name ? `Also affected: ${name}.` : 'More components affected.';
    }
    case 'impact_changed': {
      const many = /^Impact changed on \d+ components?: (.*)\.$/.exec(text);
      if (many?.[1] && knownList(many[1], w)) return text;
      const one = /^(.*): (degraded performance|partial outage|major outage) \(was (degraded performance|partial outage|major outage)\)$/.exec(text);
      if (one?.[1] && w.names.has(one[1])) return `${text}.`;
      return 'Impact changed.';
    }
    case 'recovered': {
      const many = /^(\d+ components?) available again: (.*)\.$/.exec(text);
      if (many?.[2] && knownList(many[2], w)) return text;
      const name = leadingName(text, w);
      if (name && text === `${name} available again`) return `${name} available again.`;
      return name ? `${name}: recovering.` : 'Recovering.';
    }
    case 'rerooted': {
      const m = /^Common cause: (.*?)( \(no probe of its own\))?, which (.*) depend on$/.exec(text);
      if (m?.[1] && m[3] && w.names.has(m[1]) && knownList(m[3], w)) return `Common cause: ${m[1]}, which ${m[3]} depend on.`;
      return 'Common cause identified.';
    }
    case 'resolved':
      return /^Resolved: (every affected component is operational again \(open for [\w\s.]+\)|the failure was not seen again after Tocsin restarted)\.$/.test(text)
        ? text
        : 'Resolved.';
    case 'maintenance':
      // The window's title and component names, both from the config.
      return text;
    default:
      return '';
  }
}

/** A public update phase as the page heads its line with it. */
export const PHASE_WORDS: Record<UpdatePhase, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
};

/**
 * An entry's label with its phase, as status pages head an update: `EDIT 14:05 UTC — Identified`
 * (the page writes `label: text`). Only operators' updates carry a phase.
 */
export function phasedLabel(label: string, phase: UpdatePhase | undefined): string {
  return phase ? `${label} — ${PHASE_WORDS[phase]}` : label;
}
