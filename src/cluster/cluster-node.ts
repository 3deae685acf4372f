// One node's membership of the cluster: gossip (SWIM over UDP), the Raft metadata log (a voter on
// controller voters, a learner everywhere else) and, on the Raft leader, the active controller's
// duties. Main thread only.
//
// What flows where:
// - Gossip carries each member's addresses (ports.broker, ports.http, ports.raft), rack and load.
//   Raft peers are learned from it (so ephemeral ports work), and so is the learner set: the
//   leader replicates the metadata log to every live non-voter, so every node applies it.
// - Registration travels by gossip too: the active controller proposes register-broker for every
//   live member that is not registered (or whose addresses changed), fence-broker for members
//   gossip declares DEAD or LEFT and unfence-broker when they come back (controller.ts). It does
//   so on every membership event, after winning an election, after each applied entry, and once a
//   second as a backstop, so no verdict is lost to a leader change.
// - Bootstrap topics (the broker's __consumer_offsets) are created by the controller once as many
//   brokers are registered as there are voters, so their partitions spread over the first nodes.

import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { Errors, RillError } from '../errors.js';
import { type Logger } from '../logger.js';
import { systemClock } from './clock.js';
import type { DropCounters } from './envelope.js';
import { Swim, type SwimStats } from './gossip/swim.js';
import { UdpTransport } from './gossip/udp-transport.js';
import type { Member, MemberEvent } from './gossip/member-list.js';
import { MemberState } from './gossip/messages.js';
import { MetadataController } from './metadata/controller.js';
import { isolatableGossipTransport, isolatableRaftTransport, type NodeIsolation } from './node-isolation.js';
import { MetadataState, type MetadataCommand, type MetadataResult } from './metadata/metadata-state.js';
import { systemRandom } from './random.js';
import { RaftServer, type RaftStatus } from './raft/raft-server.js';
import { FileRaftStorage } from './raft/raft-storage.js';
import { TcpRaftTransport } from './raft/tcp-transport.js';
import { DEFAULT_MAX_CONCURRENT_MOVES, reassignmentSteps } from './metadata/reassignment-steps.js';
import { internalTopicGrowth } from './metadata/internal-topic-growth.js';

export interface BootstrapTopic {
  name: string;
  partitions: number;
  /** Wanted replicas; created with min(this, live brokers) so a small dev cluster still gets it. */
  replicationFactor: number;
  configs: Record<string, string>;
}

export interface ClusterNodeOptions {
  nodeId: number;
  clusterId: string;
  host: string;
  /** UDP port of gossip (0 picks one). */
  gossipPort: number;
  /** TCP port of Raft (0 picks one). */
  raftPort: number;
  seeds: readonly string[];
  voters: readonly number[];
  rack: string | null;
  /** Where the Raft log, term and vote live (fsynced). */
  raftDir: string;
  /** The broker's other listeners, announced by gossip. */
  ports: { broker: number; http: number };
  gossip: { periodMs: number; ackTimeoutMs: number; suspicionMult: number };
  bootstrapTopics: readonly BootstrapTopic[];
  /**
   * How often the active controller moves leadership back to preferred replicas that are live and
   * in sync (Kafka's leader.imbalance.check.interval.seconds, 300 s).
   */
  preferredElectionIntervalMs?: number;
  /** Partitions a rebalance moves at once (rebalance.max.concurrent.moves). */
  maxConcurrentMoves?: number;
  /** Fault tests only: network cuts that this node's gossip and Raft traffic obey (none by default). */
  isolation?: NodeIsolation;
  logger: Logger;
}

export interface ClusterStatus {
  nodeId: number;
  clusterId: string;
  controller: { leaderId: number | null; term: number; role: string; commitIndex: number; voters: number[]; learners: number[] };
  members: { id: number; state: string; address: string; host: string; ports: Record<string, number>; rack: string | null; incarnation: number; load: Record<string, number> }[];
  brokers: { id: number; host: string; ports: Record<string, number>; rack: string | null; fenced: boolean }[];
  metadataVersion: number;
  gossip: SwimStats & { drops: Record<string, number> };
  raftDrops: Record<string, number>;
}

