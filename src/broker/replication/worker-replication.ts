// The replication side of an owner worker's request loop, kept out of owner-worker.ts: creates the
// worker's ReplicaManager on the first leadership task, and answers the ReplicaFetch and
// OffsetForLeaderEpoch ring requests. Worker thread only.
//
// Leadership task (OwnerTask op 'leadership', sent by the node's cluster wiring to the owner of
// each partition, after 'open'): this broker's id, where the other brokers listen (for replica
// fetchers' connections), where the active controller listens (ISR changes go there as AlterIsr,
// controller-isr-link.ts) and how metadata says each partition is led.

import { Errors } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { OffsetForLeaderEpochRequest } from '../../protocol/index.js';
import type { FetchPartitionResult, ReplicaFetchMeta } from '../owner-messages.js';
import type { PartitionHost } from '../partition-host.js';
import type { IsrChannel } from './isr-channel.js';
import type { PartitionLeadership } from './partition-replica.js';
import { ReplicaManager, type FetchControl, type ReplicationSettings } from './replica-manager.js';
import { TcpLeaderLink, type BrokerAddress } from './tcp-leader-link.js';
import type { NodeIsolation } from '../../cluster/node-isolation.js';

export interface LeadershipTask {
  op: 'leadership';
  settings: ReplicationSettings;
  /** Binary-protocol addresses of the brokers, by id (leaders this worker may follow). */
  brokers: Record<number, BrokerAddress>;
  partitions: PartitionLeadership[];
  /** Where the active controller takes AlterIsr (api 32); kept from the last task that named one. */
  controller?: BrokerAddress;
}

export class WorkerReplication {
  private manager: ReplicaManager | null = null;
  private brokers: Record<number, BrokerAddress> = {};
  private brokerId = -1;

  /** `isolation`: injected network cuts (fault tests only) that this worker's links obey. */
  constructor(
    private readonly host: PartitionHost,
    private readonly isrChannel: IsrChannel,
    private readonly logger: Logger,
    private readonly isolation: NodeIsolation | null = null,
  ) {}

  /** Whether an injected cut separates this node from the broker listening at `address` now. */
  isCutFromBrokerAt(address: BrokerAddress | undefined): boolean {
    if (this.isolation === null) return false;
    const peer = Object.entries(this.brokers).find(([, a]) => a.host === address?.host && a.port === address?.port)?.[0];
    return peer === undefined ? this.isolation.isIsolated(this.brokerId) : this.isolation.cuts(this.brokerId, Number(peer));
  }

  get replicas(): ReplicaManager | null {
    return this.manager;
  }

  /** Applies a leadership task; returns each partition's outcome. */
  leadership(task: LeadershipTask): string[] {
    this.brokers = { ...this.brokers, ...task.brokers };
    this.brokerId = task.settings.brokerId;
    const isolation = this.isolation;
    this.manager ??= new ReplicaManager(
      this.host,
      task.settings,
      this.isrChannel,
      (leaderId) =>
        new TcpLeaderLink(() => this.brokers[leaderId], {
          clientId: `rill-replica-${task.settings.brokerId}`,
          logger: this.logger,
          ...(isolation === null ? {} : { isCut: () => isolation.cuts(this.brokerId, leaderId) }),
        }),
      this.logger,
    );
    return task.partitions.map((m) => {
      try {
        return this.manager!.applyLeadership(m);
      } catch (error) {
        this.logger.error({ err: error, topic: m.topic, partition: m.partition }, 'could not apply leadership');
        return 'failed';
      }
    });
  }

  /** Before a partition closes on this worker. */
  stop(topic: string, partition: number): void {
    this.manager?.stop(topic, partition);
  }

  async replicaFetch(meta: ReplicaFetchMeta, control: FetchControl): Promise<FetchPartitionResult[]> {
    if (this.manager === null) return meta.partitions.map((p) => notReplicated(p));
    const results = await this.manager.replicaFetch(meta, { control });
    return results.map(({ records: _records, ...r }) => r);
  }

  offsetForLeaderEpoch(request: OffsetForLeaderEpochRequest) {
    if (this.manager === null) return request.partitions.map((q) => ({ topic: q.topic, partition: q.partition, errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code, leaderEpoch: -1, endOffset: -1 }));
    return this.manager.offsetForLeaderEpoch(request);
  }

  close(): void {
    this.manager?.close();
  }
}

function notReplicated(p: { topic: string; partition: number }): FetchPartitionResult {
  return { topic: p.topic, partition: p.partition, errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code, message: `${p.topic}-${p.partition} is not replicated on this broker`, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, file: null, fileId: 0, position: 0, length: 0 };
}
