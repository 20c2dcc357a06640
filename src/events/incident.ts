import { z } from 'zod';

export const INCIDENT_STATUSES = ['open', 'resolved'] as const;
export const REVIEW_STATES = ['pending', 'confirmed', 'dismissed'] as const;
export const SEVERITIES = ['minor', 'major', 'critical'] as const;
export const IMPACTS = ['degraded_performance', 'partial_outage', 'major_outage'] as const;
export const TIMELINE_KINDS = [
  'opened',
  'signal_added',
  'component_added',
  'impact_changed',
  'rerooted',
  'recovered',
  'resolved',
  'reopened',
  'confirmed',
  'dismissed',
  'note',
  'maintenance',
  'edited',
] as const;

// The lengths of what operators write, here beside the document rather than in the API's schemas so
// that the console's forms, below the API (docs/design.md, "Layers"), announce the same limits.
/** Operators' texts (notes, reasons) are status-page sentences, not documents. */
export const MAX_TEXT_CHARS = 4000;
/** An incident's title as operators write it: a heading, not a paragraph. */
export const MAX_TITLE_CHARS = 200;

/** The phase of a public update, as status pages name them; the detector's own entries have none. */
export const UPDATE_PHASES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type UpdatePhase = (typeof UPDATE_PHASES)[number];

export const TimelineEntry = z.object({
  at: z.string(),
  kind: z.enum(TIMELINE_KINDS),
  text: z.string(),
  /** `tocsin` for generated entries, the token's name for an operator's. */
  author: z.string(),
  /** An operator's public update only (CONTRACT §6, `notes` `{text, phase?}`); absent otherwise. */
  phase: z.enum(UPDATE_PHASES).optional(),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

export const Signal = z.object({
  rule: z.string(),
  probe: z.string(),
  targets: z.array(z.string()),
  vantages: z.array(z.string()),
  error: z.string().nullable(),
  since: z.string(),
  until: z.string().nullable(),
});
export type Signal = z.infer<typeof Signal>;

/**
 * What operators set on an incident and the detector must keep (extension of CONTRACT §4): a
 * title they wrote, impacts they set per component, components they removed. The engine goes on
 * correlating into the incident (docs/incidents.md, "Edits").
 */
export const Overrides = z.object({
  /** When the last edit was made: which of two copies of the document has the later edit. */
  at: z.string(),
  /** An operator wrote the title: the detector no longer retitles. */
  title: z.boolean().optional(),
  /** Components whose impact an operator set (or added): the detector keeps that impact. */
  impacts: z.record(z.string(), z.enum(IMPACTS)).optional(),
  /** Components an operator removed: their signals stay with the incident but do not list them again. */
  removed: z.array(z.string()).optional(),
});
export type Overrides = z.infer<typeof Overrides>;

/** Who wrote an incident: the detector (a draft) or an operator (`POST /api/v1/incidents`). */
export const INCIDENT_ORIGINS = ['detector', 'operator'] as const;

/** The incident document (CONTRACT §4). */
export const Incident = z.object({
  id: z.string(),
  title: z.string(),
  status: z.enum(INCIDENT_STATUSES),
  review: z.enum(REVIEW_STATES),
  severity: z.enum(SEVERITIES),
  opened_at: z.string(),
  resolved_at: z.string().nullable(),
  root_component: z.string(),
  components: z.array(z.object({ id: z.string(), impact: z.enum(IMPACTS) })),
  regions: z.array(z.string()),
  signals: z.array(Signal),
  timeline: z.array(TimelineEntry),
  /** What identifies "the same failure" for reopening and for dismissals (extension). */
  fingerprint: z.string(),
  /** Absent for the detector's drafts; `operator` for an incident an operator wrote (extension). */
  origin: z.enum(INCIDENT_ORIGINS).optional(),
  /** What operators edited and the detector keeps (extension); absent until an edit. */
  overrides: Overrides.optional(),
});
export type Incident = z.infer<typeof Incident>;
