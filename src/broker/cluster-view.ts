// This node's view of the cluster metadata: which partitions it hosts, and who leads the others.
// Main thread.
//
// The metadata state (applied from the Raft log on every node) is the truth; the local topic
// registry and the worker placement follow it. After every applied change, sync() works out the
// partitions whose replicas include this node ("hosted": as leader or as follower), creates the
// local topic directory for a topic it hosts for the first time, opens gained partitions on the
// workers (as replicated partitions: they refuse produce until given a role) and closes lost
// ones, then hands the leadership of every open partition to cluster-replication.ts, which tells
// the owner workers to lead, follow or stop. One sync runs at a time, a turn of the event loop after the change (so a burst of applied
// entries is one sync); a change during one runs another after it.
//
// Deleting is the one step that cannot be undone, so a local topic is deleted only when this run
// saw it in the metadata and then saw it go (a delete-topic applied). A restarted node replays the
// metadata log from its first entry, and its state is partial until it has caught up: a topic not
// there *yet* must not look deleted. (A topic deleted while this node was away and compacted into a
// snapshot it receives whole is never seen: its files stay, with a warning, for an operator.)
//
// Serving is decided per request by leaderCheck(): only the partition's leader per the metadata
// answers Produce, Fetch and ListOffsets; anyone else answers NOT_LEADER_OR_FOLLOWER with the
// leader's id (or LEADER_NOT_AVAILABLE while it has none, or while this leader is still opening
// the partition).
//
// A replica a reassignment moved off this node (rebalance) is closed and its files deleted — but
// only once this node's metadata has caught up with the controller's, for the same reason as
// above: while a restarted node replays the log, a partition it holds may look moved away in an
// old entry and come back in a later one. The sweep also runs once after start, so a replica moved
// away while this node was down is deleted when it comes back.

import { Errors, type ErrorSpec } from '../errors.js';
import { type Logger } from '../logger.js';
import { type ClusterNode, NO_LEADER, type TopicRecord } from '../cluster/index.js';
import { isInternalTopicName } from '../protocol/index.js';
import { type SlotPool } from '../threads/slot-pool.js';
import { type ClusterReplication } from './cluster-replication.js';
import { type PartitionPlacement } from './partition-placement.js';
import { logShareOf } from './replication/replication-configs.js';
import { type TopicRegistry } from './topic-registry.js';

export interface HostedPartition {
  topic: string;
  partition: number;
  role: 'leader' | 'follower';
  leaderEpoch: number;
}

export interface LeaderMiss {
  spec: ErrorSpec;
  message: string;
  /** The leader per the metadata; -1 when there is none. */
  leaderId: number;
}

