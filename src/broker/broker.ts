// One Rill node: the network front on the main thread and the partition-owner workers behind it.
// Main thread.
//
// Start: identity and topics from the data dir; partitions placed on the workers; the piscina pool
// of owners started (one thread per --workers); the HTTP listener (so that /healthz and /readyz
// answer while partitions recover); each owner opening (and if needed recovering) its partitions;
// then the binary listener. A replacement worker (after a crash) re-opens the dead
// one's partitions from disk before its slot takes traffic again.
// In a cluster (seeds or controller.voters set) the node starts the same way with nothing
// opened, then joins the cluster (cluster-node.ts: gossip, Raft, controller) once its listeners'
// ports are known, and from then on opens and closes partitions as the metadata assigns them
// (cluster-view.ts); metadata and topic changes are answered cluster-wide (cluster-admin.ts).
// Stop: stop accepting (both listeners), close connections, let each owner close its logs cleanly (flush, trim,
// clean-shutdown checkpoint), stop the threads.

import { createServer, type Server, type Socket } from 'node:net';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extname } from 'node:path';
import { BrokerMetrics, HttpApi, LongPollLimiter, type ClusterRouting, type WorkerFigures } from '../http/index.js';
import { type Logger } from '../logger.js';
import { SlotPool, type SlotRings } from '../threads/slot-pool.js';
import { Admin, CLUSTER_NODE_STRIDE, loadIdentity, type NodeIdentity } from './admin.js';
import { type BrokerConfig } from './config.js';
import { Connection } from './connection.js';
import { OwnerRouter } from './owner-router.js';
import { PartitionPlacement } from './partition-placement.js';
import { ProducerIds } from './producer-ids.js';
import { type PartitionStatus } from './partition-host.js';
import { SegmentMappings } from './segment-mappings.js';
import { TopicRegistry } from './topic-registry.js';
import { OFFSETS_TOPIC } from './groups/coordinator-partition.js';
import { ClusterNode, type NodeIsolation } from '../cluster/index.js';
import { Errors, RillError } from '../errors.js';
import { join } from 'node:path';
import { ClusterAdmin } from './cluster-admin.js';
import { ClusterView } from './cluster-view.js';
import { ClusterReplication } from './cluster-replication.js';
import { registerClusterMetrics } from './cluster-metrics.js';
import type { OwnerWorkerData } from './owner-worker.js';
import type { AlterIsrRequest, AlterIsrResponse } from '../protocol/index.js';
import type { LeadershipTask } from './replication/worker-replication.js';
import type { PartitionLeadership } from './replication/partition-replica.js';
import type { ReplicationSettings } from './replication/replica-manager.js';
import type { BrokerAddress } from './replication/tcp-leader-link.js';

/**
 * __consumer_offsets: 100 MiB segments (Kafka's offsets.topic.segment.bytes), kept forever — a
 * group's last commit may be months old and must not age out — and compacted by key, so cleaning
 * keeps only the last commit per group/topic/partition and the last record of each group.
 */
export const OFFSETS_TOPIC_CONFIG = { 'segment.bytes': 100 * 1024 * 1024, 'retention.ms': -1, 'cleanup.policy': 'compact' } as const;

/**
 * Request rings hold at least two of the largest frames (an entry may take half a ring), rounded
 * up to a power of two: 4 MiB for the default max.frame.bytes of 2,000,000. Ring pages count in RSS once
 * the ring has cycled through them, so they are no larger than that.
 */
export function requestRingBytes(maxFrameBytes: number): number {
  return Math.max(1 << 20, 2 ** Math.ceil(Math.log2(2 * maxFrameBytes + 64 * 1024)));
}

/** Answers are small (offsets, or where fetched bytes are), so 1 MiB holds thousands. */
export const RESPONSE_RING_BYTES = 1 << 20;

