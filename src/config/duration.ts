// TODO(layering): durations are a shared primitive (src/duration.ts); this re-export stays only until
// probes/http/spec.ts, edited elsewhere at the time of the move, imports '../../src/duration.js'.
export * from '../duration.js';
