// `rill cluster status|rebalance|reassignments|up`: looking at and running a cluster. Main thread.
//
// status and rebalance are one request to one node (the first of --brokers that answers): status
// shows that node's view (gossip members, the controller, registered brokers, where partitions
// are); rebalance is forwarded by any node to the active controller (rebalance-command.ts). `up`
// is cluster-up.ts.

import { Command } from 'commander';
import { RillError, errorSpecByCode } from '../errors.js';
import { ApiKeys, type ClusterStatusResponse } from '../protocol/index.js';
import { askBroker as ask } from './ask-broker.js';
import { addClientOptions, clientOptions } from './client-options.js';
import { clusterUpCommand } from './cluster-up.js';
import { action } from './fail.js';
import { reassignmentsCommand, rebalanceCommand } from './rebalance-command.js';

export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('look at and run a cluster: status, rebalance, reassignments, up');
  cluster.addCommand(statusCommand());
  cluster.addCommand(rebalanceCommand());
  cluster.addCommand(reassignmentsCommand());
  cluster.addCommand(clusterUpCommand());
  cluster.addHelpText(
    'after',
    `
Examples:
  $ rill cluster up --nodes 3
  $ rill cluster status --brokers 127.0.0.1:9401
  $ rill cluster rebalance --dry-run
  $ rill cluster rebalance --wait
  $ rill cluster reassignments`,
  );
  return cluster;
}

function statusCommand(): Command {
  const command = new Command('status').description('members (state, addresses, incarnation, load), the controller and partition placement').option('--json', 'print the status as JSON');
  addClientOptions(command);
  command.action(
    action(async (options: { json?: boolean }) => {
      const { brokers, timeoutMs } = clientOptions(command);
      const status = await ask(brokers, timeoutMs, ApiKeys.ClusterStatus, {});
      process.stdout.write(options.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status));
    }),
  );
  return command;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

export function formatStatus(s: ClusterStatusResponse): string {
  if (s.errorCode !== 0) throw new RillError(errorSpecByCode(s.errorCode), s.message ?? 'status failed');
  const out: string[] = [];
  const controller = s.controllerId < 0 ? 'none known' : `node ${s.controllerId}`;
  out.push(`Cluster ${s.clusterId}, as seen by node ${s.nodeId} (metadata version ${s.metadataVersion})`);
  out.push(`Controller: ${controller}, term ${s.controllerTerm}; voters ${s.voters.join(', ') || '-'}; this node is ${s.raftRole}`);
  out.push('');
  out.push('Members:');
  const fenced = new Map(s.brokers.map((b) => [b.id, b.fenced]));
  const members = [['ID', 'STATE', 'GOSSIP', 'BROKER', 'HTTP', 'RAFT', 'RACK', 'INCARNATION', 'LOAD', 'FENCED']];
  for (const m of [...s.members].sort((a, b) => a.id - b.id)) {
    const load = Object.entries(m.load).map(([k, v]) => `${k}=${v}`).join(',');
    members.push([String(m.id), m.state, m.address || '-', `${m.host}:${m.ports.broker ?? '-'}`, String(m.ports.http ?? '-'), String(m.ports.raft ?? '-'), m.rack ?? '-', String(m.incarnation), load || '-', fenced.get(m.id) ? 'yes' : 'no']);
  }
  out.push(table(members).trimEnd());
  out.push('');
  const byTopic = new Map<string, ClusterStatusResponse['partitions']>();
  for (const p of s.partitions) {
    const list = byTopic.get(p.topic);
    if (list === undefined) byTopic.set(p.topic, [p]);
    else list.push(p);
  }
  out.push('Partitions (leader per partition; -1: none live):');
  const rows = [['TOPIC', 'PARTITIONS', 'LEADERS BY NODE', 'LEADERLESS']];
  for (const [topic, parts] of byTopic) {
    const counts = new Map<number, number>();
    for (const p of parts) if (p.leader >= 0) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
    const leaders = [...counts].sort((a, b) => a[0] - b[0]).map(([id, n]) => `${id}:${n}`).join(' ');
    const none = parts.filter((p) => p.leader < 0).map((p) => String(p.partition));
    rows.push([topic, String(parts.length), leaders || '-', none.length === 0 ? '-' : none.join(',')]);
  }
  out.push(table(rows).trimEnd());
  const drops = Object.entries(s.drops).filter(([, v]) => v > 0);
  out.push('');
  out.push(`Dropped frames: ${drops.length === 0 ? 'none' : drops.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  return out.join('\n') + '\n';
}
