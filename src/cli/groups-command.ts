// `rill groups list|describe|reset-offsets|delete`: consumer-group administration, as
// kafka-consumer-groups.sh does it — members and their assignments, committed offsets, log end
// offsets and lag per partition, offset resets that are a dry run unless --execute is given, and
// deletion of groups without members. Main thread.
//
// Results go to stdout, errors to stderr as one line (fail.ts): a reset or delete of a group that
// still has members is NON_EMPTY_GROUP, an unknown group GROUP_ID_NOT_FOUND.

import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliAdmin, CliOffsetChange, CliResetTarget, ClientFactory } from './cli-client.js';
import { addClientOptions, clientOptions } from './client-options.js';
import { withAdmin } from './broker-session.js';
import { action, EXIT_USAGE } from './fail.js';
import { formatGroupDescription, formatGroupList, formatResetPlan } from './group-table.js';
import { checkTopicName, parseNonNegativeInt, parsePartition } from './option-parsers.js';

export function groupsCommand(connect: ClientFactory): Command {
  const groups = new Command('groups').description('list, describe, reset the offsets of and delete consumer groups');
  groups.addCommand(listGroupsCommand(connect));
  groups.addCommand(describeGroupCommand(connect));
  groups.addCommand(resetOffsetsCommand(connect));
  groups.addCommand(deleteGroupsCommand(connect));
  groups.addHelpText(
    'after',
    `
Examples:
  $ rill groups list
  $ rill groups describe billing
  $ rill groups reset-offsets billing --topic orders --to-earliest            # shows the plan
  $ rill groups reset-offsets billing --topic orders --to-earliest --execute  # commits it
  $ rill groups delete billing`,
  );
  return groups;
}

// --- the work, apart from commander, for tests ----------------------------------------------------

export async function listGroupsText(admin: CliAdmin, options: { state?: string[]; json?: boolean }): Promise<string> {
  const groups = await admin.listGroups(options.state === undefined ? {} : { states: options.state });
  return options.json ? `${JSON.stringify(groups)}\n` : formatGroupList(groups);
}

export async function describeGroupText(admin: CliAdmin, groupId: string, options: { json?: boolean }): Promise<string> {
  const group = await admin.describeGroup(groupId);
  const topics = [...new Set(group.members.flatMap((m) => m.assignment.map((a) => a.topic)))];
  const offsets = await admin.fetchOffsets({ groupId, topics });
  if (options.json) return `${JSON.stringify({ ...group, offsets }, null, 2)}\n`;
  return formatGroupDescription(group, offsets);
}

export interface ResetSettings {
  topic: string;
  partitions?: number[];
  target: CliResetTarget;
  execute: boolean;
  json?: boolean;
}

export async function resetOffsetsText(admin: CliAdmin, groupId: string, settings: ResetSettings): Promise<string> {
  const plan: CliOffsetChange[] = await admin.resetOffsets({ groupId, topic: settings.topic, partitions: settings.partitions, target: settings.target, dryRun: !settings.execute });
  if (settings.json) return `${JSON.stringify({ groupId, executed: settings.execute, changes: plan })}\n`;
  const head = settings.execute
    ? `Committed new offsets for group ${groupId}:\n`
    : `Dry run: nothing committed. Add --execute to commit these offsets for group ${groupId}:\n`;
  return head + formatResetPlan(plan);
}

/** The one target among --to-earliest, --to-latest, --to-offset, --to-datetime; a usage error otherwise. */
export function resetTarget(options: { toEarliest?: boolean; toLatest?: boolean; toOffset?: number; toDatetime?: number }): CliResetTarget | string {
  const given: CliResetTarget[] = [];
  if (options.toEarliest) given.push({ to: 'earliest' });
  if (options.toLatest) given.push({ to: 'latest' });
  if (options.toOffset !== undefined) given.push({ to: 'offset', offset: options.toOffset });
  if (options.toDatetime !== undefined) given.push({ to: 'timestamp', timestamp: options.toDatetime });
  if (given.length === 1) return given[0];
  return given.length === 0
    ? 'say where to reset to: one of --to-earliest, --to-latest, --to-offset <n>, --to-datetime <iso>'
    : 'give only one of --to-earliest, --to-latest, --to-offset, --to-datetime';
}

/** An ISO 8601 date-time ('2026-12-02T10:00:00Z', '2026-12-02') as ms since the epoch. */
export function parseDatetime(value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError('must be an ISO 8601 date-time such as 2026-12-02T10:00:00Z.');
  return ms;
}

