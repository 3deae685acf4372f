// The cluster metadata as a replicated state machine: brokers, topics, partition replica
// assignments, leaders, leader epochs and configs. Main thread only (the RaftServer's). Commands
// are plain data (msgpackr on the Raft log); apply() is deterministic — placement included — so
// every voter that applies the same log holds the same state. Results are data too: an error
// result carries a code from src/errors.ts and changes nothing.
//
// Leadership: a partition's leader is the first live (unfenced) replica of its assignment. When
// gossip declares a broker dead the controller proposes fence-broker; every partition it led moves
// to the next live replica and its leader epoch rises, so requests from the old leader are fenced.
// Choosing among in-sync replicas only comes with replication (a later part of issue 7).

import { Packr } from 'msgpackr';
import { Errors } from '../../errors.js';
import type { RaftStateMachine } from '../raft/raft-server.js';
import { placePartitions } from './placement.js';

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
}

export interface TopicRecord {
  readonly name: string;
  readonly partitions: readonly PartitionRecord[];
  readonly configs: Readonly<Record<string, string>>;
}

export const NO_LEADER = -1;

export type MetadataCommand =
  | { type: 'register-broker'; id: number; host: string; ports: Record<string, number>; rack: string | null }
  | { type: 'fence-broker'; id: number }
  | { type: 'unfence-broker'; id: number }
  | { type: 'create-topic'; name: string; partitions: number; replicationFactor: number; configs?: Record<string, string> }
  | { type: 'delete-topic'; name: string }
  | { type: 'set-topic-config'; name: string; key: string; value: string | null }
  /** Reassigns a partition (rebalance); the leader becomes the first live new replica, the epoch rises. */
  | { type: 'move-partition'; name: string; partition: number; replicas: number[] };

export type MetadataResult = { ok: true; topic?: TopicRecord } | { ok: false; code: number; message: string };

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export function encodeCommand(command: MetadataCommand): Uint8Array {
  return packr.pack(command);
}

interface Snapshot {
  brokers: BrokerRecord[];
  topics: TopicRecord[];
  lastIndex: number;
}

export class MetadataState implements RaftStateMachine<MetadataResult> {
  private brokerMap = new Map<number, BrokerRecord>();
  private topicMap = new Map<string, TopicRecord>();
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
    const s: Snapshot = { brokers: this.brokers(), topics: this.topics(), lastIndex: this.version };
    return packr.pack(s);
  }

  restore(data: Uint8Array, lastIndex: number): void {
    const s = packr.unpack(data) as Snapshot;
    this.brokerMap = new Map(s.brokers.map((b) => [b.id, b]));
    this.topicMap = new Map(s.topics.map((t) => [t.name, t]));
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
        const placed = placePartitions(live, c.partitions, c.replicationFactor, this.load());
        if (!placed.ok) return fail(Errors.INVALID_REPLICATION_FACTOR.code, `replication factor ${c.replicationFactor} with ${live.length} live brokers`);
        const topic: TopicRecord = {
          name: c.name,
          partitions: placed.assignments.map((replicas) => ({ replicas, leader: replicas[0], leaderEpoch: 0 })),
          configs: { ...(c.configs ?? {}) },
        };
        this.topicMap.set(c.name, topic);
        return { ok: true, topic };
      }
      case 'delete-topic':
        if (!this.topicMap.delete(c.name)) return fail(Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `no topic ${c.name}`);
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
        partitions[c.partition] = { replicas: [...c.replicas], leader, leaderEpoch: held.leaderEpoch + 1 };
        this.topicMap.set(c.name, { ...topic, partitions });
        return { ok: true, topic: this.topicMap.get(c.name) };
      }
      default:
        return fail(Errors.INVALID_REQUEST.code, `unknown metadata command ${(c as { type: unknown }).type}`);
    }
  }

  /** Moves each partition's leadership to its first live replica; a change bumps the leader epoch. */
  private electLeaders(): void {
    for (const [name, topic] of this.topicMap) {
      let changed = false;
      const partitions = topic.partitions.map((p) => {
        const leader = p.replicas.find((r) => this.brokerMap.get(r)?.fenced === false) ?? NO_LEADER;
        const keep = p.leader !== NO_LEADER && this.brokerMap.get(p.leader)?.fenced === false;
        if (keep || leader === p.leader) return p;
        changed = true;
        return { ...p, leader, leaderEpoch: p.leaderEpoch + 1 };
      });
      if (changed) this.topicMap.set(name, { ...topic, partitions });
    }
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
