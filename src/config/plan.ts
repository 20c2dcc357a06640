import type { RuleSpec } from './rule-spec.js';
import type {
  AlertmanagerSpec,
  ComponentSpec,
  EngineSpec,
  LogSpec,
  MaintenanceSpec,
  MetricsSpec,
  NotifierSpec,
  QueueSpec,
  ServerSpec,
  StoreSpec,
} from './schema.js';

/** Where a config element was written, for messages that point the operator at it. */
export interface SourceRef {
  readonly file: string;
  readonly line: number;
}

/** Re-checks of a probe after a failed check, from its `recheck` and `defaults.recheck`. */
export interface RecheckPlan {
  /** From a check's start to its re-check's: `recheck.interval`, never below the probe's timeout. */
  readonly intervalMs: number;
  /** Re-checks in a row at most. */
  readonly max: number;
}

/** One probe, validated and with defaults applied. `spec` is the whole probe object (snake_case keys). */
export interface ProbePlan {
  readonly id: string;
  readonly kind: string;
  readonly component: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** The vantages this probe runs at (its `vantages`, or every vantage). */
  readonly vantages: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** Event targets, from the probe kind (the URL, each host:port, ...). */
  readonly targets: readonly string[];
  /** The parsed probe object as the kind's `run` receives it. */
  readonly spec: Readonly<Record<string, unknown>>;
  /** Re-checks after a failed check; absent: none (`recheck: false`, or a hand-built plan). */
  readonly recheck?: RecheckPlan;
  readonly source: SourceRef;
}

/** One rule, validated and with defaults applied, for the rules engine to compile. */
export interface RulePlan {
  readonly spec: RuleSpec;
  readonly source: SourceRef;
}

/**
 * The immutable result of loading a config: everything the daemon, the CLI and the engine need,
 * validated, with defaults applied and paths resolved. Deep-frozen.
 */
export interface Plan {
  /** Absolute path of the main config file. */
  readonly file: string;
  readonly server: ServerSpec;
  /** `store.path` is absolute (resolved against the working directory, as operators expect). */
  readonly store: StoreSpec;
  readonly queue: QueueSpec;
  /** This process's vantage name (inline mode). */
  readonly vantage: string;
  /** Every vantage probes run at: `[vantage]` inline, `queue.vantages` with bullmq. */
  readonly vantages: readonly string[];
  readonly components: readonly (ComponentSpec & { readonly source: SourceRef })[];
  readonly probes: readonly ProbePlan[];
  /**
   * The rules to run: the config's, or the default pack's when it has no `rules:` (read from the
   * pack's files by the loader; hand-built plans take `defaultPackRules()` of ./pack.ts).
   */
  readonly rules: readonly RulePlan[];
  readonly maintenance: readonly MaintenanceSpec[];
  readonly notifiers: readonly NotifierSpec[];
  /** Alertmanager intake (`POST /api/v1/alerts/alertmanager`); optional for hand-built plans. */
  readonly alertmanager?: AlertmanagerSpec;
  /** Rules engine tunables; optional for hand-built plans (the engine's defaults apply). */
  readonly engine?: EngineSpec;
  /** `/metrics` options; optional for hand-built plans (defaults: no per-probe histograms). */
  readonly metrics?: MetricsSpec;
  /** Logging of `run` and `worker` (the command line wins); optional for hand-built plans. */
  readonly log?: LogSpec;
}
