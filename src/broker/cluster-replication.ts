// The glue between the cluster metadata and the partition replicas on this node's workers
// (issue 8 wired into issue 7). Main thread. Only a broker in a cluster creates one; the
// single-node broker never loads this path.
//
// - After every metadata sync (cluster-view.ts), the leadership of each partition this node hosts
//   — leader, epoch, replicas, ISR, min.insync.replicas — goes to the partition's owner worker
//   (Broker.applyLeadership), which leads, follows (truncate by epoch, then fetch) or stops. What
//   was already sent unchanged is not sent again; a change of any broker's address or of the
//   active controller sends everything again, since the workers learn those only from these tasks.
// - Nothing is applied until this node's metadata has caught up with the controller's (a
//   restarted node replays the Raft log from its start): an old entry naming this node leader
//   must not make it lead an epoch the cluster has left behind. The epoch fences it anyway (the
//   followers fetch in newer epochs, so an acks=all produce to it never completes), but acks=1
//   would be acknowledged and then truncated.
// - A partition without a leader (every ISR member fenced) keeps its role here until it gets one:
//   a follower has nothing to fetch from, and the dead leader is not there.
// - AlterIsr (api 32) from partition leaders, anywhere in the cluster, lands on the active
//   controller's handler here, which commits `alter-isr` through Raft and answers with the ISR the
//   metadata then holds; any other node answers NOT_CONTROLLER and the leader retries later.

import { Errors, RillError } from '../errors.js';
import { type Logger } from '../logger.js';
import { NO_LEADER, type ClusterNode } from '../cluster/index.js';
import { isrOf } from '../cluster/metadata/leader-election.js';
import type { AlterIsrRequest, AlterIsrResponse } from '../protocol/index.js';
import type { PartitionLeadership } from './replication/partition-replica.js';
import type { ReplicationSettings } from './replication/replica-manager.js';
import { replicationConfigOf } from './replication/replication-configs.js';
import type { BrokerAddress } from './replication/tcp-leader-link.js';

export type ApplyLeadership = (partitions: PartitionLeadership[], brokers: Record<number, BrokerAddress>, controller: BrokerAddress | undefined, settings: Omit<ReplicationSettings, 'brokerId'>) => Promise<string[]>;

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ClusterReplication {
  private readonly node: ClusterNode;
  private readonly apply: ApplyLeadership;
  private readonly settings: Omit<ReplicationSettings, 'brokerId'>;
  private readonly logger: Logger;
  /** What each partition's owner was last told, by key. */
  private readonly sent = new Map<string, string>();
  private sentContext = '';

  constructor(ctx: { node: ClusterNode; apply: ApplyLeadership; settings: Omit<ReplicationSettings, 'brokerId'>; logger: Logger }) {
    this.node = ctx.node;
    this.apply = ctx.apply;
    this.settings = ctx.settings;
    this.logger = ctx.logger;
  }

  /** Brokers' binary listeners by id, from the metadata (registered from gossip). */
  private brokers(): Record<number, BrokerAddress> {
    const out: Record<number, BrokerAddress> = {};
    for (const b of this.node.state.brokers()) if (b.ports.broker !== undefined) out[b.id] = { host: b.host, port: b.ports.broker };
    return out;
  }

  /**
   * Sends the owners the leadership of `open` partitions (hosted here and open on a worker) that
   * changed since last time. Called by the view after each sync, one at a time. False when the
   * metadata has not caught up yet (nothing applied; the view tries again shortly).
   */
  async sync(open: readonly { topic: string; partition: number }[]): Promise<boolean> {
    if (!this.node.metadataCaughtUp()) return false;
    const brokers = this.brokers();
    const controllerId = this.node.controllerId();
    const controller = controllerId === null ? undefined : brokers[controllerId];
    const context = JSON.stringify({ brokers, controller });
    if (context !== this.sentContext) this.sent.clear();
    this.sentContext = context;

    const changed: PartitionLeadership[] = [];
    const live = new Set<string>();
    const fencedBrokers = new Set(this.node.state.brokers().filter((b) => b.fenced).map((b) => b.id));
    for (const ref of open) {
      const topic = this.node.state.topic(ref.topic);
      const p = topic?.partitions[ref.partition];
      if (topic === undefined || p === undefined) continue;
      const k = key(ref.topic, ref.partition);
      live.add(k);
      if (p.leader === NO_LEADER) continue;
      let minInsyncReplicas = 1;
      try {
        minInsyncReplicas = replicationConfigOf(topic.configs).minInsyncReplicas;
      } catch {
        // Validated at creation; a bad value set later falls back to Kafka's default.
      }
      const fencedReplicas = p.replicas.filter((r) => fencedBrokers.has(r));
      const m: PartitionLeadership = {
        topic: ref.topic,
        partition: ref.partition,
        leader: p.leader,
        leaderEpoch: p.leaderEpoch,
        replicas: [...p.replicas],
        isr: [...isrOf(p)],
        minInsyncReplicas,
        ...(p.addingReplicas === undefined ? {} : { addingReplicas: [...p.addingReplicas] }),
        ...(fencedReplicas.length === 0 ? {} : { fencedReplicas }),
      };
      const signature = JSON.stringify([m.leader, m.leaderEpoch, m.replicas, m.isr, m.minInsyncReplicas, m.addingReplicas, m.fencedReplicas]);
      if (this.sent.get(k) === signature) continue;
      this.sent.set(k, signature);
      changed.push(m);
    }
    for (const k of [...this.sent.keys()]) if (!live.has(k)) this.sent.delete(k);
    if (changed.length === 0) return true;

    const outcomes = await this.apply(changed, brokers, controller, this.settings);
    outcomes.forEach((outcome, i) => {
      // Not applied (e.g. a worker refused an epoch below its log's): sent again at the next change.
      if (outcome === 'failed' || outcome === 'unknown-partition') this.sent.delete(key(changed[i].topic, changed[i].partition));
    });
    const roles = changed.map((m, i) => `${m.topic}-${m.partition}:${outcomes[i]}@${m.leaderEpoch}`).filter((s) => !s.includes(':unchanged@'));
    if (roles.length > 0) this.logger.info({ partitions: roles }, 'applied partition leadership');
    return true;
  }

  /** These partitions' owner lost what it was told (a replacement worker): send it all at the next sync. */
  forget(refs: readonly { topic: string; partition: number }[]): void {
    for (const ref of refs) this.sent.delete(key(ref.topic, ref.partition));
  }

  /** The AlterIsr handler (every node installs it; only the active controller commits). */
  async alterIsr(request: AlterIsrRequest): Promise<AlterIsrResponse> {
    const { topic, partition } = request;
    const isrNow = () => {
      const p = this.node.state.topic(topic)?.partitions[partition];
      return p === undefined ? [] : [...isrOf(p)];
    };
    try {
      const result = await this.node.submit({ type: 'alter-isr', topic, partition, leader: request.leader, leaderEpoch: request.leaderEpoch, isr: [...request.isr] });
      if (result.ok) {
        this.logger.info({ topic, partition, isr: isrNow(), leader: request.leader, leaderEpoch: request.leaderEpoch }, 'ISR changed');
        return { topic, partition, errorCode: 0, isr: isrNow() };
      }
      return { topic, partition, errorCode: result.code, message: result.message, isr: isrNow() };
    } catch (error) {
      if (error instanceof RillError) return { topic, partition, errorCode: error.code, message: error.message, isr: isrNow() };
      return { topic, partition, errorCode: Errors.UNKNOWN_SERVER_ERROR.code, message: String((error as Error)?.message ?? error), isr: isrNow() };
    }
  }
}
