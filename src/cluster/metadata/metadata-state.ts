// The cluster metadata as a replicated state machine: brokers, topics, partition replica
// assignments, leaders, leader epochs and configs. Main thread only (the RaftServer's). Commands
// are plain data (msgpackr on the Raft log); apply() is deterministic — placement included — so
// every voter that applies the same log holds the same state. Results are data too: an error
// result carries a code from src/errors.ts and changes nothing.
//
// Leadership: a partition's leader is the first live (unfenced) replica of its assignment. When
// gossip declares a broker dead the controller proposes fence-broker; every partition it led moves
// to the next live replica and its leader epoch rises, so requests from the old leader are fenced.
// With replication (issue 8) the new leader comes from the ISR (leader-election.ts): a fenced
// broker leaves the ISRs it was in (unless it is the last member), 'alter-isr' is how a leader
// shrinks or grows its ISR, and 'elect-leader' runs a clean, unclean or preferred election.
// Reassignment (rebalance, reassignment.ts): queued targets, then per partition start (replicas =
// target + old while the new ones catch up), finish (final replicas once in sync) or cancel.

import { Packr } from 'msgpackr';
import { Errors } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { RaftStateMachine } from '../raft/raft-server.js';
import { placePartitions } from './placement.js';
import { electLeader, isrOf, isrWithout, preferredLeader, uncleanAllowed } from './leader-election.js';
import { applyReassignment, isMoving, type ReassignmentCommand, type ReassignmentTarget } from './reassignment.js';

/** create-topic's replication factor meaning default.replication.factor -1: min(3, live brokers). */
export const AUTO_REPLICATION_FACTOR = -1;
const MAX_AUTO_REPLICATION_FACTOR = 3;

export interface BrokerRecord {
  readonly id: number;
  readonly host: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly rack: string | null;
  /** Fenced brokers lead nothing and get no new replicas (dead per gossip, or shut down). */
  readonly fenced: boolean;
}

export interface PartitionRecord {
  readonly replicas: readonly number[];
  /** -1 while no replica is live. */
  readonly leader: number;
  readonly leaderEpoch: number;
  /** In-sync replicas (leader included); absent in records from before replication: all replicas. */
  readonly isr?: readonly number[];
  /** While a reassignment moves the partition: replicas joining (catching up) and leaving. */
  readonly addingReplicas?: readonly number[];
  readonly removingReplicas?: readonly number[];
}

export interface TopicRecord {
  readonly name: string;
  /**
   * Unique to this incarnation of the topic (KIP-516's topic id): a topic deleted and created again
   * under the same name gets another, so a node that slept through the delete knows its files are
   * the old topic's. Absent in records from before topic ids.
   */
  readonly id?: string;
  readonly partitions: readonly PartitionRecord[];
  readonly configs: Readonly<Record<string, string>>;
}

export const NO_LEADER = -1;

export type MetadataCommand =
  | { type: 'register-broker'; id: number; host: string; ports: Record<string, number>; rack: string | null }
  | { type: 'fence-broker'; id: number }
  | { type: 'unfence-broker'; id: number }
  /** replicationFactor AUTO_REPLICATION_FACTOR (-1): min(3, live brokers) as of this command's apply. */
  | { type: 'create-topic'; name: string; partitions: number; replicationFactor: number; configs?: Record<string, string>; /** The new topic's id: a random UUID chosen by the proposer. */ id?: string }
  /** Grows a topic to `count` partitions (Kafka's CreatePartitions); the new ones take the topic's replication factor. */
  | { type: 'create-partitions'; name: string; count: number }
  | { type: 'delete-topic'; name: string }
  | { type: 'set-topic-config'; name: string; key: string; value: string | null }
  /** Reassigns a partition at once (the rebalance of older versions, which moved only empty ones; kept so their Raft logs replay). */
  | { type: 'move-partition'; name: string; partition: number; replicas: number[] }
  /** A partition leader's ISR change; fenced unless leader and leaderEpoch are the current ones. */
  | { type: 'alter-isr'; topic: string; partition: number; leader: number; leaderEpoch: number; isr: number[] }
  /** A leader election for one partition: from the ISR (or unclean if the topic allows), or the preferred replica. */
  | { type: 'elect-leader'; topic: string; partition: number; preferred?: boolean }
  | ReassignmentCommand;

