// The `rill` command tree: start, topics, produce, consume, groups, cluster. Main thread.
//
// Built by a function that takes the client factory, so tests can build the same tree over a fake
// client; main.ts builds it over the real one and parses argv.

import { Command } from 'commander';
import type { ClientFactory } from './cli-client.js';
import { clusterCommand } from './cluster-command.js';
import { consumeCommand } from './consume-command.js';
import { reportUsageErrorsOnOneLine } from './fail.js';
import { groupsCommand } from './groups-command.js';
import { produceCommand } from './produce-command.js';
import { startCommand } from './start-command.js';
import { topicsCommand } from './topics-command.js';

export const VERSION = '0.1.0';

export function createProgram(connect: ClientFactory): Command {
  const program = new Command('rill').description('Rill: a persistent, partitioned message broker').version(VERSION);
  program.addCommand(startCommand());
  program.addCommand(topicsCommand(connect));
  program.addCommand(produceCommand(connect));
  program.addCommand(consumeCommand(connect));
  program.addCommand(groupsCommand(connect));
  program.addCommand(clusterCommand());
  program.addHelpText(
    'after',
    `
Every client command takes --brokers host:port,... (env RILL_BROKERS, default 127.0.0.1:9400)
and --timeout-ms; see \`rill <command> --help\`.

Examples:
  $ rill start
  $ rill topics create orders --partitions 3
  $ seq 1000 | rill produce orders
  $ rill consume orders --from-beginning --max 10
  $ rill groups describe billing`,
  );
  reportUsageErrorsOnOneLine(program);
  return program;
}
