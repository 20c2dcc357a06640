import { holdYoungGeneration } from './young-generation.js';

// The `tocsin` executable (bin/tocsin.js loads the compiled form of this file). The program is
// imported only after the young generation is held (young-generation.ts): a static import would
// load every module first.
holdYoungGeneration();
const { main } = await import('./program.js');
await main(process.argv);
