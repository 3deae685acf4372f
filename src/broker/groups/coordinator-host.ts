// The group coordinator on a partition-owner worker: wires GroupCoordinator to the worker's
// __consumer_offsets logs and answers the group APIs the main thread routes here. Worker thread
// only (the owner of the group's __consumer_offsets partition).
//
// Loading: when the worker opens one of its __consumer_offsets partitions (at start, after a
// crash of the worker, or when the topic is created) the partition's records are replayed from
// the log start before the open task completes, and the main thread lets traffic through to the
// slot only after that: there is no window in which the coordinator answers from half a state.
//
// Writes go through the same PartitionHost.produce as any client's records (one writer per log),
// as RecordBatch v2 batches without a producer id, acks=all: durable as the partition's flush.mode
// makes them, and on every in-sync replica in a cluster.
//
// In a cluster the partition is replicated and only its leader coordinates: roleChanged() loads
// the groups when this node becomes the leader and forgets them when it follows.

import { Errors } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { ApiKeys, type RequestHeaders } from '../../protocol/index.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../storage/index.js';
import type { PartitionHost } from '../partition-host.js';
import { OFFSETS_TOPIC } from './coordinator-partition.js';
import { GroupCoordinator, type CoordinatorSettings } from './group-coordinator.js';
import { readGroupLogEntry, type GroupLogEntry, type KeyedRecord } from './group-records.js';

/** One replay read: large enough that a 100 MiB segment is a hundred reads. */
const REPLAY_READ_BYTES = 1024 * 1024;

export type GroupApiKey =
  | typeof ApiKeys.JoinGroup
  | typeof ApiKeys.SyncGroup
  | typeof ApiKeys.Heartbeat
  | typeof ApiKeys.LeaveGroup
  | typeof ApiKeys.OffsetCommit
  | typeof ApiKeys.OffsetFetch
  | typeof ApiKeys.ListGroups
  | typeof ApiKeys.DescribeGroups
  | typeof ApiKeys.DeleteGroups;

/** What the main thread sends for a group request (OwnerKind.Group). */
export interface GroupRequestMeta {
  apiKey: GroupApiKey;
  header: RequestHeaders[GroupApiKey];
  clientHost: string;
}

export class CoordinatorHost {
  readonly coordinator: GroupCoordinator;
  private readonly host: PartitionHost;
  private readonly logger: Logger;

  constructor(host: PartitionHost, settings: CoordinatorSettings, logger: Logger) {
    this.host = host;
    this.logger = logger;
    this.coordinator = new GroupCoordinator(settings, { append: (partition, records) => this.append(partition, records) });
  }

  private async append(partition: number, records: KeyedRecord[]): Promise<void> {
    const now = Date.now();
    const batch = encodeRecordBatch({ records: records.map((r) => ({ key: r.key, value: r.value, timestamp: now })) });
    // acks=all (Kafka's offsets.commit.required.acks, -1): a commit answered is on every in-sync
    // replica, so it outlives its coordinator's node. On a single node this is acks=1.
    await this.host.produce(OFFSETS_TOPIC, partition, batch, -1);
  }

  /**
   * Replays an opened __consumer_offsets partition into the coordinator, up to its log end, not
   * the high watermark (as Kafka's loader): a new leader's high watermark may still trail the
   * commits it already holds, and it will commit them.
   */
  load(partition: number): void {
    const started = Date.now();
    const log = this.host.logOf(OFFSETS_TOPIC, partition);
    let offset = log.logStartOffset;
    const end = log.logEndOffset;
    const entries: GroupLogEntry[] = [];
    let skipped = 0;
    while (offset < end) {
      const slice = log.read(offset, REPLAY_READ_BYTES);
      if (slice.records.length === 0) break;
      for (const batch of decodeRecordBatches(slice.records)) {
        for (const record of batch.records) {
          if (record.offset < offset || record.key === null) continue;
          try {
            const entry = readGroupLogEntry(record.key, record.value);
            if (entry === undefined) skipped++;
            else entries.push(entry);
          } catch {
            skipped++;
          }
        }
      }
      offset = slice.nextOffset;
    }
    this.coordinator.load(partition, entries);
    if (skipped > 0) this.logger.warn({ partition, skipped }, 'skipped __consumer_offsets records this version cannot read');
    this.logger.info({ partition, records: entries.length, ms: Date.now() - started }, 'loaded consumer groups');
  }

  unload(partition: number): void {
    this.coordinator.unload(partition);
  }

  /**
   * A replicated __consumer_offsets partition's new role (cluster), as Kafka's coordinator takes
   * onElection / onResignation: the leader coordinates its groups from the replicated log (read
   * afresh: the followers' appends never went through the coordinator), a follower forgets them.
   */
  roleChanged(partition: number, outcome: string): void {
    if (outcome !== 'leader' && outcome !== 'follower' && outcome !== 'stopped') return;
    this.coordinator.unload(partition);
    if (outcome !== 'leader') return;
    try {
      this.load(partition);
    } catch (error) {
      // Unloaded, its groups answer NOT_COORDINATOR (clients look again) rather than half a state.
      this.logger.error({ err: error, partition }, 'could not load consumer groups');
    }
  }

  /** Answers one group request with its response header. */
  async handle(meta: GroupRequestMeta): Promise<unknown> {
    const c = this.coordinator;
    switch (meta.apiKey) {
      case ApiKeys.JoinGroup:
        return c.join(meta.header as RequestHeaders[typeof ApiKeys.JoinGroup], meta.clientHost);
      case ApiKeys.SyncGroup:
        return c.sync(meta.header as RequestHeaders[typeof ApiKeys.SyncGroup]);
      case ApiKeys.Heartbeat:
        return c.heartbeat(meta.header as RequestHeaders[typeof ApiKeys.Heartbeat]);
      case ApiKeys.LeaveGroup:
        return c.leave(meta.header as RequestHeaders[typeof ApiKeys.LeaveGroup]);
      case ApiKeys.OffsetCommit:
        return c.commit(meta.header as RequestHeaders[typeof ApiKeys.OffsetCommit]);
      case ApiKeys.OffsetFetch:
        return c.fetchOffsets(meta.header as RequestHeaders[typeof ApiKeys.OffsetFetch]);
      case ApiKeys.ListGroups:
        return { errorCode: 0, groups: c.listGroups((meta.header as RequestHeaders[typeof ApiKeys.ListGroups]).states) };
      case ApiKeys.DescribeGroups:
        return { groups: c.describe((meta.header as RequestHeaders[typeof ApiKeys.DescribeGroups]).groups) };
      case ApiKeys.DeleteGroups:
        return { groups: await c.deleteGroups((meta.header as RequestHeaders[typeof ApiKeys.DeleteGroups]).groups) };
      default:
        return { errorCode: Errors.INVALID_REQUEST.code, message: `api ${String((meta as { apiKey: unknown }).apiKey)} is not a group api` };
    }
  }
}
