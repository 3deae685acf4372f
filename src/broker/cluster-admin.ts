// The metadata and administration APIs of a node in a cluster. Main thread. admin.ts hands its
// requests here when the broker runs with a cluster (single-node brokers never load this path).
//
// Reads (Metadata, ListTopics, FindCoordinator, ClusterStatus) are answered by any node from the
// metadata it has applied. Changes (CreateTopics, CreatePartitions, DeleteTopics, Rebalance) are the active
// controller's: a node that is not it forwards the request to it (peer-request.ts) and relays the
// answer, so clients and tools may talk to any node; while no controller is known, each topic gets
// NOT_CONTROLLER (retriable). A change resolves once committed on a majority of voters and applied
// on the controller; the other nodes apply it within a heartbeat or so, and clients that ask them
// meanwhile get UNKNOWN_TOPIC_OR_PARTITION or LEADER_NOT_AVAILABLE, both retriable.

import { randomUUID } from 'node:crypto';
import { Errors, RillError, errorSpecByCode } from '../errors.js';
import { type Logger } from '../logger.js';
import { NO_LEADER, cutError, type ClusterNode, type MetadataResult } from '../cluster/index.js';
import {
  ApiKeys,
  assertValidTopicName,
  collisionKey,
  isInternalTopicName,
  type ApiKey,
  type ClusterStatusResponse,
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  type DescribeTopicsResponse,
  type FindCoordinatorResponse,
  type ListTopicsRequest,
  type ListTopicsResponse,
  type MetadataRequest,
  type MetadataResponse,
  type RebalanceRequest,
  type RebalanceResponse,
  type RequestHeaders,
  type ResponseHeaders,
} from '../protocol/index.js';
import { logConfigFromProperties } from '../storage/index.js';
import { type BrokerConfig } from './config.js';
import { type ClusterView } from './cluster-view.js';
import { peerRequest } from './peer-request.js';
import { rebalanceOnController } from './cluster-rebalance.js';
import { logShareOf, replicationConfigOf } from './replication/replication-configs.js';
import { isrOf, MIN_INSYNC_REPLICAS, UNCLEAN_LEADER_ELECTION } from '../cluster/metadata/leader-election.js';
import { AUTO_REPLICATION_FACTOR } from '../cluster/metadata/metadata-state.js';
import { MAX_PARTITIONS, assertValidGrowth, type TopicMetadata } from './topic-registry.js';

/** Forwarded requests wait this long beyond their own timeout for the controller's answer. */
const FORWARD_TIMEOUT_MS = 30_000;

function failure(error: unknown): { errorCode: number; message: string } {
  if (error instanceof RillError) return { errorCode: error.code, message: error.message };
  return { errorCode: Errors.UNKNOWN_SERVER_ERROR.code, message: String((error as Error)?.message ?? error) };
}

function resultFailure(result: MetadataResult): RillError | null {
  return result.ok ? null : new RillError(errorSpecByCode(result.code), result.message);
}

export class ClusterAdmin {
  private readonly node: ClusterNode;

  constructor(
    private readonly view: ClusterView,
    private readonly config: BrokerConfig,
    private readonly logger: Logger,
  ) {
    this.node = view.node;
  }

  metadata(request: MetadataRequest): MetadataResponse {
    const state = this.node.state;
    const names = request.topics ?? state.topics().map((t) => t.name);
    return {
      clusterId: this.node.clusterId,
      brokers: state
        .brokers()
        .filter((b) => !b.fenced && b.ports.broker !== undefined)
        .map((b) => ({ nodeId: b.id, host: b.host, port: b.ports.broker })),
      topics: names.map((name) => {
        const topic = state.topic(name);
        if (topic === undefined) return { name, errorCode: Errors.UNKNOWN_TOPIC_OR_PARTITION.code, internal: isInternalTopicName(name), partitions: [] };
        return {
          name,
          errorCode: 0,
          internal: isInternalTopicName(name),
          partitions: topic.partitions.map((p, partition) => ({
            partition,
            errorCode: p.leader === NO_LEADER ? Errors.LEADER_NOT_AVAILABLE.code : 0,
            leader: p.leader,
            replicas: [...p.replicas],
            isr: [...isrOf(p)],
          })),
        };
      }),
    };
  }

