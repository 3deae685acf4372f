// `rill topics create|alter|list|describe|delete`: topic administration, as kafka-topics.sh does it
// (--partitions, repeatable --config key=value, --if-not-exists, --if-exists; alter --partitions N
// is kafka-topics --alter --partitions). Main thread.
//
// Results go to stdout ("Created topic orders."), errors to stderr as one line (fail.ts).

import { Command, Option } from 'commander';
import { Errors, RillError, errorSpecByCode, isRillError } from '../errors.js';
import type { CliAdmin, CliTopicDescription, ClientFactory } from './cli-client.js';
import { addClientOptions, clientOptions } from './client-options.js';
import { withAdmin } from './broker-session.js';
import { action } from './fail.js';
import { checkTopicName, parseKeyValue, parsePositiveInt } from './option-parsers.js';
import { formatTopicTable } from './topic-table.js';

export function topicsCommand(connect: ClientFactory): Command {
  const topics = new Command('topics').description('create, alter, list, describe and delete topics');
  topics.addCommand(createTopicCommand(connect));
  topics.addCommand(alterTopicCommand(connect));
  topics.addCommand(listTopicsCommand(connect));
  topics.addCommand(describeTopicsCommand(connect));
  topics.addCommand(deleteTopicsCommand(connect));
  topics.addHelpText(
    'after',
    `
Examples:
  $ rill topics create orders --partitions 3 --config retention.ms=86400000
  $ rill topics alter orders --partitions 6
  $ rill topics list
  $ rill topics describe orders
  $ rill topics delete orders`,
  );
  return topics;
}

function createTopicCommand(connect: ClientFactory): Command {
  const command = new Command('create')
    .description('create a topic')
    .argument('<topic>', 'topic name: letters, digits, ".", "_" and "-", at most 249 characters')
    .addOption(new Option('-p, --partitions <n>', "number of partitions (default: the broker's num.partitions)").argParser(parsePositiveInt))
    .addOption(new Option('-c, --config <key=value>', 'a topic config override; repeat for more').argParser(parseKeyValue))
    .option('--if-not-exists', 'succeed without change when the topic already exists');
  addClientOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  $ rill topics create orders
  $ rill topics create clicks --partitions 6 --config retention.ms=3600000 --config segment.bytes=67108864
  $ rill topics create orders --if-not-exists --brokers 10.0.0.5:9400`,
  );
  command.action(
    action(async (topic: string, options: { partitions?: number; config?: Record<string, string>; ifNotExists?: boolean }) => {
      checkTopicName(topic);
      const created = await withAdmin(clientOptions(command), connect, (admin) =>
        admin.createTopics({ topics: [{ topic, numPartitions: options.partitions, configs: options.config }] }),
      );
      if (created) {
        process.stdout.write(`Created topic ${topic}.\n`);
      } else if (options.ifNotExists) {
        process.stdout.write(`Topic ${topic} already exists.\n`);
      } else {
        throw new RillError(Errors.TOPIC_ALREADY_EXISTS, `Topic ${topic} already exists (use --if-not-exists to accept that)`, { topic });
      }
    }),
  );
  return command;
}

function alterTopicCommand(connect: ClientFactory): Command {
  const command = new Command('alter')
    .description('add partitions to a topic (existing partitions keep their data; keys map over the new count)')
    .argument('<topic>', 'the topic to grow')
    .addOption(new Option('-p, --partitions <n>', 'the new total number of partitions (more than now)').argParser(parsePositiveInt).makeOptionMandatory())
    .option('--validate-only', 'check the change without making it');
  addClientOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  $ rill topics alter orders --partitions 6
  $ rill topics alter orders --partitions 12 --validate-only`,
  );
  command.action(
    action(async (topic: string, options: { partitions: number; validateOnly?: boolean }) => {
      checkTopicName(topic, { allowInternal: true });
      await withAdmin(clientOptions(command), connect, (admin) => admin.createPartitions([{ topic, count: options.partitions }], { validateOnly: options.validateOnly === true }));
      process.stdout.write(options.validateOnly ? `Topic ${topic} can grow to ${options.partitions} partitions.\n` : `Topic ${topic} now has ${options.partitions} partitions.\n`);
    }),
  );
  return command;
}