/** How soon leadership is looked at again while this node's metadata is still catching up. */
const CATCH_UP_RETRY_MS = 100;

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ClusterView {
  readonly node: ClusterNode;
  private readonly registry: TopicRegistry;
  private readonly placement: PartitionPlacement;
  private readonly pool: SlotPool;
  private readonly logger: Logger;
  private readonly replication: ClusterReplication | null;
  /** Partitions opened on a worker, by key. */
  private readonly opened = new Map<string, { topic: string; partition: number }>();
  private syncing: Promise<void> | null = null;
  /** Topics present in the applied metadata at some point of this run. */
  private readonly seen = new Set<string>();
  private readonly warned = new Set<string>();
  private scheduled = false;
  private again = false;
  private stopped = false;
  /** Local partition files may belong to replicas moved off this node (set at start and on every loss). */
  private sweepDue = true;

  constructor(ctx: { node: ClusterNode; registry: TopicRegistry; placement: PartitionPlacement; pool: SlotPool; logger: Logger; replication?: ClusterReplication }) {
    this.node = ctx.node;
    this.registry = ctx.registry;
    this.placement = ctx.placement;
    this.pool = ctx.pool;
    this.logger = ctx.logger;
    this.replication = ctx.replication ?? null;
    this.node.state.onChange(() => this.schedule());
    // Followers' ISR proposals go to the active controller: the workers must hear of a new one.
    this.node.onControllerChange(() => this.schedule());
  }

  get selfId(): number {
    return this.node.nodeId;
  }

  /** Null when this node leads the partition and has it open; else why not, and who leads. */
  leaderCheck(topic: string, partition: number): LeaderMiss | null {
    const record = this.node.state.topic(topic)?.partitions[partition];
    if (record === undefined) return { spec: Errors.UNKNOWN_TOPIC_OR_PARTITION, message: `topic-partition ${topic}-${partition} does not exist`, leaderId: NO_LEADER };
    if (record.leader === this.selfId) {
      if (this.opened.has(key(topic, partition))) return null;
      return { spec: Errors.LEADER_NOT_AVAILABLE, message: `node ${this.selfId} is still opening ${topic}-${partition}; retry`, leaderId: this.selfId };
    }
    if (record.leader === NO_LEADER) {
      return { spec: Errors.LEADER_NOT_AVAILABLE, message: `${topic}-${partition} has no live replica (replicas ${record.replicas.join(', ')} are fenced)`, leaderId: NO_LEADER };
    }
    const address = this.node.brokerAddress(record.leader);
    const where = address === undefined ? '' : ` (${address.host}:${address.port})`;
    return { spec: Errors.NOT_LEADER_OR_FOLLOWER, message: `node ${record.leader}${where} leads ${topic}-${partition}, not node ${this.selfId}`, leaderId: record.leader };
  }

  /** The partitions whose replicas include this node, with its role in each. */
  hosted(): HostedPartition[] {
    const out: HostedPartition[] = [];
    for (const t of this.node.state.topics()) {
      t.partitions.forEach((p, partition) => {
        if (p.replicas.includes(this.selfId)) out.push({ topic: t.name, partition, role: p.leader === this.selfId ? 'leader' : 'follower', leaderEpoch: p.leaderEpoch });
      });
    }
    return out;
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.sync();
    });
  }

  /** Brings the local registry and the workers in line with the metadata (see the header). */
  sync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.syncing !== null) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        try {
          await this.syncOnce();
        } catch (error) {
          this.logger.error({ err: error }, 'applying the cluster metadata to this node failed; retrying at the next change');
        }
      } while (this.again && !this.stopped);
      this.syncing = null;
    })();
    return this.syncing;
  }

  /**
   * A replacement worker reopened these partitions (its predecessor died): their roles went with
   * the old thread, so they are sent again at once rather than at the next metadata change.
   */
  reopened(refs: readonly { topic: string; partition: number }[]): void {
    this.replication?.forget(refs);
    this.schedule();
  }

  /** Stops following the metadata (the broker is shutting down). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const topics = this.node.state.topics();
    const wanted = new Map<string, { topic: TopicRecord; partition: number }>();
    for (const t of topics) t.partitions.forEach((p, partition) => p.replicas.includes(this.selfId) && wanted.set(key(t.name, partition), { topic: t, partition }));

    await this.setAsideEarlierIncarnations(topics);
    const lose = [...this.opened].filter(([k]) => !wanted.has(k)).map(([, ref]) => ref);
    await this.closePartitions(lose);
    if (lose.length > 0) this.sweepDue = true;
    if (this.sweepDue && this.node.metadataCaughtUp()) {
      this.sweepDue = false;
      await this.deleteMovedReplicas(topics, wanted);
    }
    // Topics deleted from the metadata: gone here too.
    const live = new Set(topics.map((t) => t.name));
    for (const name of live) this.seen.add(name);
    for (const local of this.registry.list()) {
      if (live.has(local.name)) continue;
      if (!this.seen.has(local.name)) {
        if (this.warned.has(local.name)) continue;
        this.warned.add(local.name);
        this.logger.warn({ topic: local.name }, 'a local topic is not in the cluster metadata (yet); its files are kept');
        continue;
      }
      this.seen.delete(local.name);
      this.placement.remove(local.name);
      await this.registry.delete(local.name).catch((error) => this.logger.error({ topic: local.name, err: error }, 'removing a deleted topic\'s files failed'));
    }

    const gain = [...wanted].filter(([k]) => !this.opened.has(k)).map(([, ref]) => ref);
    for (const { topic } of gain) {
      const local = this.registry.get(topic.name);
      if (local !== undefined && local.partitions === topic.partitions.length) continue;
      if (local !== undefined && local.partitions < topic.partitions.length) {
        // Grown (create-partitions): the existing partitions and their data stay.
        this.registry.grow(topic.name, topic.partitions.length, { internal: isInternalTopicName(topic.name) });
        continue;
      }
      if (local !== undefined) {
        // Recreated elsewhere with another partition count while this node was away: the old files
        // belong to a topic that no longer exists.
        this.logger.warn({ topic: topic.name, local: local.partitions, cluster: topic.partitions.length }, 'replacing a stale local copy of a recreated topic');
        this.placement.remove(topic.name);
        await this.registry.delete(topic.name);
      }
      this.registry.create(topic.name, topic.partitions.length, logShareOf(topic.configs), { internal: isInternalTopicName(topic.name), id: topic.id });
    }
    await this.openPartitions(gain.map(({ topic, partition }) => ({ topic: topic.name, partition })));
    if (this.replication !== null && !(await this.replication.sync([...this.opened.values()]))) {
      // Metadata still catching up (a restart replays the Raft log): look again shortly.
      setTimeout(() => this.schedule(), CATCH_UP_RETRY_MS).unref();
    }
    this.node.updateLoad({ partitions: this.opened.size, leaders: this.hosted().filter((h) => h.role === 'leader').length });
  }

  /**
   * Sets aside the local copy of a topic whose id is not the metadata's: the topic was deleted and
   * created again under its name while this node was away (or between two syncs), and the files are
   * the earlier topic's. Left in place they would be opened as the new topic's replicas, and a
   * follower keeps what it has below the leader's end offset for its epoch, so old records would be
   * served as new ones. They are moved to <data>/stray/, not deleted: an id can also differ because
   * the data dir came from elsewhere (a single node's, another cluster's), and deleting is the one
   * step that cannot be undone. A local topic from before topic ids (no id) is left to the
   * partition-count check in syncOnce().
   */
  private async setAsideEarlierIncarnations(topics: readonly TopicRecord[]): Promise<void> {
    for (const t of topics) {
      const local = this.registry.get(t.name);
      if (local?.id === undefined || t.id === undefined || local.id === t.id) continue;
      this.logger.warn({ topic: t.name, localId: local.id, clusterId: t.id }, 'the local copy of this topic has another id: an earlier topic of the same name');
      await this.closePartitions([...this.opened.values()].filter((ref) => ref.topic === t.name));
      this.placement.remove(t.name);
      this.registry.setAside(t.name);
    }
  }

  /** Deletes the files of partitions of live topics this node is no longer a replica of. */
  private async deleteMovedReplicas(topics: readonly TopicRecord[], wanted: ReadonlyMap<string, unknown>): Promise<void> {
    for (const t of topics) {
      if (this.registry.get(t.name)?.partitions !== t.partitions.length) continue;
      for (let partition = 0; partition < t.partitions.length; partition++) {
        if (wanted.has(key(t.name, partition)) || this.opened.has(key(t.name, partition))) continue;
        await this.registry.deletePartition(t.name, partition).catch((error) => this.logger.error({ topic: t.name, partition, err: error }, 'deleting a moved replica\'s files failed'));
      }
    }
  }

  private async openPartitions(refs: { topic: string; partition: number }[]): Promise<void> {
    const bySlot = new Map<number, { topic: string; partition: number; dir: string; config: ReturnType<TopicRegistry['logConfig']>; replicated: boolean }[]>();
    for (const ref of refs) {
      const slot = this.placement.assign(ref.topic, ref.partition);
      const spec = { ...ref, dir: this.registry.partitionDir(ref.topic, ref.partition), config: this.registry.logConfig(this.registry.require(ref.topic)), replicated: this.replication !== null };
      const list = bySlot.get(slot);
      if (list === undefined) bySlot.set(slot, [spec]);
      else list.push(spec);
    }
    await Promise.all(
      [...bySlot].map(async ([slot, partitions]) => {
        try {
          await this.pool.run(slot, { op: 'open', partitions });
          for (const p of partitions) this.opened.set(key(p.topic, p.partition), { topic: p.topic, partition: p.partition });
        } catch (error) {
          for (const p of partitions) this.placement.unassign(p.topic, p.partition);
          throw error;
        }
      }),
    );
    if (refs.length > 0) this.logger.info({ partitions: refs.map((r) => `${r.topic}-${r.partition}`) }, 'opened partitions assigned to this node');
  }

  private async closePartitions(refs: { topic: string; partition: number }[]): Promise<void> {
    const bySlot = new Map<number, { topic: string; partition: number }[]>();
    for (const ref of refs) {
      const slot = this.placement.owner(ref.topic, ref.partition);
      this.opened.delete(key(ref.topic, ref.partition));
      if (slot === undefined) continue;
      const list = bySlot.get(slot);
      if (list === undefined) bySlot.set(slot, [ref]);
      else list.push(ref);
    }
    await Promise.all([...bySlot].map(([slot, partitions]) => this.pool.run(slot, { op: 'close', partitions })));
    for (const ref of refs) this.placement.unassign(ref.topic, ref.partition);
    if (refs.length > 0) this.logger.info({ partitions: refs.map((r) => `${r.topic}-${r.partition}`) }, 'closed partitions no longer assigned to this node');
  }
}
