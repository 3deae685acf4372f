// The readable forms of `rill groups list|describe|reset-offsets`, laid out as kafka-consumer-groups.sh
// lays them out. Main thread.
//
//   Group: billing    State: Stable    Protocol: range    Generation: 4    Members: 2    Total lag: 12
//     MEMBER-ID               CLIENT-ID  HOST       INSTANCE  ASSIGNMENT
//     rill-c-1f0e...          worker-1   127.0.0.1  -         orders: 0,1
//     TOPIC   PARTITION  COMMITTED  LOG-END  LAG  MEMBER
//     orders  0          1200       1212     12   rill-c-1f0e...
//
// "-" marks what is not there: no commit (so no lag), a partition nobody is assigned.

import type { CliGroupDescription, CliGroupListing, CliOffsetChange, CliPartitionLag } from './cli-client.js';
import { alignColumns } from './topic-table.js';

export function formatGroupList(groups: readonly CliGroupListing[]): string {
  if (groups.length === 0) return '';
  const rows = groups.map((g) => [g.groupId, g.state, g.protocolType === '' ? '-' : g.protocolType]);
  return alignColumns([['GROUP', 'STATE', 'PROTOCOL-TYPE'], ...rows]).join('\n') + '\n';
}

const orDash = (n: number | null): string => (n === null || n < 0 ? '-' : String(n));

/** The member that owns each topic-partition in the current generation. */
function owners(group: CliGroupDescription): Map<string, string> {
  const owner = new Map<string, string>();
  for (const m of group.members) for (const a of m.assignment) for (const p of a.partitions) owner.set(`${a.topic}\u0000${p}`, m.memberId);
  return owner;
}

export function formatGroupDescription(group: CliGroupDescription, offsets: readonly CliPartitionLag[]): string {
  const totalLag = offsets.reduce((sum, o) => sum + (o.lag ?? 0), 0);
  const lines = [
    `Group: ${group.groupId}    State: ${group.state}    Protocol: ${group.protocol === '' ? '-' : group.protocol}    Generation: ${group.generationId}    Members: ${group.members.length}    Total lag: ${totalLag}`,
  ];
  if (group.members.length > 0) {
    const rows = group.members.map((m) => [
      m.memberId + (m.memberId === group.leader ? ' (leader)' : ''),
      m.clientId === '' ? '-' : m.clientId,
      m.clientHost === '' ? '-' : m.clientHost,
      m.groupInstanceId ?? '-',
      m.assignment.length === 0 ? '-' : m.assignment.map((a) => `${a.topic}: ${[...a.partitions].sort((x, y) => x - y).join(',')}`).join('; '),
    ]);
    for (const row of alignColumns([['MEMBER-ID', 'CLIENT-ID', 'HOST', 'INSTANCE', 'ASSIGNMENT'], ...rows])) lines.push(`  ${row}`);
  } else {
    lines.push('  No active members.');
  }
  const owner = owners(group);
  const keys = new Set(offsets.map((o) => `${o.topic}\u0000${o.partition}`));
  // Assigned partitions without a commit show too: a new member's partitions before its first commit.
  const rows: CliPartitionLag[] = [...offsets];
  for (const m of group.members) {
    for (const a of m.assignment) {
      for (const p of a.partitions) if (!keys.has(`${a.topic}\u0000${p}`)) rows.push({ topic: a.topic, partition: p, committedOffset: -1, logEndOffset: -1, lag: null });
    }
  }
  rows.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  if (rows.length === 0) {
    lines.push('  No committed offsets.');
  } else {
    const table = rows.map((o) => [o.topic, String(o.partition), orDash(o.committedOffset), orDash(o.logEndOffset), orDash(o.lag), owner.get(`${o.topic}\u0000${o.partition}`) ?? '-']);
    for (const row of alignColumns([['TOPIC', 'PARTITION', 'COMMITTED', 'LOG-END', 'LAG', 'MEMBER'], ...table])) lines.push(`  ${row}`);
  }
  return lines.join('\n') + '\n';
}

export function formatResetPlan(changes: readonly CliOffsetChange[]): string {
  const rows = changes.map((c) => [c.topic, String(c.partition), orDash(c.currentOffset), String(c.newOffset)]);
  return alignColumns([['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'], ...rows]).join('\n') + '\n';
}
