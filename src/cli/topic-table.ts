// The readable form of `rill topics describe`: per topic, its partition count, configs and one
// table row per partition with log start/end offsets and size; in a cluster also each partition's
// replicas and in-sync replicas. Main thread.
//
//   Topic: orders    TopicId: 5f0c7a52-9a3e-4c8e-b1f4-2b6d0e9c1a77
//     Partitions: 3    Messages: 10000    Size: 1.1 MiB    Internal: no
//     Configs:
//       retention.ms  604800000
//     PARTITION  LEADER  LOG-START  LOG-END  HIGH-WATERMARK  SIZE
//     0          1       0          3334     3334            372.4 KiB
//
// A -1 from the broker (a partition it could not ask) prints as "-". `--json` prints the client's
// description objects instead, unformatted numbers and all, for machines.

import { errorSpecByCode } from '../errors.js';
import type { CliPartitionDescription, CliTopicDescription } from './cli-client.js';

/** A partition as the client describes it; a per-partition error code, if the client passes one on. */
export type PartitionView = CliPartitionDescription & { errorCode?: number };

export interface TopicView extends Omit<CliTopicDescription, 'partitions'> {
  partitions: PartitionView[];
}

export function formatTopicTable(topics: readonly TopicView[]): string {
  return topics.map(formatTopic).join('\n');
}

function formatTopic(topic: TopicView): string {
  const partitions = [...topic.partitions].sort((a, b) => a.partition - b.partition);
  const known = partitions.filter((p) => p.logEndOffset >= 0 && p.logStartOffset >= 0);
  const messages = known.reduce((sum, p) => sum + (p.logEndOffset - p.logStartOffset), 0);
  const size = partitions.filter((p) => p.sizeBytes >= 0).reduce((sum, p) => sum + p.sizeBytes, 0);
  const lines = [topic.topicId === undefined ? `Topic: ${topic.name}` : `Topic: ${topic.name}    TopicId: ${topic.topicId}`];
  lines.push(`  Partitions: ${partitions.length}    Messages: ${messages}    Size: ${formatBytes(size)}    Internal: ${topic.internal ? 'yes' : 'no'}`);
  const configs = Object.entries(topic.configs).sort(([a], [b]) => a.localeCompare(b));
  if (configs.length > 0) {
    lines.push('  Configs:');
    for (const row of alignColumns(configs)) lines.push(`    ${row}`);
  }
  const anyError = partitions.some((p) => (p.errorCode ?? 0) !== 0);
  const replicated = partitions.some((p) => p.replicas !== undefined);
  const header = ['PARTITION', 'LEADER', ...(replicated ? ['REPLICAS', 'ISR'] : []), 'LOG-START', 'LOG-END', 'HIGH-WATERMARK', 'SIZE', ...(anyError ? ['ERROR'] : [])];
  const rows = partitions.map((p) => [
    String(p.partition),
    orDash(p.leader),
    ...(replicated ? [idList(p.replicas), idList(p.isr)] : []),
    orDash(p.logStartOffset),
    orDash(p.logEndOffset),
    orDash(p.highWatermark),
    p.sizeBytes < 0 ? '-' : formatBytes(p.sizeBytes),
    ...(anyError ? [(p.errorCode ?? 0) === 0 ? '' : errorSpecByCode(p.errorCode!).type] : []),
  ]);
  for (const row of alignColumns([header, ...rows])) lines.push(`  ${row}`);
  return `${lines.join('\n')}\n`;
}

function idList(ids: readonly number[] | undefined): string {
  return ids === undefined || ids.length === 0 ? '-' : ids.join(',');
}

function orDash(n: number): string {
  return n < 0 ? '-' : String(n);
}

/** Pads every column but the last to its widest cell, two spaces apart. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 -> "1.5 KiB"; bytes below 1 KiB as a whole number of bytes. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