export type MetadataResult =
  | { ok: true; topic?: TopicRecord; /** elect-leader: the election was unclean (records may be lost). */ unclean?: boolean }
  | { ok: false; code: number; message: string };

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export function encodeCommand(command: MetadataCommand): Uint8Array {
  return packr.pack(command);
}

interface Snapshot {
  brokers: BrokerRecord[];
  topics: TopicRecord[];
  lastIndex: number;
  /** Queued reassignment targets (absent in snapshots from before reassignment). */
  reassignments?: ReassignmentTarget[];
}

export class MetadataState implements RaftStateMachine<MetadataResult> {
  private brokerMap = new Map<number, BrokerRecord>();
  private topicMap = new Map<string, TopicRecord>();
  /** Reassignment targets queued by a rebalance, not started yet (the controller starts them in order). */
  private queued: ReassignmentTarget[] = [];
  /** The last Raft index applied: the metadata version clients compare. */
  version = 0;
  private readonly listeners = new Set<() => void>();

  /** Called after every applied entry and restored snapshot (the broker's view follows it). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** `logger` hears of unclean elections, which may lose acknowledged records. */
  constructor(private readonly logger: Logger = silentLogger) {}

  brokers(): BrokerRecord[] {
    return [...this.brokerMap.values()].sort((a, b) => a.id - b.id);
  }

  broker(id: number): BrokerRecord | undefined {
    return this.brokerMap.get(id);
  }

