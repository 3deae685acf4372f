// An in-process replication cluster for tests: brokers with a PartitionHost and a ReplicaManager
// each, one MetadataState as controller, in-memory leader links that a test can cut, and the glue a
// node runs (applyLeadership on every metadata change) done by hand after each command.

import { Errors, RillError } from '../../../src/errors.js';
import { MetadataState, type MetadataCommand } from '../../../src/cluster/metadata/metadata-state.js';
import { isrOf } from '../../../src/cluster/metadata/leader-election.js';
import { PartitionHost } from '../../../src/broker/partition-host.js';
import { ReplicaManager } from '../../../src/broker/replication/replica-manager.js';
import { controllerIsrChannel } from '../../../src/broker/replication/isr-channel.js';
import type { LeaderLink } from '../../../src/broker/replication/leader-link.js';
import { resolveLogConfig, type LogConfig } from '../../../src/storage/index.js';
import { join } from 'node:path';

export interface TestBroker {
  id: number;
  dir: string;
  host: PartitionHost;
  manager: ReplicaManager;
  up: boolean;
}

export class ReplicationCluster {
  readonly state = new MetadataState();
  readonly brokers = new Map<number, TestBroker>();
  /** "from->to" pairs whose links fail (network cut). */
  readonly cut = new Set<string>();
  private readonly config: LogConfig;

  constructor(
    private readonly root: string,
    ids: number[],
    private readonly options: { lagTimeMaxMs?: number; minInsync?: number; config?: Partial<LogConfig> } = {},
  ) {
    this.config = resolveLogConfig({ segmentBytes: 64 * 1024, indexIntervalBytes: 1024, ...options.config });
    for (const id of ids) this.state.execute({ type: 'register-broker', id, host: '127.0.0.1', ports: {}, rack: null });
  }

  async start(id: number): Promise<TestBroker> {
    const host = new PartitionHost();
    const isr = controllerIsrChannel(this.state, async (command) => {
      const result = this.execute(command);
      return result;
    });
    const manager = new ReplicaManager(host, { brokerId: id, lagTimeMaxMs: this.options.lagTimeMaxMs ?? 60_000, fetcher: { maxWaitMs: 100, backoffMs: 10 } }, isr, (leader) => this.link(id, leader));
    const broker: TestBroker = { id, dir: join(this.root, `broker-${id}`), host, manager, up: true };
    this.brokers.set(id, broker);
    for (const t of this.state.topics()) {
      for (let p = 0; p < t.partitions.length; p++) {
        if (t.partitions[p].replicas.includes(id)) await host.open({ topic: t.name, partition: p, dir: join(broker.dir, t.name, String(p)), config: this.config });
      }
    }
    if (this.state.broker(id)?.fenced) this.execute({ type: 'unfence-broker', id });
    else this.propagate();
    return broker;
  }

  /** A crash as the cluster sees it: the broker stops answering, its logs are closed as they are. */
  async kill(id: number): Promise<void> {
    const broker = this.brokers.get(id)!;
    broker.up = false;
    broker.manager.close();
    await broker.host.closeAll();
    this.execute({ type: 'fence-broker', id });
  }

  async createTopic(name: string, partitions: number, replicationFactor: number): Promise<void> {
    this.state.execute({ type: 'create-topic', name, partitions, replicationFactor, configs: { 'min.insync.replicas': String(this.options.minInsync ?? 2) } });
    for (const broker of this.brokers.values()) {
      if (!broker.up) continue;
      const t = this.state.topic(name)!;
      for (let p = 0; p < partitions; p++) {
        if (t.partitions[p].replicas.includes(broker.id)) await broker.host.open({ topic: name, partition: p, dir: join(broker.dir, name, String(p)), config: this.config });
      }
    }
    this.propagate();
  }

  execute(command: MetadataCommand) {
    const result = this.state.execute(command);
    if (result.ok) queueMicrotask(() => this.propagate());
    return result;
  }

  /** The node glue: every live broker applies the leadership of every partition it replicates. */
  propagate(): void {
    for (const broker of this.brokers.values()) {
      if (!broker.up) continue;
      for (const t of this.state.topics()) {
        t.partitions.forEach((p, partition) => {
          if (!p.replicas.includes(broker.id)) return;
          broker.manager.applyLeadership({ topic: t.name, partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: isrOf(p), minInsyncReplicas: Number(t.configs['min.insync.replicas'] ?? 1) });
        });
      }
    }
  }

  leaderOf(topic: string, partition: number): TestBroker {
    return this.brokers.get(this.state.topic(topic)!.partitions[partition].leader)!;
  }

  private link(from: number, to: number): LeaderLink {
    const reach = (): ReplicaManager => {
      const broker = this.brokers.get(to);
      if (broker === undefined || !broker.up || this.cut.has(`${from}->${to}`)) throw new RillError(Errors.NETWORK_EXCEPTION, `broker ${to} unreachable from ${from}`);
      return broker.manager;
    };
    return {
      replicaFetch: async (request) => {
        const results = await reach().replicaFetch(request, { copy: true });
        if (this.cut.has(`${from}->${to}`)) throw new RillError(Errors.NETWORK_EXCEPTION, 'cut while fetching');
        return {
          header: { partitions: results.map((r) => ({ topic: r.topic, partition: r.partition, errorCode: r.errorCode, highWatermark: r.highWatermark, logStartOffset: r.logStartOffset, logEndOffset: r.logEndOffset, bytes: r.length })) },
          recordSets: results.map((r) => r.records),
        };
      },
      offsetForLeaderEpoch: async (request) => ({ partitions: reach().offsetForLeaderEpoch(request) }),
      close: () => {},
    };
  }

  async stopAll(): Promise<void> {
    for (const broker of this.brokers.values()) {
      if (!broker.up) continue;
      broker.up = false;
      broker.manager.close();
      await broker.host.closeAll();
    }
  }
}