function listTopicsCommand(connect: ClientFactory): Command {
  const command = new Command('list')
    .alias('ls')
    .description('list topics, one per line, sorted')
    .option('--include-internal', 'include internal topics (names starting with "__")')
    .option('--json', 'print a JSON array');
  addClientOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  $ rill topics list
  $ rill topics list --include-internal --json`,
  );
  command.action(
    action(async (options: { includeInternal?: boolean; json?: boolean }) => {
      const names = await withAdmin(clientOptions(command), connect, (admin) => admin.listTopics({ includeInternal: options.includeInternal === true }));
      const sorted = [...names].sort();
      process.stdout.write(options.json ? `${JSON.stringify(sorted)}\n` : sorted.map((name) => `${name}\n`).join(''));
    }),
  );
  return command;
}

function describeTopicsCommand(connect: ClientFactory): Command {
  const command = new Command('describe')
    .description('show partitions, configs, log start/end offsets and sizes')
    .argument('[topics...]', 'topics to describe (default: all)')
    .option('--include-internal', 'with no topics named, include internal topics')
    .option('--json', 'print JSON instead of a table');
  addClientOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  $ rill topics describe orders
  $ rill topics describe orders clicks --json | jq '.[].partitions[].logEndOffset'
  $ rill topics describe`,
  );
  command.action(
    action(async (topics: string[], options: { includeInternal?: boolean; json?: boolean }) => {
      for (const topic of topics) checkTopicName(topic, { allowInternal: true });
      const descriptions = await withAdmin(clientOptions(command), connect, (admin) => describe(admin, topics, options.includeInternal === true));
      process.stdout.write(options.json ? `${JSON.stringify(descriptions, null, 2)}\n` : formatTopicTable(descriptions));
    }),
  );
  return command;
}

async function describe(admin: CliAdmin, topics: string[], includeInternal: boolean): Promise<CliTopicDescription[]> {
  const names = topics.length > 0 ? topics : (await admin.listTopics({ includeInternal })).sort();
  if (names.length === 0) return [];
  const descriptions = await admin.describeTopics({ topics: names });
  // Should the client hand back a topic's error instead of throwing it, throw it here.
  for (const d of descriptions as (CliTopicDescription & { errorCode?: number; message?: string })[]) {
    if (d.errorCode !== undefined && d.errorCode !== 0) {
      const spec = errorSpecByCode(d.errorCode);
      throw new RillError(spec, d.message ?? `${spec.message}: ${d.name}`, { topic: d.name });
    }
  }
  return descriptions;
}

function deleteTopicsCommand(connect: ClientFactory): Command {
  const command = new Command('delete')
    .alias('rm')
    .description('delete topics and all their messages')
    .argument('<topics...>', 'topics to delete')
    .option('--if-exists', 'succeed for topics that do not exist');
  addClientOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  $ rill topics delete orders
  $ rill topics delete orders clicks --if-exists`,
  );
  command.action(
    action(async (topics: string[], options: { ifExists?: boolean }) => {
      for (const topic of topics) checkTopicName(topic);
      await withAdmin(clientOptions(command), connect, async (admin) => {
        // One at a time, so the output says exactly which were deleted before any failure.
        for (const topic of topics) {
          try {
            await admin.deleteTopics({ topics: [topic] });
            process.stdout.write(`Deleted topic ${topic}.\n`);
          } catch (error) {
            if (!(options.ifExists && isRillError(error, Errors.UNKNOWN_TOPIC_OR_PARTITION))) throw error;
            process.stdout.write(`Topic ${topic} does not exist.\n`);
          }
        }
      });
    }),
  );
  return command;
}
