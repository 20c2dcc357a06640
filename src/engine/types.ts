import type { ComponentCatalog, IncidentEdit } from './edit-types.js';
import type { Incident, TimelineEntry, UpdatePhase } from '../events/incident.js';

export type Impact = Incident['components'][number]['impact'];
export type Severity = Incident['severity'];

/** Worse is higher: for the worst-of comparisons impacts and severities go through. */
export const IMPACT_RANK: Record<Impact, number> = { degraded_performance: 1, partial_outage: 2, major_outage: 3 };
export const SEVERITY_RANK: Record<Severity, number> = { minor: 1, major: 2, critical: 3 };

/** Every component status the API shows (CONTRACT §6). */
export type ComponentStatus = 'operational' | Impact | 'under_maintenance';

/** Worse is higher; maintenance ranks below every impact (the status page's and console's "worst"). */
export const COMPONENT_STATUS_RANK: Record<ComponentStatus, number> = {
  operational: 0,
  under_maintenance: 1,
  degraded_performance: 2,
  partial_outage: 3,
  major_outage: 4,
};

/** The worst of some component statuses; `operational` for none. */
export function worstStatus(statuses: Iterable<ComponentStatus>): ComponentStatus {
  let worst: ComponentStatus = 'operational';
  for (const s of statuses) if (COMPONENT_STATUS_RANK[s] > COMPONENT_STATUS_RANK[worst]) worst = s;
  return worst;
}

/**
 * One incident the engine created or changed in one call: the whole document as it is now, and
 * the timeline entries this change appended (the store appends them; the timeline is append-only).
 */
export interface IncidentChange {
  readonly incident: Incident;
  readonly appended: readonly TimelineEntry[];
  /** The incident was opened (a new draft) by this change. */
  readonly opened: boolean;
  /** The rule that opened it (first signal), for per-rule metrics. */
  readonly rule: string;
  /** Earliest `since` of its signals, ms: detection delay = opened_at - this. */
  readonly firstFailureMs: number;
}

/**
 * One alert of an external source (Alertmanager) firing or resolved: `engine.external()`.
 * Alerts sharing (rule, probe, component) form one signal whose targets are the alerts' targets;
 * the signal recovers when its last alert resolves.
 */
export interface ExternalSignal {
  /** The alert's identity at its source (Alertmanager's fingerprint). */
  readonly key: string;
  readonly component: string;
  /** The rule the signal is reported under (`alertmanager`); must not be a rule of the pack. */
  readonly rule: string;
  /** Names the signal in the incident (`alertmanager:DbDown@db`): unique per component. */
  readonly probe: string;
  /** What fails, as shown in the signal's `targets` (instance label or fingerprint). */
  readonly target: string;
  readonly error: string;
  readonly detail?: string;
  readonly impact: Impact;
  /** true: firing; false: resolved. */
  readonly active: boolean;
  /** When the failure started (the alert's startsAt), ms. */
  readonly since: number;
  /** When this is known, ms: the engine's clock moves to it (it never reads one). */
  readonly at: number;
}

export type OperatorActionKind = 'confirm' | 'dismiss' | 'resolve' | 'note' | 'edit';

/** An operator's verb on an incident; `text` is the note, or the optional comment of the others. */
export interface OperatorAction {
  readonly incidentId: string;
  readonly action: OperatorActionKind;
  /** The token's name. */
  readonly by: string;
  /** When, ms since the epoch (the caller's clock: the engine never reads one). */
  readonly at: number;
  /** Required for dismiss. */
  readonly reason?: string;
  /** Required for note; optional comment on confirm/resolve. */
  readonly text?: string;
  /** A note's public update phase (CONTRACT §6). */
  readonly phase?: UpdatePhase;
  /** Required for edit: what changes, and the config's components to check and name them. */
  readonly edit?: IncidentEdit;
  readonly catalog?: ComponentCatalog;
}
