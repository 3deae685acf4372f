#!/usr/bin/env node
// The `rill` command line: the package's bin. Main thread.

import { Rill } from '../client/index.js';
import { createProgram } from './program.js';

await createProgram((config) => new Rill(config)).parseAsync(process.argv);
