import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Integration tests run the built CLI (dist/) as a child process, as users do. `npm test` and
 * `npm run test:integration` build first; running vitest directly needs `npm run build` once.
 */
export default function setup(): void {
  const cli = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run \`npm run build\` before the integration tests`);
}