/** The owner module: its .ts source under tsx (tests), its compiled .js otherwise. */
function ownerModule(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./owner-worker${extname(here)}`, import.meta.url));
}

export class Broker {
  readonly config: BrokerConfig;
  readonly identity: NodeIdentity;
  private readonly logger: Logger;
  private readonly registry: TopicRegistry;
  private readonly placement: PartitionPlacement;
  private readonly pool: SlotPool;
  private readonly router: OwnerRouter;
  private readonly mappings = new SegmentMappings();
  private readonly admin: Admin;
  private readonly server: Server;
  private readonly http: HttpApi;
  private readonly metrics: BrokerMetrics;
  private readonly sockets = new Set<Socket>();
  /** Set once every partition was opened at start (readiness needs that and every owner up). */
  private opened = false;
  private stopping: Promise<void> | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private cleanerTimer: NodeJS.Timeout | null = null;
  private readonly offsetsPartitions: number;
  private cluster: { node: ClusterNode; view: ClusterView } | null = null;

  private constructor(config: BrokerConfig, logger: Logger, identity: NodeIdentity, registry: TopicRegistry, placement: PartitionPlacement, pool: SlotPool, offsetsPartitions: number) {
    this.config = config;
    this.offsetsPartitions = offsetsPartitions;
    this.logger = logger;
    this.identity = identity;
    this.registry = registry;
    this.placement = placement;
    this.pool = pool;
    this.router = new OwnerRouter(pool.size, logger);
    this.admin = new Admin({ config, identity, registry, placement, pool, producerIds: ProducerIds.open(config.dataDir), logger, port: () => this.port });
    this.server = createServer((socket) => this.accept(socket));
    const longPolls = new LongPollLimiter(config.httpMaxLongPolls);
    this.metrics = new BrokerMetrics({
      rings: () => this.router.figures(),
      workers: () => this.workerFigures(),
      longPollsWaiting: () => longPolls.waiting,
      // The HTTP API is made below; a scrape comes only after it exists.
      groupMembers: () => this.http.members.size,
    });
    this.http = new HttpApi({
      config,
      admin: this.admin,
      registry,
      placement,
      router: this.router,
      mappings: this.mappings,
      metrics: this.metrics,
      longPolls,
      logger,
      brokerAddress: () => `${loopbackHost(config.host)}:${this.port}`,
      cluster: () => this.httpRouting(),
      readiness: () => this.readiness(),
    });
  }

  /**
   * `workerExecArgv`: Node options for the owner threads (default: the process's own).
   * `isolation` (fault tests only): injected network cuts that every path from this node to the
   * others obeys (gossip, Raft, replica fetches, AlterIsr, admin forwarding; node-isolation.ts).
   */
  static async start(config: BrokerConfig, logger: Logger, options: { workerExecArgv?: string[]; isolation?: NodeIsolation } = {}): Promise<Broker> {
    mkdirSync(config.dataDir, { recursive: true });
    const identity = loadIdentity(config.dataDir, config.nodeId);
    const clustered = isClustered(config);
    const clusterSettings = clustered ? clusterSettingsOf(config) : null;
    const registry = TopicRegistry.open(config.dataDir, config.logDefaults, logger);
    const placement = new PartitionPlacement(config.workers);
    let offsetsPartitions = config.offsetsTopicPartitions;
    if (!clustered) {
      if (registry.get(OFFSETS_TOPIC) === undefined) registry.create(OFFSETS_TOPIC, config.offsetsTopicPartitions, OFFSETS_TOPIC_CONFIG, { internal: true });
      else registry.addMissingConfig(OFFSETS_TOPIC, OFFSETS_TOPIC_CONFIG);
      offsetsPartitions = registry.require(OFFSETS_TOPIC).partitions;
      for (const topic of registry.list()) placement.place(topic.name, topic.partitions);
    }
    const pool = await SlotPool.start({
      filename: ownerModule(),
      slots: config.workers,
      ringBytes: requestRingBytes(config.maxFrameBytes),
      responseRingBytes: RESPONSE_RING_BYTES,
      workerData: {
        logLevel: config.logLevel,
        groups: {
          offsetsPartitions,
          minSessionTimeoutMs: config.groupMinSessionTimeoutMs,
          maxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
          initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        },
        ...(options.isolation === undefined ? {} : { isolation: options.isolation.buffer }),
      } satisfies OwnerWorkerData,
      execArgv: options.workerExecArgv,
    });
    const broker = new Broker(config, logger, identity, registry, placement, pool, offsetsPartitions);
    try {
      await broker.http.listen(config.httpPort, config.host);
    } catch (error) {
      await pool.close();
      throw error;
    }
    logger.info({ host: config.host, httpPort: broker.httpPort }, 'http listening');
    if (!clustered) await broker.openAll();
    broker.opened = true;
    for (let slot = 0; slot < pool.size; slot++) broker.router.slotUp(slot, pool.rings(slot)!);
    pool.on('slotDown', (slot) => broker.onSlotDown(slot));
    pool.on('slotUp', (slot, rings) => void broker.onSlotUp(slot, rings));
    pool.on('error', (error) => logger.error({ err: error }, 'worker pool error'));
    await broker.listen();
    if (clusterSettings !== null) {
      try {
        await broker.joinCluster(clusterSettings, options.isolation);
      } catch (error) {
        await broker.stop();
        throw error;
      }
    }
    broker.retentionTimer = setInterval(() => void broker.applyRetention(), config.retentionCheckIntervalMs);
    broker.retentionTimer.unref();
    broker.cleanerTimer = setInterval(() => void broker.startCleaning(), config.cleanerBackoffMs);
    broker.cleanerTimer.unref();
    logger.info(
      {
        nodeId: identity.nodeId,
        clusterId: clustered ? config.clusterId : identity.clusterId,
        host: config.host,
        port: broker.port,
        httpPort: broker.httpPort,
        ...(broker.cluster === null ? {} : { gossipPort: broker.cluster.node.gossipPort, raftPort: broker.cluster.node.raftPort, voters: broker.cluster.node.voters }),
        workers: config.workers,
        dataDir: config.dataDir,
        topics: registry.list().length,
      },
      'broker started',
    );
    return broker;
  }

  /** What the HTTP API needs of the cluster: leader checks, and the leaders' HTTP addresses. */
  private httpRouting(): ClusterRouting | null {
    const cluster = this.cluster;
    if (cluster === null) return null;
    return {
      leaderCheck: (topic, partition) => cluster.view.leaderCheck(topic, partition),
      httpUrlOf: (id) => {
        const b = cluster.node.state.brokers().find((r) => r.id === id);
        return b === undefined || !(b.ports.http > 0) ? undefined : `http://${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.ports.http}`;
      },
    };
  }

  /** Joins the cluster: gossip, Raft, and the view that opens what the metadata assigns here. */
  private async joinCluster(settings: ClusterSettings, isolation: NodeIsolation | undefined): Promise<void> {
    const { config, logger } = this;
    const node = await ClusterNode.start({
      nodeId: this.identity.nodeId,
      clusterId: config.clusterId,
      host: config.host,
      gossipPort: config.clusterPort,
      raftPort: settings.raftPort,
      seeds: settings.seeds,
      voters: settings.voters,
      rack: config.clusterRack === '' ? null : config.clusterRack,
      raftDir: join(config.dataDir, 'meta', 'raft'),
      ports: { broker: this.port, http: this.httpPort },
      gossip: { periodMs: config.gossipPeriodMs, ackTimeoutMs: config.gossipAckTimeoutMs, suspicionMult: config.gossipSuspicionMult },
      preferredElectionIntervalMs: config.leaderImbalanceCheckIntervalMs,
      maxConcurrentMoves: config.rebalanceMaxConcurrentMoves,
      ...(isolation === undefined ? {} : { isolation }),
      bootstrapTopics: [{ name: OFFSETS_TOPIC, partitions: config.offsetsTopicPartitions, replicationFactor: config.offsetsTopicReplicationFactor, configs: Object.fromEntries(Object.entries(OFFSETS_TOPIC_CONFIG).map(([k, v]) => [k, String(v)])) }],
      logger,
    });
    const replication = new ClusterReplication({
      node,
      apply: (partitions, brokers, controller, replicationSettings) => this.applyLeadership(partitions, brokers, controller, replicationSettings),
      settings: { lagTimeMaxMs: config.replicaLagTimeMaxMs, fetcher: { maxWaitMs: config.replicaFetchWaitMaxMs } },
      logger,
    });
    // Every node answers AlterIsr; only the active controller commits it (the others: NOT_CONTROLLER).
    this.setAlterIsrHandler((request) => replication.alterIsr(request));
    const view = new ClusterView({ node, registry: this.registry, placement: this.placement, pool: this.pool, logger, replication });
    this.cluster = { node, view };
    this.admin.joinCluster(new ClusterAdmin(view, config, logger));
    registerClusterMetrics(this.metrics.registry, node);
    void view.sync();
  }

  /** Ends a worker thread as a crash would: for fault tests. Its slot recovers on a replacement. */
  async crashWorker(slot: number): Promise<void> {
    // The thread may be gone before its answer arrives; either way it is exiting.
    await this.pool.run(slot, { op: 'exit', code: 1 }).catch(() => {});
  }

  /** The bound port of the binary listener. */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : this.config.port;
  }

  /** The bound port of the HTTP listener. */
  get httpPort(): number {
    return this.http.port;
  }

  /** Ready: every partition opened (and recovered) at start, and every owner up now. */
  private readiness(): { ready: boolean; reason?: string } {
    if (!this.opened) return { ready: false, reason: 'partitions are still being opened and recovered' };
    const down = Array.from({ length: this.pool.size }, (_, slot) => slot).filter((slot) => !this.router.isUp(slot));
    if (down.length > 0) return { ready: false, reason: `worker ${down.join(', ')} is recovering its partitions after a restart` };
    return { ready: true };
  }

  /** What /metrics shows of each owner: one stats task per worker, per scrape. */
  private async workerFigures(): Promise<WorkerFigures[]> {
    const results = await Promise.allSettled(Array.from({ length: this.pool.size }, (_, slot) => this.pool.run<PartitionStatus[]>(slot, { op: 'stats' })));
    const figures: WorkerFigures[] = [];
    results.forEach((result, worker) => {
      if (result.status === 'rejected') {
        this.logger.warn({ worker, err: result.reason }, 'a worker did not answer its stats for /metrics');
        return;
      }
      const sum = (pick: (s: PartitionStatus) => number) => result.value.reduce((n, s) => n + pick(s), 0);
      figures.push({ worker, partitions: result.value.length, segments: sum((s) => s.segments), logBytes: sum((s) => s.size), flushes: sum((s) => s.flushes), flushSeconds: sum((s) => s.flushSeconds), underReplicated: result.value.filter((s) => s.replication?.underReplicated === true).length });
    });
    return figures;
  }

  private async openAll(): Promise<void> {
    await Promise.all(this.registry.list().map((topic) => this.admin.openPartitions(topic)));
  }

  /** Asks every worker to delete the segments its partitions no longer retain. */
  async applyRetention(): Promise<void> {
    const results = await Promise.allSettled(Array.from({ length: this.pool.size }, (_, slot) => this.pool.run<unknown[]>(slot, { op: 'retention' })));
    for (const result of results) {
      if (result.status === 'rejected') this.logger.error({ err: result.reason }, 'retention check failed');
      else if (result.value.length > 0) this.logger.info({ deleted: result.value }, 'retention deleted segments');
    }
  }

  /** Asks every worker to start a log-cleaner pass on its compacted partitions that need one. */
  async startCleaning(): Promise<void> {
    const results = await Promise.allSettled(Array.from({ length: this.pool.size }, (_, slot) => this.pool.run<unknown>(slot, { op: 'clean' })));
    for (const result of results) if (result.status === 'rejected') this.logger.error({ err: result.reason }, 'log cleaner check failed');
  }

  private onSlotDown(slot: number): void {
    this.logger.error({ slot, partitions: this.placement.partitionsOf(slot).length }, 'worker died; its partitions are unavailable until a replacement has recovered them');
    this.router.slotDown(slot);
  }

  /** A replacement worker: recover the slot's partitions from disk, then let traffic through. */
  private async onSlotUp(slot: number, rings: SlotRings): Promise<void> {
    const refs = this.placement.partitionsOf(slot);
    try {
      // In a cluster every partition here is a replica: the new thread refuses produce for it
      // until the view has told it its role again (the old thread's roles died with it).
      const replicated = this.cluster !== null;
      const partitions = refs.map(({ topic, partition }) => {
        const metadata = this.registry.require(topic);
        return { topic, partition, dir: this.registry.partitionDir(topic, partition), config: this.registry.logConfig(metadata), replicated };
      });
      await this.pool.run(slot, { op: 'open', partitions });
      this.router.slotUp(slot, rings);
      this.cluster?.view.reopened(refs);
      this.logger.info({ slot, partitions: refs.length }, 'replacement worker recovered its partitions');
    } catch (error) {
      this.logger.error({ slot, err: error }, 'replacement worker could not open its partitions');
    }
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    if (this.stopping !== null) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    new Connection(socket, {
      admin: this.admin,
      router: this.router,
      placement: this.placement,
      mappings: this.mappings,
      maxFrameBytes: this.config.maxFrameBytes,
      offsetsPartitions: this.offsetsPartitions,
      ...(this.cluster === null ? {} : { cluster: this.cluster.view }),
      logger: this.logger,
      // Read at each request: the handler is set when the cluster is joined, after listening began.
      alterIsr: (request) =>
        this.alterIsr !== null
          ? this.alterIsr(request)
          : Promise.resolve({ topic: request.topic, partition: request.partition, errorCode: Errors.NOT_CONTROLLER.code, message: 'this node is not in a cluster', isr: [] }),
    });
  }

  // --- replication glue (issue 8): what the cluster wiring calls --------------------------------

  /** Set on the active controller's node: how AlterIsr (api 32) from partition leaders is applied. */
  private alterIsr: ((request: AlterIsrRequest) => Promise<AlterIsrResponse>) | null = null;

  setAlterIsrHandler(handler: ((request: AlterIsrRequest) => Promise<AlterIsrResponse>) | null): void {
    this.alterIsr = handler;
  }

  /**
   * Metadata says how these partitions (hosted on this node, already open) are led: each owner
   * worker takes its share as a LeadershipTask (leader, follower, or stop). `brokers` are the
   * binary-protocol addresses followers connect to; `controller` where ISR changes go. Returns
   * each partition's outcome, in order.
   */
  async applyLeadership(partitions: PartitionLeadership[], brokers: Record<number, BrokerAddress>, controller: BrokerAddress | undefined, settings: Omit<ReplicationSettings, 'brokerId'> = {}): Promise<string[]> {
    const bySlot = new Map<number, { index: number; m: PartitionLeadership }[]>();
    partitions.forEach((m, index) => {
      const slot = this.placement.owner(m.topic, m.partition);
      if (slot === undefined) return;
      const list = bySlot.get(slot) ?? [];
      list.push({ index, m });
      bySlot.set(slot, list);
    });
    const outcomes = partitions.map(() => 'unknown-partition');
    await Promise.all(
      [...bySlot].map(async ([slot, list]) => {
        const task: LeadershipTask = { op: 'leadership', settings: { ...settings, brokerId: this.identity.nodeId }, brokers, controller, partitions: list.map((e) => e.m) };
        const answers = await this.pool.run<string[]>(slot, task);
        list.forEach((e, i) => (outcomes[e.index] = answers[i]));
      }),
    );
    return outcomes;
  }

  /** Stops cleanly: no new connections, logs flushed and marked clean, threads stopped. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.logger.info('broker stopping');
    if (this.retentionTimer !== null) clearInterval(this.retentionTimer);
    await this.http.closeMembers();
    if (this.cleanerTimer !== null) clearInterval(this.cleanerTimer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const httpClosed = this.http.close();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([closed, httpClosed]);
    if (this.cluster !== null) {
      await this.cluster.view.stop();
      await this.cluster.node.stop();
    }
    this.router.close();
    const results = await Promise.allSettled(Array.from({ length: this.pool.size }, (_, slot) => this.pool.run(slot, { op: 'shutdown' })));
    for (const result of results) if (result.status === 'rejected') this.logger.error({ err: result.reason }, 'a worker failed to close its partitions');
    await this.pool.close();
    this.mappings.closeAll();
    this.logger.info('broker stopped');
  }
}

/** An address this process reaches its own listener at: a wildcard bind is reached on loopback. */
function loopbackHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

