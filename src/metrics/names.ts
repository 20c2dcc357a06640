/** Every metric name Tocsin exposes (CONTRACT §7), in one place; base units in the name. */
export const M = {
  probeSuccess: 'tocsin_probe_success',
  probeDuration: 'tocsin_probe_duration_seconds',
  probeChecks: 'tocsin_probe_checks_total',
  httpPhase: 'tocsin_http_phase_seconds',
  schedulerLag: 'tocsin_scheduler_lag_seconds',
  schedulerSkipped: 'tocsin_scheduler_skipped_total',
  schedulerInflight: 'tocsin_scheduler_inflight_checks',
  schedulerScheduled: 'tocsin_scheduler_scheduled_checks',
  storeWriteErrors: 'tocsin_store_write_errors_total',
  buildInfo: 'tocsin_build_info',
} as const;
