import type { Incident, TimelineEntry } from '../incidents/incident.js';

export type Impact = Incident['components'][number]['impact'];
export type Severity = Incident['severity'];

/** Every component status the API shows (CONTRACT §6). */
export type ComponentStatus = 'operational' | Impact | 'under_maintenance';

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

export type OperatorActionKind = 'confirm' | 'dismiss' | 'resolve' | 'note';

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
}
