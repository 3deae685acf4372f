// An in-memory stand-in for the Rill client, shaped as the CLI's CliClient: topics with partitions
// of messages, an admin, a producer and a consumer. Lets the CLI's logic run without a broker.

import { Errors, RillError } from '../../src/errors.js';
import { assertValidGrowth } from '../../src/broker/topic-registry.js';
import type {
  CliAdmin,
  CliClient,
  CliClientConfig,
  CliConsumer,
  CliFetchedBatch,
  CliProducer,
  CliProducerMessage,
  CliGroupDescription,
  CliGroupMember,
  CliOffsetChange,
  CliPartitionLag,
  CliResetTarget,
  CliTopicDescription,
} from '../../src/cli/cli-client.js';
import type { StartOffset } from '../../src/cli/option-parsers.js';

export interface StoredMessage {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  timestamp: number;
}

export interface FakeTopic {
  configs: Record<string, string>;
  partitions: StoredMessage[][];
}

export interface FakeBehaviour {
  /** connect() never settles (an unreachable broker that drops packets). */
  hangOnConnect?: boolean;
  /** connect() rejects with this error. */
  connectError?: Error;
  /** The n-th producer send (1-based) and every later one reject with this error. */
  failSend?: { from: number; error: Error };
  /** Messages per consumer batch. */
  batchSize?: number;
}

const toBuffer = (v: Buffer | string | null | undefined): Buffer | null => (v === null || v === undefined ? null : Buffer.from(v));

/** A consumer group as the fake keeps it: members and committed offsets by topic and partition. */
export interface FakeGroup {
  state: string;
  protocol: string;
  members: CliGroupMember[];
  offsets: Map<string, number>;
}

export class FakeBroker {
  readonly topics = new Map<string, FakeTopic>();
  readonly groups = new Map<string, FakeGroup>();
  readonly configs: CliClientConfig[] = [];
  sends = 0;
  /** Consumers that have started iterating (assigned and seeked). */
  iterating = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly behaviour: FakeBehaviour = {}) {}

  factory = (config: CliClientConfig): CliClient => {
    this.configs.push(config);
    return new FakeClient(this);
  };

  addGroup(groupId: string, members: CliGroupMember[] = [], offsets: Record<string, number> = {}): FakeGroup {
    const group = { state: members.length > 0 ? 'Stable' : 'Empty', protocol: members.length > 0 ? 'range' : '', members, offsets: new Map(Object.entries(offsets)) };
    this.groups.set(groupId, group);
    return group;
  }

  group(groupId: string): FakeGroup {
    const group = this.groups.get(groupId);
    if (group === undefined) throw new RillError(Errors.GROUP_ID_NOT_FOUND, `group '${groupId}' does not exist`, { groupId });
    return group;
  }

  addTopic(name: string, partitions = 1, configs: Record<string, string> = {}): FakeTopic {
    const topic = { configs, partitions: Array.from({ length: partitions }, () => [] as StoredMessage[]) };
    this.topics.set(name, topic);
    return topic;
  }

  topic(name: string): FakeTopic {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `Unknown topic ${name}`, { topic: name });
    return topic;
  }

  append(name: string, partition: number, message: CliProducerMessage): void {
    const log = this.topic(name).partitions[partition];
    if (log === undefined) throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `No partition ${partition}`);
    const headers: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = Buffer.from(v);
    log.push({ offset: log.length, key: toBuffer(message.key), value: toBuffer(message.value), headers, timestamp: 1_700_000_000_000 + log.length });
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async connect(): Promise<void> {
    if (this.behaviour.hangOnConnect) await new Promise(() => undefined);
    if (this.behaviour.connectError) throw this.behaviour.connectError;
  }
}

class FakeClient implements CliClient {
  constructor(private readonly broker: FakeBroker) {}
  admin(): CliAdmin {
    return new FakeAdmin(this.broker);
  }
  producer(): CliProducer {
    return new FakeProducer(this.broker);
  }
  consumer(): CliConsumer {
    return new FakeConsumer(this.broker);
  }
  async close(): Promise<void> {}
}