function parsePartitionList(value: string, previous: number[] | undefined): number[] {
  const parts = value.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length === 0) throw new InvalidArgumentError('must be partition numbers, comma-separated.');
  return [...(previous ?? []), ...parts.map((p) => parsePartition(p))];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

// --- commands -------------------------------------------------------------------------------------

function listGroupsCommand(connect: ClientFactory): Command {
  const command = new Command('list')
    .alias('ls')
    .description('list consumer groups with their state')
    .addOption(new Option('--state <state>', 'only groups in this state (repeatable)').choices(['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead']).argParser(collect))
    .option('--json', 'print a JSON array');
  addClientOptions(command);
  command.addHelpText('after', '\nExamples:\n  $ rill groups list\n  $ rill groups list --state Stable --json');
  command.action(
    action(async (options: { state?: string[]; json?: boolean }) => {
      process.stdout.write(await withAdmin(clientOptions(command), connect, (admin) => listGroupsText(admin, options)));
    }),
  );
  return command;
}

function describeGroupCommand(connect: ClientFactory): Command {
  const command = new Command('describe')
    .description('show state, members, assignments, committed offsets, log end offsets and lag')
    .argument('<group>', 'group id')
    .option('--json', 'print JSON instead of tables');
  addClientOptions(command);
  command.addHelpText('after', '\nExamples:\n  $ rill groups describe billing\n  $ rill groups describe billing --json | jq \'.offsets[] | select(.lag > 0)\'');
  command.action(
    action(async (groupId: string, options: { json?: boolean }) => {
      process.stdout.write(await withAdmin(clientOptions(command), connect, (admin) => describeGroupText(admin, groupId, options)));
    }),
  );
  return command;
}

function resetOffsetsCommand(connect: ClientFactory): Command {
  const command = new Command('reset-offsets')
    .description("set a group's committed offsets for a topic (the group must have no members); a dry run unless --execute")
    .argument('<group>', 'group id')
    .requiredOption('-t, --topic <topic>', 'the topic whose offsets to reset')
    .addOption(new Option('--partitions <list>', 'only these partitions, e.g. 0,2 (default: all)').argParser(parsePartitionList))
    .option('--to-earliest', "each partition's first offset")
    .option('--to-latest', "each partition's log end offset (skip everything so far)")
    .addOption(new Option('--to-offset <n>', 'this offset (kept within each partition\'s earliest and latest)').argParser(parseNonNegativeInt))
    .addOption(new Option('--to-datetime <iso>', 'the first offset at or after this time, e.g. 2026-12-02T10:00:00Z').argParser(parseDatetime))
    .option('--execute', 'commit the new offsets (without it, only print the plan)')
    .option('--json', 'print JSON');
  addClientOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  $ rill groups reset-offsets billing --topic orders --to-earliest
  $ rill groups reset-offsets billing --topic orders --to-datetime 2026-12-01T00:00:00Z --execute
  $ rill groups reset-offsets billing --topic orders --partitions 0,1 --to-offset 5000 --execute`,
  );
  command.action(
    action(async (groupId: string, options: { topic: string; partitions?: number[]; toEarliest?: boolean; toLatest?: boolean; toOffset?: number; toDatetime?: number; execute?: boolean; json?: boolean }) => {
      checkTopicName(options.topic);
      const target = resetTarget(options);
      if (typeof target === 'string') command.error(`error: ${target}`, { exitCode: EXIT_USAGE });
      const text = await withAdmin(clientOptions(command), connect, (admin) =>
        resetOffsetsText(admin, groupId, { topic: options.topic, partitions: options.partitions, target: target as CliResetTarget, execute: options.execute === true, json: options.json }),
      );
      process.stdout.write(text);
    }),
  );
  return command;
}

function deleteGroupsCommand(connect: ClientFactory): Command {
  const command = new Command('delete')
    .alias('rm')
    .description('delete groups that have no members, with their committed offsets')
    .argument('<groups...>', 'group ids');
  addClientOptions(command);
  command.addHelpText('after', '\nExamples:\n  $ rill groups delete billing\n  $ rill groups delete old-1 old-2');
  command.action(
    action(async (groupIds: string[]) => {
      await withAdmin(clientOptions(command), connect, async (admin) => {
        // One at a time, so the output says exactly which were deleted before any failure.
        for (const groupId of groupIds) {
          await admin.deleteGroups([groupId]);
          process.stdout.write(`Deleted group ${groupId}.\n`);
        }
      });
    }),
  );
  return command;
}