  topics(): TopicRecord[] {
    return [...this.topicMap.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  topic(name: string): TopicRecord | undefined {
    return this.topicMap.get(name);
  }

  apply(data: Uint8Array, index: number): MetadataResult {
    this.version = index;
    let command: MetadataCommand;
    try {
      command = packr.unpack(data) as MetadataCommand;
    } catch {
      return fail(Errors.INVALID_REQUEST.code, 'undecodable metadata command');
    }
    const result = this.execute(command);
    this.changed();
    return result;
  }

  snapshot(): Uint8Array {
    const s: Snapshot = { brokers: this.brokers(), topics: this.topics(), lastIndex: this.version, reassignments: this.queued };
    return packr.pack(s);
  }

  restore(data: Uint8Array, lastIndex: number): void {
    const s = packr.unpack(data) as Snapshot;
    this.brokerMap = new Map(s.brokers.map((b) => [b.id, b]));
    this.topicMap = new Map(s.topics.map((t) => [t.name, t]));
    this.queued = s.reassignments ?? [];
    this.version = lastIndex;
    this.changed();
  }

  /** Applies a decoded command (also used by tests and by apply()). */
  execute(c: MetadataCommand): MetadataResult {
    switch (c.type) {
      case 'register-broker': {
        const held = this.brokerMap.get(c.id);
        this.brokerMap.set(c.id, { id: c.id, host: c.host, ports: c.ports, rack: c.rack, fenced: held?.fenced ?? false });
        if (held?.fenced) return this.execute({ type: 'unfence-broker', id: c.id });
        return { ok: true };
      }
      case 'fence-broker':
      case 'unfence-broker': {
        const held = this.brokerMap.get(c.id);
        if (held === undefined) return fail(Errors.INVALID_REQUEST.code, `unknown broker ${c.id}`);
        this.brokerMap.set(c.id, { ...held, fenced: c.type === 'fence-broker' });
        this.electLeaders();
        return { ok: true };
      }
      case 'create-topic': {
        if (this.topicMap.has(c.name)) return fail(Errors.TOPIC_ALREADY_EXISTS.code, `topic ${c.name} already exists`);
        if (!Number.isSafeInteger(c.partitions) || c.partitions < 1) return fail(Errors.INVALID_PARTITIONS.code, `partitions must be at least 1`);
        const live = this.brokers().filter((b) => !b.fenced);
        // The default factor is settled here, not by the node that proposed the command: a broker
        // fenced between the two (a node just died) must not fail the creation.
        const replicationFactor = c.replicationFactor === AUTO_REPLICATION_FACTOR ? Math.max(1, Math.min(MAX_AUTO_REPLICATION_FACTOR, live.length)) : c.replicationFactor;
        const placed = placePartitions(live, c.partitions, replicationFactor, this.load());
        if (!placed.ok) return fail(Errors.INVALID_REPLICATION_FACTOR.code, `replication factor ${replicationFactor} with ${live.length} live brokers`);
        const topic: TopicRecord = {
          name: c.name,
          // A command without one (proposed before topic ids) gets one from its log index: the same on every voter.
          id: c.id ?? `index-${this.version}`,
          partitions: placed.assignments.map((replicas) => ({ replicas, leader: replicas[0], leaderEpoch: 0, isr: replicas })),
          configs: { ...(c.configs ?? {}) },
        };
        this.topicMap.set(c.name, topic);
        return { ok: true, topic };
      }
      case 'create-partitions':
        return this.createPartitions(c);
      case 'delete-topic':
        if (!this.topicMap.delete(c.name)) return fail(Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `no topic ${c.name}`);
        this.queued = this.queued.filter((m) => m.topic !== c.name);
        return { ok: true };
      case 'set-topic-config': {
        const topic = this.topicMap.get(c.name);
        if (topic === undefined) return fail(Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `no topic ${c.name}`);
        const configs = { ...topic.configs };
        if (c.value === null) delete configs[c.key];
        else configs[c.key] = c.value;
        this.topicMap.set(c.name, { ...topic, configs });
        return { ok: true, topic: this.topicMap.get(c.name) };
      }
      case 'move-partition': {
        const topic = this.topicMap.get(c.name);
        const held = topic?.partitions[c.partition];
        if (topic === undefined || held === undefined) return fail(Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `no partition ${c.name}-${c.partition}`);
        if (c.replicas.length === 0 || new Set(c.replicas).size !== c.replicas.length || c.replicas.some((r) => this.brokerMap.get(r) === undefined)) {
          return fail(Errors.INVALID_REQUEST.code, `replicas ${JSON.stringify(c.replicas)} must be distinct registered brokers`);
        }
        const leader = c.replicas.find((r) => this.brokerMap.get(r)?.fenced === false) ?? NO_LEADER;
        const partitions = topic.partitions.slice();
        // Only the new leader is known to hold the partition's data: followers join the ISR once caught up.
        partitions[c.partition] = { replicas: [...c.replicas], leader, leaderEpoch: held.leaderEpoch + 1, isr: leader === NO_LEADER ? [] : [leader] };
        this.topicMap.set(c.name, { ...topic, partitions });
        return { ok: true, topic: this.topicMap.get(c.name) };
      }
      case 'alter-isr':
        return this.alterIsr(c);
      case 'elect-leader':
        return this.electOne(c);
      case 'queue-reassignments':
      case 'start-reassignment':
      case 'finish-reassignment':
      case 'cancel-reassignments':
        return this.reassign(c);
      default:
        return fail(Errors.INVALID_REQUEST.code, `unknown metadata command ${(c as { type: unknown }).type}`);
    }
  }

  /**
   * After fencing or unfencing: fenced brokers leave the ISRs, and a partition whose leader is
   * fenced (or that has none) gets one from its ISR (leader-election.ts); a change bumps the epoch.
   */
  private electLeaders(): void {
    const live = (id: number) => this.brokerMap.get(id)?.fenced === false;
    for (const [name, topic] of this.topicMap) {
      let changed = false;
      const partitions = topic.partitions.map((p) => {
        let next: PartitionRecord = p;
        for (const r of isrOf(p)) if (!live(r)) next = { ...next, isr: isrWithout(next, r) };
        if (next.leader === NO_LEADER || !live(next.leader)) {
          const elected = electLeader(next, live, uncleanAllowed(topic.configs));
          const leader = elected?.leader ?? NO_LEADER;
          if (elected?.unclean === true) this.warnUnclean(name, topic.partitions.indexOf(p), p, leader);
          if (leader !== next.leader) next = { ...next, leader, leaderEpoch: next.leaderEpoch + 1, isr: elected?.isr ?? isrOf(next) };
        }
        if (next !== p) changed = true;
        return next;
      });
      if (changed) this.topicMap.set(name, { ...topic, partitions });
    }
  }

  /**
   * New partitions placed like a new topic's (placement.ts: rack-aware, on the least loaded live
   * brokers), with this topic's leaders so far counted so its leaders stay spread. Their replication
   * factor is the topic's: partition 0's final replica count (a reassignment in flight lists
   * leaving replicas too).
   */
  private createPartitions(c: Extract<MetadataCommand, { type: 'create-partitions' }>): MetadataResult {
    const topic = this.topicMap.get(c.name);
    if (topic === undefined) return fail(Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `topic '${c.name}' does not exist`);
    const current = topic.partitions.length;
    if (!Number.isSafeInteger(c.count) || c.count <= current) {
      return fail(Errors.INVALID_PARTITIONS.code, `Topic currently has ${current} partitions, which is ${c.count === current ? 'equal to' : 'higher than'} the requested ${c.count}`);
    }
    const first = topic.partitions[0];
    const replicationFactor = first.replicas.length - (first.removingReplicas?.length ?? 0);
    const live = this.brokers().filter((b) => !b.fenced);
    const topicLeaders = new Map<number, number>();
    for (const p of topic.partitions) topicLeaders.set(p.replicas[0], (topicLeaders.get(p.replicas[0]) ?? 0) + 1);
    const placed = placePartitions(live, c.count - current, replicationFactor, { ...this.load(), topicLeaders });
    if (!placed.ok) return fail(Errors.INVALID_REPLICATION_FACTOR.code, `replication factor ${replicationFactor} with ${live.length} live brokers`);
    const added = placed.assignments.map((replicas): PartitionRecord => ({ replicas, leader: replicas[0], leaderEpoch: 0, isr: replicas }));
    const updated: TopicRecord = { ...topic, partitions: [...topic.partitions, ...added] };
    this.topicMap.set(c.name, updated);
    return { ok: true, topic: updated };
  }

  private withPartition(name: string, index: number, change: (p: PartitionRecord, topic: TopicRecord) => PartitionRecord | MetadataResult): MetadataResult {
    const topic = this.topicMap.get(name);
    const p = topic?.partitions[index];
    if (topic === undefined || p === undefined) return fail(Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `no partition ${name}-${index}`);
    const next = change(p, topic);
    if ('ok' in next) return next;
    const partitions = [...topic.partitions];
    partitions[index] = next;
    const updated = { ...topic, partitions };
    this.topicMap.set(name, updated);
    return { ok: true, topic: updated };
  }

  private alterIsr(c: Extract<MetadataCommand, { type: 'alter-isr' }>): MetadataResult {
    return this.withPartition(c.topic, c.partition, (p) => {
      if (c.leader !== p.leader || c.leaderEpoch !== p.leaderEpoch) {
        return fail(Errors.FENCED_LEADER_EPOCH.code, `${c.topic}-${c.partition} is led by ${p.leader} in epoch ${p.leaderEpoch}, not ${c.leader} in ${c.leaderEpoch}`);
      }
      const isr = [...new Set(c.isr)];
      if (isr.length !== c.isr.length || !isr.includes(p.leader)) return fail(Errors.INVALID_REQUEST.code, `the ISR must list the leader and no replica twice`);
      const current = isrOf(p);
      for (const r of isr) {
        if (!p.replicas.includes(r)) return fail(Errors.NOT_IN_ISR.code, `broker ${r} is not a replica of ${c.topic}-${c.partition}`);
        if (!current.includes(r) && this.brokerMap.get(r)?.fenced !== false) return fail(Errors.NOT_IN_ISR.code, `broker ${r} is fenced and cannot join the ISR`);
      }
      return { ...p, isr: p.replicas.filter((r) => isr.includes(r)) };
    });
  }

  private electOne(c: Extract<MetadataCommand, { type: 'elect-leader' }>): MetadataResult {
    const live = (id: number) => this.brokerMap.get(id)?.fenced === false;
    let unclean = false;
    const result = this.withPartition(c.topic, c.partition, (p, topic) => {
      if (c.preferred === true) {
        const preferred = preferredLeader(p, live);
        if (preferred === null) {
          return p.replicas[0] === p.leader
            ? fail(Errors.ELECTION_NOT_NEEDED.code, `${c.topic}-${c.partition} is already led by its preferred replica ${p.leader}`)
            : fail(Errors.PREFERRED_LEADER_NOT_AVAILABLE.code, `preferred replica ${p.replicas[0]} of ${c.topic}-${c.partition} is not live and in sync`);
        }
        return { ...p, leader: preferred, leaderEpoch: p.leaderEpoch + 1 };
      }
      if (p.leader !== NO_LEADER && live(p.leader)) return fail(Errors.ELECTION_NOT_NEEDED.code, `${c.topic}-${c.partition} has a live leader ${p.leader}`);
      const elected = electLeader(p, live, uncleanAllowed(topic.configs));
      if (elected === null) return fail(Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE.code, `no live in-sync replica of ${c.topic}-${c.partition} (ISR ${isrOf(p).join(',')})`);
      unclean = elected.unclean;
      if (unclean) this.warnUnclean(c.topic, c.partition, p, elected.leader);
      return { ...p, leader: elected.leader, leaderEpoch: p.leaderEpoch + 1, isr: elected.isr };
    });
    return result.ok && unclean ? { ...result, unclean } : result;
  }

  /** Queued reassignment targets, in the order the controller starts them. */
  queuedReassignments(): readonly ReassignmentTarget[] {
    return this.queued;
  }

  /** Partitions being moved now. */
  movingPartitions(): { topic: string; partition: number; record: PartitionRecord }[] {
    const out: { topic: string; partition: number; record: PartitionRecord }[] = [];
    for (const t of this.topics()) t.partitions.forEach((record, partition) => isMoving(record) && out.push({ topic: t.name, partition, record }));
    return out;
  }

  private reassign(c: ReassignmentCommand): MetadataResult {
    const failed = applyReassignment(
      {
        queued: () => this.queued,
        setQueued: (moves) => (this.queued = moves),
        partition: (topic, partition) => this.topicMap.get(topic)?.partitions[partition],
        broker: (id) => this.brokerMap.get(id),
        moving: () => this.movingPartitions(),
        update: (topic, partition, change) => {
          const result = this.withPartition(topic, partition, (p) => {
            const next = change(p);
            return 'code' in next ? fail(next.code, next.message) : next;
          });
          return result.ok ? null : { code: result.code, message: result.message };
        },
        logger: this.logger,
      },
      c,
    );
    return failed === null ? { ok: true } : fail(failed.code, failed.message);
  }

  private warnUnclean(topic: string, partition: number, p: PartitionRecord, leader: number): void {
    this.logger.error(
      { topic, partition, leader, isr: isrOf(p), leaderEpoch: p.leaderEpoch + 1 },
      'UNCLEAN LEADER ELECTION: no in-sync replica is live; a replica that may lack acknowledged records now leads (unclean.leader.election.enable=true)',
    );
  }

  /** Partitions whose preferred replica is live, in sync and not leading (for elect-leader preferred). */
  preferredElectionsDue(): { topic: string; partition: number }[] {
    const live = (id: number) => this.brokerMap.get(id)?.fenced === false;
    const due: { topic: string; partition: number }[] = [];
    for (const t of this.topics()) t.partitions.forEach((p, partition) => preferredLeader(p, live) !== null && due.push({ topic: t.name, partition }));
    return due;
  }

  private load(): { replicas: Map<number, number>; leaders: Map<number, number> } {
    const replicas = new Map<number, number>();
    const leaders = new Map<number, number>();
    for (const t of this.topicMap.values()) {
      for (const p of t.partitions) {
        for (const r of p.replicas) replicas.set(r, (replicas.get(r) ?? 0) + 1);
        leaders.set(p.replicas[0], (leaders.get(p.replicas[0]) ?? 0) + 1);
      }
    }
    return { replicas, leaders };
  }
}

function fail(code: number, message: string): MetadataResult {
  return { ok: false, code, message };
}
