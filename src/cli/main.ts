#!/usr/bin/env node
// The `rill` command line. Main thread.

import { Command } from 'commander';
import { startCommand } from './start-command.js';

const program = new Command('rill').description('Rill: a persistent, partitioned message broker').version('0.1.0');
program.addCommand(startCommand());
await program.parseAsync(process.argv);
