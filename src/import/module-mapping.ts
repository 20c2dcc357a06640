import type { Report, Where } from './problems.js';

/** What one target of a module needs to be mapped. */
export interface TargetInfo {
  /** What the exporter probes (`__param_target`). */
  readonly target: string;
  /** Where the target is written. */
  readonly where: Where;
  /** Other `/probe` parameters (`hostname`). */
  readonly params: ReadonlyMap<string, string>;
}

/** The Tocsin kind and keys a Blackbox module becomes, once mapped. */
export interface ModuleMapping {
  readonly module: string;
  /** Where the module is declared. */
  readonly where: Where;
  readonly kind: 'http' | 'tls' | 'storage';
  /** The module's own `timeout` in ms, when it sets one. */
  readonly timeoutMs: number | undefined;
  /** `/probe` parameters this module's prober reads besides target and module. */
  readonly params: readonly string[];
  /**
   * The kind's keys for one target; undefined when that target cannot be probed this way (said
   * through `report`). What the module cannot map was reported when it was mapped.
   */
  keysFor(target: TargetInfo, report: Report): Record<string, unknown> | undefined;
  /**
   * The kind's keys with a placeholder target, to show the module alone; what would not map for
   * some targets (host names, http:// targets) is reported as if for all.
   */
  template(): Record<string, unknown>;
}