class FakeAdmin implements CliAdmin {
  constructor(private readonly broker: FakeBroker) {}
  connect = () => this.broker.connect();
  async disconnect(): Promise<void> {}
  async createTopics(request: { topics: { topic: string; numPartitions?: number; configs?: Record<string, string> }[] }): Promise<boolean> {
    let created = false;
    for (const t of request.topics) {
      if (this.broker.topics.has(t.topic)) continue;
      this.broker.addTopic(t.topic, t.numPartitions ?? 1, t.configs ?? {});
      created = true;
    }
    return created;
  }
  async createPartitions(topics: { topic: string; count: number }[], options?: { validateOnly?: boolean }): Promise<void> {
    for (const { topic: name, count } of topics) {
      assertValidGrowth(name, this.broker.topics.get(name)?.partitions.length, count);
      const topic = this.broker.topic(name);
      if (options?.validateOnly !== true) while (topic.partitions.length < count) topic.partitions.push([]);
    }
  }
  async deleteTopics(request: { topics: string[] }): Promise<void> {
    for (const name of request.topics) {
      this.broker.topic(name);
      this.broker.topics.delete(name);
    }
  }
  async listTopics(options?: { includeInternal?: boolean }): Promise<string[]> {
    return [...this.broker.topics.keys()].filter((name) => options?.includeInternal || !name.startsWith('__'));
  }
  async describeTopics(request: { topics: string[] }): Promise<CliTopicDescription[]> {
    return request.topics.map((name) => {
      const topic = this.broker.topic(name);
      return {
        name,
        internal: name.startsWith('__'),
        configs: topic.configs,
        partitions: topic.partitions.map((log, partition) => ({
          partition,
          leader: 1,
          logStartOffset: 0,
          logEndOffset: log.length,
          highWatermark: log.length,
          sizeBytes: log.reduce((sum, m) => sum + (m.value?.length ?? 0) + 70, 0),
        })),
      };
    });
  }

  async fetchTopicOffsets(name: string) {
    return this.broker.topic(name).partitions.map((log, partition) => ({ partition, low: 0, high: log.length }));
  }

  // Offsets are keyed "topic/partition" in the fake.
  async listGroups(options?: { states?: string[] }) {
    return [...this.broker.groups]
      .filter(([, g]) => options?.states === undefined || options.states.includes(g.state))
      .map(([groupId, g]) => ({ groupId, protocolType: g.members.length > 0 ? 'consumer' : '', state: g.state }))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  }

  async describeGroup(groupId: string): Promise<CliGroupDescription> {
    const g = this.broker.group(groupId);
    return { groupId, state: g.state, protocolType: g.members.length > 0 ? 'consumer' : '', protocol: g.protocol, generationId: g.members.length > 0 ? 1 : 0, leader: g.members[0]?.memberId ?? '', members: g.members };
  }

