// `rill cluster rebalance` and `rill cluster reassignments`: plan, start, follow and cancel the
// partition moves that even out replicas over the live nodes. Main thread. Every request goes to
// one node (the first of --brokers that answers), which forwards it to the active controller.

import { Command, Option } from 'commander';
import { RillError, errorSpecByCode } from '../errors.js';
import { ApiKeys, type ReassignmentProgress, type RebalanceResponse } from '../protocol/index.js';
import { askBroker } from './ask-broker.js';
import { addClientOptions, clientOptions } from './client-options.js';
import { action } from './fail.js';
import { alignColumns } from './topic-table.js';

/** How often --wait asks for progress. */
const WAIT_POLL_MS = 500;

function checked(answer: RebalanceResponse, what: string): RebalanceResponse {
  if (answer.errorCode !== 0) throw new RillError(errorSpecByCode(answer.errorCode), answer.message ?? `${what} failed`);
  return answer;
}

export function rebalanceCommand(): Command {
  const command = new Command('rebalance')
    .description('even out partition replicas and preferred leaders over the live nodes: new replicas copy the data from the leaders, then the old ones are deleted')
    .addOption(new Option('--dry-run', 'show the moves without making them'))
    .addOption(new Option('--topics <names>', 'move only partitions of these topics (comma-separated); every topic still counts towards the load'))
    .addOption(new Option('--wait', 'wait until every move is done, showing progress'))
    .addOption(new Option('--cancel', 'cancel the rebalance in progress (moves in progress go back to their old replicas)').conflicts(['dryRun', 'wait']));
  addClientOptions(command);
  command.action(
    action(async (options: { dryRun?: boolean; topics?: string; wait?: boolean; cancel?: boolean }) => {
      const { brokers, timeoutMs } = clientOptions(command);
      if (options.cancel === true) {
        const answer = checked(await askBroker(brokers, timeoutMs, ApiKeys.Rebalance, { cancel: true }), 'cancel');
        process.stdout.write(`${answer.message ?? 'cancelled'}\n`);
        return;
      }
      const answer = checked(await askBroker(brokers, timeoutMs, ApiKeys.Rebalance, { dryRun: options.dryRun === true, ...(options.topics === undefined ? {} : { topics: options.topics.split(',').filter((t) => t !== '') }) }), 'rebalance');
      const verb = options.dryRun ? 'Would move' : 'Moving';
      for (const m of answer.moves) {
        const replicas = m.replicas === undefined || m.target === undefined ? `node ${m.from} -> node ${m.to}` : `replicas ${m.replicas.join(',')} -> ${m.target.join(',')}`;
        process.stdout.write(`${verb} ${m.topic}-${m.partition}: ${replicas}\n`);
      }
      if (answer.moves.length === 0) {
        process.stdout.write(`${answer.message ?? 'nothing to move'}\n`);
        return;
      }
      process.stdout.write(`${verb} ${answer.moves.length} partition(s).\n`);
      if (options.dryRun === true) return;
      if (options.wait !== true) {
        process.stdout.write('Follow the moves with: rill cluster reassignments\n');
        return;
      }
      for (;;) {
        const now = checked(await askBroker(brokers, timeoutMs, ApiKeys.Rebalance, { list: true }), 'listing the moves');
        const left = now.reassignments ?? [];
        if (left.length === 0) break;
        const moving = left.filter((r) => r.state === 'moving');
        const detail = moving.length === 0 ? '' : `: ${moving.map(progressOf).join('; ')}`;
        process.stdout.write(`${moving.length} moving, ${left.length - moving.length} queued${detail}\n`);
        await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
      }
      process.stdout.write(`Done: moved ${answer.moves.length} partition(s).\n`);
    }),
  );
  return command;
}

export function reassignmentsCommand(): Command {
  const command = new Command('reassignments').description('the partition moves of the rebalance in progress, with each new replica\'s progress').option('--json', 'print them as JSON');
  addClientOptions(command);
  command.action(
    action(async (options: { json?: boolean }) => {
      const { brokers, timeoutMs } = clientOptions(command);
      const answer = checked(await askBroker(brokers, timeoutMs, ApiKeys.Rebalance, { list: true }), 'listing the moves');
      const list = answer.reassignments ?? [];
      if (options.json === true) process.stdout.write(JSON.stringify(list, null, 2) + '\n');
      else process.stdout.write(formatReassignments(list));
    }),
  );
  return command;
}

/** "orders-3 3:120/200" — each adding replica's log end against the leader's. */
function progressOf(r: ReassignmentProgress): string {
  const end = r.leaderLogEndOffset < 0 ? '?' : String(r.leaderLogEndOffset);
  return `${r.topic}-${r.partition} ${r.progress.map((p) => `${p.replica}:${p.logEndOffset < 0 ? '?' : p.logEndOffset}/${end}`).join(' ') || 'settling'}`;
}

export function formatReassignments(list: readonly ReassignmentProgress[]): string {
  if (list.length === 0) return 'No partitions are being moved.\n';
  const rows = [['TOPIC', 'PARTITION', 'STATE', 'REPLICAS', 'TARGET', 'LEADER', 'LEADER END', 'NEW REPLICAS (LOG END)']];
  for (const r of list) {
    rows.push([
      r.topic,
      String(r.partition),
      r.state,
      r.replicas.join(','),
      r.target.join(','),
      String(r.leader),
      r.leaderLogEndOffset < 0 ? '-' : String(r.leaderLogEndOffset),
      r.progress.map((p) => `${p.replica}:${p.logEndOffset < 0 ? '-' : p.logEndOffset}`).join(' ') || '-',
    ]);
  }
  return alignColumns(rows).join('\n') + '\n';
}