interface ClusterSettings {
  seeds: string[];
  voters: number[];
  raftPort: number;
}

/** A broker joins a cluster when it is given seeds or controller voters. */
export function isClustered(config: BrokerConfig): boolean {
  return config.clusterSeeds !== '' || config.controllerVoters !== '';
}

/** The cluster settings checked and parsed; INVALID_CONFIG names the bad one. */
export function clusterSettingsOf(config: BrokerConfig): ClusterSettings {
  const seeds = config.clusterSeeds.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const seed of seeds) {
    const port = Number(seed.slice(seed.lastIndexOf(':') + 1));
    if (!seed.includes(':') || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RillError(Errors.INVALID_CONFIG, `seeds: '${seed}' is not host:port`);
    }
  }
  if (config.nodeId >= CLUSTER_NODE_STRIDE) throw new RillError(Errors.INVALID_CONFIG, `node.id must be below ${CLUSTER_NODE_STRIDE} in a cluster (producer ids are striped by node), got ${config.nodeId}`);
  const voterText = config.controllerVoters === '' ? '1,2,3' : config.controllerVoters;
  const voters = voterText.split(',').map((s) => s.trim());
  if (voters.some((v) => !/^\d+$/.test(v)) || new Set(voters).size !== voters.length) {
    throw new RillError(Errors.INVALID_CONFIG, `controller.voters must be distinct node ids separated by commas, got '${config.controllerVoters}'`);
  }
  return { seeds, voters: voters.map(Number), raftPort: config.controllerPort === -1 ? config.clusterPort : config.controllerPort };
}