const STATE_NAMES = ['alive', 'suspect', 'dead', 'left'] as const;
/** The controller's backstop: fencing and registration are re-checked this often. */
const RECONCILE_MS = 1000;
export const DEFAULT_PREFERRED_ELECTION_INTERVAL_MS = 300_000;

export class ClusterNode {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly state: MetadataState;
  readonly voters: readonly number[];
  readonly gossipPort: number;
  readonly raftPort: number;
  private readonly swim: Swim;
  private readonly raft: RaftServer<MetadataResult>;
  private readonly raftTransport: TcpRaftTransport;
  private readonly controller: MetadataController;
  private readonly options: ClusterNodeOptions;
  private readonly logger: Logger;
  /** Commands proposed and not yet answered, by key: one of each at a time. */
  private readonly pending = new Set<string>();
  private reconcileTimer: NodeJS.Timeout | null = null;
  private reconcileQueued = false;
  private stopped = false;
  private lastPreferredCheck = Date.now();
  private readonly controllerListeners: (() => void)[] = [];
  private knownController: number | null = null;

  private constructor(options: ClusterNodeOptions, gossip: UdpTransport, raftTransport: TcpRaftTransport) {
    this.options = options;
    this.logger = options.logger;
    this.nodeId = options.nodeId;
    this.clusterId = options.clusterId;
    this.voters = [...options.voters].sort((a, b) => a - b);
    this.gossipPort = Number(gossip.address.slice(gossip.address.lastIndexOf(':') + 1));
    this.raftPort = raftTransport.port;
    this.raftTransport = raftTransport;
    const isolation = options.isolation;
    // The state machine logs unclean leader elections (which may lose acknowledged records).
    this.state = new MetadataState(options.logger);
    mkdirSync(options.raftDir, { recursive: true });
    this.raft = new RaftServer<MetadataResult>({
      id: options.nodeId,
      voters: this.voters,
      clusterId: options.clusterId,
      storage: new FileRaftStorage(options.raftDir),
      transport: isolation === undefined ? raftTransport : isolatableRaftTransport(raftTransport, isolation, options.nodeId),
      stateMachine: this.state,
      clock: systemClock(),
      random: systemRandom(),
      onStateChange: (s) => this.onRaftState(s),
    });
    this.controller = new MetadataController(this.raft, this.state);
    this.swim = new Swim({
      id: options.nodeId,
      clusterId: options.clusterId,
      self: { host: options.host, ports: { ...options.ports, raft: raftTransport.port }, rack: options.rack, load: {} },
      seeds: options.seeds,
      transport: isolation === undefined ? gossip : isolatableGossipTransport(gossip, isolation, options.nodeId),
      clock: systemClock(),
      random: systemRandom(),
      periodMs: options.gossip.periodMs,
      ackTimeoutMs: options.gossip.ackTimeoutMs,
      suspicionMult: options.gossip.suspicionMult,
      onEvent: (event) => this.onMemberEvent(event),
    });
    this.state.onChange(() => this.queueReconcile());
  }

  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const gossip = await UdpTransport.bind(options.host, options.gossipPort);
    let raftTransport: TcpRaftTransport;
    try {
      raftTransport = await TcpRaftTransport.listen(options.host, options.raftPort, new Map());
    } catch (error) {
      gossip.close();
      throw error;
    }
    const node = new ClusterNode(options, gossip, raftTransport);
    node.swim.start();
    node.reconcileTimer = setInterval(() => node.reconcile(), RECONCILE_MS);
    node.reconcileTimer.unref();
    return node;
  }

  get isController(): boolean {
    return this.raft.isLeader;
  }

  /** The active controller as far as this node knows. */
  controllerId(): number | null {
    return this.raft.status().leaderId;
  }

  /**
   * Whether this node's applied metadata is as recent as the cluster's, as far as it can tell: a
   * controller is known, and everything committed that this node holds is applied and nothing
   * more is waiting in its log. A node that restarted replays the Raft log from its start and
   * is not caught up until the controller has brought it up to date.
   */
  metadataCaughtUp(): boolean {
    const s = this.raft.status();
    if (s.leaderId === null) return false;
    // The controller's own log is the truth: its proposals not yet committed do not make it behind.
    if (s.leaderId === this.nodeId) return this.raft.lastApplied >= s.commitIndex;
    return this.raft.lastApplied >= s.commitIndex && s.commitIndex >= s.lastIndex;
  }

  /** Calls `listener` whenever the active controller (as this node knows it) changes. */
  onControllerChange(listener: () => void): void {
    this.controllerListeners.push(listener);
  }

  /** Whether an injected network cut (fault tests) separates this node from node `id` now. */
  isCutFrom(id: number): boolean {
    return this.options.isolation?.cuts(this.nodeId, id) ?? false;
  }

  /** The leader of a partition per the applied metadata; NO_LEADER when none; undefined when unknown. */
  leaderOf(topic: string, partition: number): number | undefined {
    return this.state.topic(topic)?.partitions[partition]?.leader;
  }

  /** Where a broker's binary listener is, per the metadata (registered from gossip). */
  brokerAddress(id: number): { host: string; port: number } | undefined {
    const b = this.state.broker(id);
    return b === undefined || b.ports.broker === undefined ? undefined : { host: b.host, port: b.ports.broker };
  }

  /** Commits a metadata command through this node, which must be the active controller. */
  submit(command: MetadataCommand): Promise<MetadataResult> {
    if (!this.raft.isLeader) return Promise.reject(new RillError(Errors.NOT_CONTROLLER, `node ${this.nodeId} is not the active controller`, { leaderId: this.controllerId() }));
    return this.controller.submit(command);
  }

  /** Load figures gossiped with our membership (partitions led, ...). */
  updateLoad(load: Record<string, number>): void {
    const current = this.swim.member(this.nodeId)?.info.load ?? {};
    const same = Object.keys(load).length === Object.keys(current).length && Object.entries(load).every(([k, v]) => current[k] === v);
    if (!same) this.swim.updateSelf({ load });
  }

  aliveMembers(): Member[] {
    return this.swim.aliveMembers();
  }

  status(): ClusterStatus {
    const raft = this.raft.status();
    return {
      nodeId: this.nodeId,
      clusterId: this.clusterId,
      controller: { leaderId: raft.leaderId, term: raft.term, role: raft.role, commitIndex: raft.commitIndex, voters: [...this.voters], learners: this.learners() },
      members: this.swim.members().map((m) => ({
        id: m.id,
        state: STATE_NAMES[m.state],
        address: m.info.address,
        host: m.info.host,
        ports: { ...m.info.ports },
        rack: m.info.rack,
        incarnation: m.incarnation,
        load: { ...m.info.load },
      })),
      brokers: this.state.brokers().map((b) => ({ id: b.id, host: b.host, ports: { ...b.ports }, rack: b.rack, fenced: b.fenced })),
      metadataVersion: this.state.version,
      gossip: { ...this.swim.stats, drops: dropFigures(this.swim.drops) },
      raftDrops: { ...dropFigures(this.raft.drops), unsent: this.raftTransport.droppedFrames },
    };
  }

  /** Leaves gossip gracefully (others drop us without a suspicion period), then stops Raft. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.reconcileTimer !== null) clearInterval(this.reconcileTimer);
    await this.swim.leave(1);
    this.raft.stop();
  }

  // --- events ----------------------------------------------------------------------------------------

  private learners(): number[] {
    return this.swim
      .members()
      .filter((m) => m.state === MemberState.ALIVE && !this.voters.includes(m.id))
      .map((m) => m.id);
  }

  private onMemberEvent(event: MemberEvent): void {
    const m = event.member;
    if (m.info.ports.raft !== undefined && m.id !== this.nodeId) this.raftTransport.setPeer(m.id, { host: m.info.host, port: m.info.ports.raft });
    this.raft.setLearners(this.learners());
    if (event.type === 'dead' || event.type === 'left' || event.type === 'suspect' || event.type === 'joined') {
      this.logger.info({ member: m.id, event: event.type, incarnation: m.incarnation }, 'cluster membership changed');
    }
    this.controller.onMemberEvent(event);
    this.queueReconcile();
  }

  private onRaftState(s: RaftStatus): void {
    this.logger.info({ role: s.role, term: s.term, leaderId: s.leaderId }, 'controller state changed');
    if (s.role === 'leader') {
      // A new controller first lets every partition settle before moving leadership around.
      this.lastPreferredCheck = Date.now();
      this.queueReconcile();
    }
    if (s.leaderId !== this.knownController) {
      this.knownController = s.leaderId;
      for (const listener of this.controllerListeners) listener();
    }
  }

  private queueReconcile(): void {
    if (this.reconcileQueued || this.stopped) return;
    this.reconcileQueued = true;
    setImmediate(() => {
      this.reconcileQueued = false;
      this.reconcile();
    });
  }

  /** The active controller's duties; a no-op elsewhere. */
  private reconcile(): void {
    if (this.stopped || !this.raft.isLeader) return;
    const members = this.swim.members();
    for (const m of members) {
      if (m.state !== MemberState.ALIVE || m.info.ports.broker === undefined) continue;
      const held = this.state.broker(m.id);
      const ports = { broker: m.info.ports.broker, http: m.info.ports.http ?? 0, raft: m.info.ports.raft ?? 0 };
      const same = held !== undefined && held.host === m.info.host && held.rack === m.info.rack && Object.entries(ports).every(([k, v]) => held.ports[k] === v);
      if (!same) this.propose(`register/${m.id}`, { type: 'register-broker', id: m.id, host: m.info.host, ports, rack: m.info.rack });
    }
    this.controller.reconcile(members);
    const live = this.state.brokers().filter((b) => !b.fenced).length;
    if (live >= Math.min(this.voters.length, members.length)) {
      // Replicated like any topic (__consumer_offsets: group offsets must outlive a node), but with
      // at most the live brokers: Kafka waits for offsets.topic.replication.factor brokers, which
      // would leave a 1- or 2-node dev cluster without groups.
      for (const t of this.options.bootstrapTopics) {
        if (this.state.topic(t.name) === undefined) this.propose(`create/${t.name}`, { type: 'create-topic', id: randomUUID(), name: t.name, partitions: t.partitions, replicationFactor: Math.min(t.replicationFactor, live), configs: t.configs });
        // Created with fewer copies than wanted (too few nodes then): add them now there are more.
        const growth = internalTopicGrowth(this.state, t.name, t.replicationFactor);
        if (growth !== null) this.propose(`grow/${t.name}`, { type: 'queue-reassignments', moves: growth });
      }
    }
    const interval = this.options.preferredElectionIntervalMs ?? DEFAULT_PREFERRED_ELECTION_INTERVAL_MS;
    if (Date.now() - this.lastPreferredCheck >= interval) {
      this.lastPreferredCheck = Date.now();
      for (const { topic, partition } of this.state.preferredElectionsDue()) {
        this.propose(`preferred/${topic}/${partition}`, { type: 'elect-leader', topic, partition, preferred: true });
      }
    }
    for (const step of reassignmentSteps(this.state, this.options.maxConcurrentMoves ?? DEFAULT_MAX_CONCURRENT_MOVES)) {
      this.propose(`${step.type}/${step.topic}/${step.partition}`, step);
    }
  }

  private propose(key: string, command: MetadataCommand): void {
    if (this.pending.has(key)) return;
    this.pending.add(key);
    this.controller
      .submit(command)
      .then((result) => {
        if (!result.ok) this.logger.warn({ command: command.type, code: result.code, message: result.message }, 'controller command rejected');
      })
      .catch(() => {}) // lost leadership: the next leader reconciles
      .finally(() => this.pending.delete(key));
  }
}

function dropFigures(d: DropCounters): Record<string, number> {
  return { malformed: d.malformed, foreignCluster: d.foreignCluster, unsupportedVersion: d.unsupportedVersion };
}