  async fetchOffsets(options: { groupId: string; topics?: string[] }): Promise<CliPartitionLag[]> {
    const g = this.broker.group(options.groupId);
    const rows = new Map<string, CliPartitionLag>();
    const end = (topic: string, partition: number) => this.broker.topics.get(topic)?.partitions[partition]?.length ?? -1;
    for (const topic of options.topics ?? []) {
      this.broker.topic(topic).partitions.forEach((log, partition) => rows.set(`${topic}/${partition}`, { topic, partition, committedOffset: -1, logEndOffset: log.length, lag: null }));
    }
    for (const [k, offset] of g.offsets) {
      const [topic, p] = k.split('/');
      const logEndOffset = end(topic, Number(p));
      rows.set(k, { topic, partition: Number(p), committedOffset: offset, logEndOffset, lag: logEndOffset < 0 ? null : logEndOffset - offset });
    }
    return [...rows.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  async resetOffsets(options: { groupId: string; topic: string; partitions?: number[]; target: CliResetTarget; dryRun?: boolean }): Promise<CliOffsetChange[]> {
    const g = this.broker.groups.get(options.groupId) ?? this.broker.addGroup(options.groupId);
    if (g.members.length > 0) throw new RillError(Errors.NON_EMPTY_GROUP, `cannot reset the offsets of group '${options.groupId}': it has ${g.members.length} member(s)`);
    const logs = this.broker.topic(options.topic).partitions;
    const partitions = options.partitions ?? logs.map((_, p) => p);
    const plan = partitions.map((partition) => {
      const latest = logs[partition].length;
      const t = options.target;
      const newOffset = t.to === 'earliest' ? 0 : t.to === 'latest' ? latest : t.to === 'offset' ? Math.min(latest, t.offset) : logs[partition].findIndex((m) => m.timestamp >= t.timestamp);
      return { topic: options.topic, partition, currentOffset: g.offsets.get(`${options.topic}/${partition}`) ?? -1, newOffset: newOffset < 0 ? latest : newOffset };
    });
    if (!options.dryRun) for (const c of plan) g.offsets.set(`${c.topic}/${c.partition}`, c.newOffset);
    return plan;
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    for (const groupId of groupIds) {
      const g = this.broker.group(groupId);
      if (g.members.length > 0) throw new RillError(Errors.NON_EMPTY_GROUP, `group '${groupId}' has ${g.members.length} member(s); stop them first`);
      this.broker.groups.delete(groupId);
    }
  }
}

class FakeProducer implements CliProducer {
  private next = 0;
  constructor(private readonly broker: FakeBroker) {}
  connect = () => this.broker.connect();
  async disconnect(): Promise<void> {}
  async send(request: { topic: string; messages: CliProducerMessage[] }): Promise<unknown> {
    const n = ++this.broker.sends;
    // A tick, so several sends can be in flight at once.
    await new Promise((resolve) => setImmediate(resolve));
    const failure = this.broker.behaviour.failSend;
    if (failure !== undefined && n >= failure.from) throw failure.error;
    const partitions = this.broker.topic(request.topic).partitions.length;
    for (const message of request.messages) this.broker.append(request.topic, message.partition ?? this.next++ % partitions, message);
    return [{ topic: request.topic, partition: 0, errorCode: 0, baseOffset: 0 }];
  }
}

class FakeConsumer implements CliConsumer {
  private readonly positions = new Map<number, number>();
  private topicName = '';
  private stopped = false;
  private wakeStop: (() => void) | undefined;
  constructor(private readonly broker: FakeBroker) {}
  connect = () => this.broker.connect();
  async disconnect(): Promise<void> {}
  assign(partitions: { topic: string; partition: number }[]): void {
    for (const p of partitions) {
      this.topicName = p.topic;
      this.positions.set(p.partition, 0);
    }
  }
  seek(position: { topic: string; partition: number; offset: StartOffset }): void {
    const log = this.broker.topic(position.topic).partitions[position.partition];
    this.positions.set(position.partition, position.offset === 'earliest' ? 0 : position.offset === 'latest' ? log.length : position.offset);
  }
  stop(): void {
    this.stopped = true;
    this.wakeStop?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<CliFetchedBatch> {
    const batchSize = this.broker.behaviour.batchSize ?? 100;
    this.broker.iterating++;
    while (!this.stopped) {
      let yielded = false;
      for (const [partition, position] of this.positions) {
        const log = this.broker.topic(this.topicName).partitions[partition];
        if (position >= log.length) continue;
        const messages = log.slice(position, position + batchSize);
        this.positions.set(partition, position + messages.length);
        yielded = true;
        yield { topic: this.topicName, partition, highWatermark: log.length, messages };
      }
      if (!yielded) await Promise.race([this.broker.changed(), new Promise<void>((resolve) => (this.wakeStop = resolve))]);
    }
  }
}
