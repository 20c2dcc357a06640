import { main } from './program.js';

// The `tocsin` executable (bin/tocsin.js loads the compiled form of this file).
await main(process.argv);
