import v8 from 'node:v8';

const FLAG = '--semi-space-growth-factor';
/** V8's own default for FLAG (node --v8-options), put back once start-up is over. */
const V8_DEFAULT_GROWTH = 2;

/** An operator who tunes the young generation (NODE_OPTIONS, node flags) keeps their setting. */
function tunedByOperator(): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('semi-space'));
}

/**
 * Start-up (loading fastify, zod, yaml, the config) allocates tens of MB that all survive, and V8
 * answers by doubling the young generation's semi-spaces, which are never given back: an idle
 * daemon then held ~12 MB of empty young generation (93 MB RSS instead of 80). Growth is held
 * during start-up and released once the daemon runs (`releaseYoungGeneration`), so a daemon
 * under load still grows its young generation as V8 would (bench/README.md, idle memory).
 */
export function holdYoungGeneration(): void {
  if (!tunedByOperator()) v8.setFlagsFromString(`${FLAG}=1`);
}

export function releaseYoungGeneration(): void {
  if (!tunedByOperator()) v8.setFlagsFromString(`${FLAG}=${V8_DEFAULT_GROWTH}`);
}