  /** A topic of the cluster in the registry's shape (for DescribeTopics' configs). */
  topicMetadata(name: string): TopicMetadata | undefined {
    const topic = this.node.state.topic(name);
    return topic === undefined ? undefined : { name, id: topic.id, partitions: topic.partitions.length, config: topic.configs, createdAt: 0 };
  }

  /** Replicas and ISR of a partition per the metadata (empty when unknown). */
  replicasOf(topic: string, partition: number): { replicas?: number[]; isr?: number[] } {
    const p = this.node.state.topic(topic)?.partitions[partition];
    return p === undefined ? {} : { replicas: [...p.replicas], isr: [...isrOf(p)] };
  }

  /** A topic's replication configs, effective values (for DescribeTopics). */
  replicationConfigs(name: string): Record<string, string> {
    const configs = this.node.state.topic(name)?.configs ?? {};
    let parsed = { minInsyncReplicas: 1, uncleanLeaderElection: false };
    try {
      parsed = replicationConfigOf(configs);
    } catch {
      // Validated at creation; shown as Kafka's defaults otherwise.
    }
    return { [MIN_INSYNC_REPLICAS]: String(parsed.minInsyncReplicas), [UNCLEAN_LEADER_ELECTION]: String(parsed.uncleanLeaderElection) };
  }

