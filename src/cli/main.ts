import { holdStartUpHeap } from './start-up-heap.js';

// The `tocsin` executable (bin/tocsin.js loads the compiled form of this file). The program is
// imported only after the heap's growth is held (start-up-heap.ts): a static import would
// load every module first.
holdStartUpHeap();
const { main } = await import('./program.js');
await main(process.argv);