  /**
   * DescribeTopics through any node: the partitions this node does not lead are described by their
   * leaders (one localOnly request per leader, in parallel); a leader that cannot be asked leaves
   * its partitions' figures at -1 with the error, and the rest of the answer stands.
   */
  async fillFromLeaders(answer: DescribeTopicsResponse): Promise<void> {
    const byLeader = new Map<number, Set<string>>();
    for (const t of answer.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== Errors.NOT_LEADER_OR_FOLLOWER.code || p.leader < 0) continue;
        const names = byLeader.get(p.leader) ?? new Set<string>();
        names.add(t.name);
        byLeader.set(p.leader, names);
      }
    }
    await Promise.all(
      [...byLeader].map(async ([leader, names]) => {
        const address = this.node.brokerAddress(leader);
        if (address === undefined) return;
        try {
          const theirs = await this.askNode(leader, address, ApiKeys.DescribeTopics, { topics: [...names], localOnly: true });
          for (const t of theirs.topics) {
            const ours = answer.topics.find((x) => x.name === t.name);
            if (ours === undefined) continue;
            for (const p of t.partitions) {
              const at = ours.partitions.findIndex((x) => x.partition === p.partition);
              if (at >= 0 && p.errorCode === 0 && ours.partitions[at].leader === leader) ours.partitions[at] = p;
            }
          }
        } catch (error) {
          this.logger.warn({ leader, err: error }, 'could not ask a partition leader for its figures');
        }
      }),
    );
  }

  leaderOf(topic: string, partition: number): number {
    return this.node.leaderOf(topic, partition) ?? NO_LEADER;
  }

  listTopics(request: ListTopicsRequest): ListTopicsResponse {
    return {
      topics: this.node.state
        .topics()
        .filter((t) => request.includeInternal === true || !isInternalTopicName(t.name))
        .map((t) => ({ name: t.name, partitions: t.partitions.length, internal: isInternalTopicName(t.name) })),
    };
  }

  /** The coordinator of a group: the leader of its __consumer_offsets partition, wherever it is. */
  findCoordinator(offsetsTopic: string, partition: number): FindCoordinatorResponse {
    const leader = this.node.leaderOf(offsetsTopic, partition);
    const address = leader === undefined || leader === NO_LEADER ? undefined : this.node.brokerAddress(leader);
    if (leader === undefined || address === undefined) {
      const message = leader === undefined ? `${offsetsTopic} is not created yet (the controller creates it once the first nodes have joined)` : `${offsetsTopic}-${partition} has no live leader`;
      return { errorCode: Errors.COORDINATOR_NOT_AVAILABLE.code, message, nodeId: -1, host: '', port: -1, partition };
    }
    return { errorCode: 0, nodeId: leader!, host: address.host, port: address.port, partition };
  }

  async createTopics(request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
    const forwarded = await this.forward(ApiKeys.CreateTopics, request, () => ({ topics: request.topics.map((t) => ({ name: t.name, ...this.noController() })) }));
    if (forwarded !== null) return forwarded;
    const topics = [];
    for (const wanted of request.topics) {
      const partitions = wanted.partitions ?? this.config.defaultPartitions;
      const replicationFactor = wanted.replicationFactor ?? this.defaultReplicationFactor();
      // min(3, live nodes) is settled when the command applies (metadata-state.ts): the live set
      // may change before it commits. The estimate above only checks the configs against it.
      const auto = wanted.replicationFactor === undefined && this.config.defaultReplicationFactor <= 0;
      try {
        this.validate(wanted.name, partitions, wanted.configs ?? {});
        const live = this.node.state.brokers().filter((b) => !b.fenced).length;
        if (!Number.isSafeInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > live) {
          throw new RillError(Errors.INVALID_REPLICATION_FACTOR, `replication factor ${replicationFactor} needs ${replicationFactor} live nodes; the cluster has ${live}`);
        }
        replicationConfigOf(wanted.configs ?? {}, replicationFactor);
        if (!request.validateOnly) {
          const result = await this.node.submit({ type: 'create-topic', id: randomUUID(), name: wanted.name, partitions, replicationFactor: auto ? AUTO_REPLICATION_FACTOR : replicationFactor, configs: { ...(wanted.configs ?? {}) } });
          const failed = resultFailure(result);
          if (failed !== null) throw failed;
        }
        const created = this.node.state.topic(wanted.name)?.partitions[0]?.replicas.length;
        topics.push({ name: wanted.name, errorCode: 0, partitions, replicationFactor: request.validateOnly || created === undefined ? replicationFactor : created });
      } catch (error) {
        topics.push({ name: wanted.name, ...failure(error) });
      }
    }
    return { topics };
  }

  /**
   * CreatePartitions on the controller: checked as a single node checks (assertValidGrowth), then
   * one create-partitions command places the new replicas (metadata-state.ts); every node's view
   * opens those it hosts and replication starts as for a new topic's.
   */
  async createPartitions(request: CreatePartitionsRequest): Promise<CreatePartitionsResponse> {
    const forwarded = await this.forward(ApiKeys.CreatePartitions, request, () => ({ topics: request.topics.map((t) => ({ name: t.name, ...this.noController() })) }));
    if (forwarded !== null) return forwarded;
    const topics = [];
    for (const wanted of request.topics) {
      try {
        const topic = this.node.state.topic(wanted.name);
        assertValidGrowth(wanted.name, topic?.partitions.length, wanted.count);
        const first = topic!.partitions[0]; // an unknown topic threw above
        const replicationFactor = first.replicas.length - (first.removingReplicas?.length ?? 0);
        const live = this.node.state.brokers().filter((b) => !b.fenced).length;
        if (replicationFactor > live) {
          throw new RillError(Errors.INVALID_REPLICATION_FACTOR, `replication factor ${replicationFactor} of '${wanted.name}' needs ${replicationFactor} live nodes; the cluster has ${live}`);
        }
        if (!request.validateOnly) {
          const failed = resultFailure(await this.node.submit({ type: 'create-partitions', name: wanted.name, count: wanted.count }));
          if (failed !== null) throw failed;
        }
        topics.push({ name: wanted.name, errorCode: 0, partitions: wanted.count });
      } catch (error) {
        topics.push({ name: wanted.name, ...failure(error) });
      }
    }
    return { topics };
  }

  async deleteTopics(request: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
    const forwarded = await this.forward(ApiKeys.DeleteTopics, request, () => ({ topics: request.topics.map((name) => ({ name, ...this.noController() })) }));
    if (forwarded !== null) return forwarded;
    const topics = [];
    for (const name of request.topics) {
      try {
        const result = await this.node.submit({ type: 'delete-topic', name });
        const failed = resultFailure(result);
        if (failed !== null) throw failed;
        topics.push({ name, errorCode: 0 });
      } catch (error) {
        topics.push({ name, ...failure(error) });
      }
    }
    return { topics };
  }

  clusterStatus(): ClusterStatusResponse {
    const s = this.node.status();
    const drops: Record<string, number> = {};
    for (const [k, v] of Object.entries(s.gossip.drops)) drops[`gossip.${k}`] = v;
    for (const [k, v] of Object.entries(s.raftDrops)) drops[`raft.${k}`] = v;
    return {
      errorCode: 0,
      nodeId: s.nodeId,
      clusterId: s.clusterId,
      controllerId: s.controller.leaderId ?? -1,
      controllerTerm: s.controller.term,
      raftRole: s.controller.role,
      voters: s.controller.voters,
      metadataVersion: s.metadataVersion,
      members: s.members.map((m) => ({ id: m.id, state: m.state, address: m.address, host: m.host, ports: m.ports, ...(m.rack === null ? {} : { rack: m.rack }), incarnation: m.incarnation, load: m.load })),
      brokers: s.brokers.map((b) => ({ id: b.id, host: b.host, port: b.ports.broker ?? 0, ...(b.rack === null ? {} : { rack: b.rack }), fenced: b.fenced })),
      partitions: this.node.state.topics().flatMap((t) => t.partitions.map((p, partition) => ({ topic: t.name, partition, replicas: [...p.replicas], leader: p.leader, leaderEpoch: p.leaderEpoch }))),
      drops,
    };
  }

  /**
   * Rebalance: plans moves that even out replicas and preferred leaders over the live brokers and
   * queues them, or lists or cancels the rebalance in progress (cluster-rebalance.ts). The moves
   * copy data through replication; the controller drives them.
   */
  async rebalance(request: RebalanceRequest): Promise<RebalanceResponse> {
    const forwarded = await this.forward(ApiKeys.Rebalance, request, () => ({ ...this.noController(), moves: [], skipped: 0 }));
    if (forwarded !== null) return forwarded;
    try {
      return await rebalanceOnController({ node: this.node, logger: this.logger, timeoutMs: FORWARD_TIMEOUT_MS, maxFrameBytes: this.config.maxFrameBytes }, request);
    } catch (error) {
      return { ...failure(error), moves: [], skipped: 0 };
    }
  }

  /** default.replication.factor, or (-1) min(3, live nodes) as the issue asks. */
  private defaultReplicationFactor(): number {
    if (this.config.defaultReplicationFactor > 0) return this.config.defaultReplicationFactor;
    const live = this.node.state.brokers().filter((b) => !b.fenced).length;
    return Math.max(1, Math.min(3, live));
  }

  private validate(name: string, partitions: number, configs: Record<string, string>): void {
    assertValidTopicName(name);
    const state = this.node.state;
    if (state.topic(name) !== undefined) throw new RillError(Errors.TOPIC_ALREADY_EXISTS, `topic '${name}' already exists`, { topic: name });
    const clash = state.topics().find((t) => collisionKey(t.name) === collisionKey(name));
    if (clash !== undefined) throw new RillError(Errors.INVALID_TOPIC_EXCEPTION, `topic '${name}' collides with '${clash.name}' ('.' and '_' are treated alike)`, { topic: name });
    if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new RillError(Errors.INVALID_PARTITIONS, `partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${partitions}`);
    }
    logConfigFromProperties(logShareOf(configs));
  }

  private noController(): { errorCode: number; message: string } {
    return { errorCode: Errors.NOT_CONTROLLER.code, message: 'no active controller is known right now (an election may be under way); retry' };
  }

  /**
   * Null when this node is the controller (the caller goes on); else the controller's answer, or
   * `none()` when no controller is known or it could not be reached.
   */
  private async forward<K extends ApiKey>(apiKey: K, request: RequestHeaders[K], none: () => ResponseHeaders[K]): Promise<ResponseHeaders[K] | null> {
    if (this.node.isController) return null;
    const controller = this.node.controllerId();
    const address = controller === null ? undefined : this.node.brokerAddress(controller);
    if (controller === null || address === undefined) return none();
    try {
      return await this.askNode(controller, address, apiKey, request);
    } catch (error) {
      this.logger.warn({ controller, err: error }, 'forwarding to the active controller failed');
      return none();
    }
  }

  /**
   * One request to node `id`'s binary listener. Across an injected network cut (fault tests) it
   * fails as a lost connection does, and an answer that arrives once a cut began is lost with it.
   */
  private async askNode<K extends ApiKey>(id: number, address: { host: string; port: number }, apiKey: K, request: RequestHeaders[K]): Promise<ResponseHeaders[K]> {
    if (this.node.isCutFrom(id)) throw cutError(this.node.nodeId, id);
    const answer = await peerRequest(address, apiKey, request, { timeoutMs: FORWARD_TIMEOUT_MS, maxFrameBytes: this.config.maxFrameBytes });
    if (this.node.isCutFrom(id)) throw cutError(this.node.nodeId, id);
    return answer;
  }
}
