// What the client knows of the cluster: its brokers, each topic's partitions and their leaders,
// and one connection per broker. Application thread; shared by the producers, consumers and
// admins of one Rill.
//
// Metadata comes from any broker (Kafka's bootstrap: the configured list is only where to ask
// first). It is refreshed for the topics someone uses ("interest"): on demand, when a request fails
// with NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE or a lost
// connection (requestRefresh: coalesced, at most one in flight and one queued, and spaced by the
// retry policy's first delay so that a storm of errors makes one request, not thousands), and every
// metadataMaxAgeMs. Readers look leaders up synchronously (leaderOf, readyConnection) so the hot
// paths never await; they hear of new metadata through onChange.
//
// Connections are opened on first use and dropped when they close; callers retry with their own
// backoff, so a broker that is down costs one connect attempt per retry, never a tight loop.
// Bootstrap tries the seed brokers in random order and retries the whole list with exponential
// backoff and jitter; when every try failed it throws a RillConnectionError naming the brokers.

import { Errors, RillError, errorSpecByCode } from '../errors.js';
import { ApiKeys, type MetadataResponse } from '../protocol/index.js';
import { Connection, formatAddress, parseAddress, type ConnectionOptions } from './connection.js';
import { RillConnectionError, isRetriable } from './errors.js';
import { type ClientLogger } from './logger.js';
import { type RetryPolicy } from './retry.js';

export interface ClusterOptions {
  brokers: readonly string[];
  clientId: string;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  metadataMaxAgeMs: number;
  maxFrameBytes: number;
  retry: RetryPolicy;
  logger: ClientLogger;
}

export interface PartitionInfo {
  readonly partition: number;
  /** Node id of the leader; -1 when there is none. */
  readonly leader: number;
  readonly errorCode: number;
}

export interface TopicInfo {
  readonly name: string;
  /** NONE, or e.g. UNKNOWN_TOPIC_OR_PARTITION. */
  readonly errorCode: number;
  readonly internal: boolean;
  /** The largest record set its brokers take in a Produce (Metadata's maxBatchBytes), if they say. */
  readonly maxBatchBytes?: number;
  /** Indexed by partition number. */
  readonly partitions: readonly PartitionInfo[];
}

export class Cluster {
  private readonly options: ClusterOptions;
  private readonly seeds: { host: string; port: number }[];
  private readonly brokers = new Map<number, { host: string; port: number }>();
  private readonly topics = new Map<string, TopicInfo>();
  private readonly interest = new Set<string>();
  private readonly connections = new Map<number, Connection>();
  private readonly connecting = new Map<number, Promise<Connection>>();
  private readonly changeListeners = new Set<() => void>();
  private refreshing: Promise<void> | null = null;
  private refreshQueued = false;
  private refreshTimer: NodeJS.Timeout | null = null;
  private lastRefreshAt = 0;
  private maxAgeTimer: NodeJS.Timeout | null = null;
  private users = 0;
  private bootstrapping: Promise<void> | null = null;
  /** Bumped whenever metadata changes. */
  version = 0;

  constructor(options: ClusterOptions) {
    if (options.brokers.length === 0) throw new RillError(Errors.INVALID_CONFIG, 'brokers must list at least one host:port');
    this.options = options;
    this.seeds = options.brokers.map(parseAddress);
  }

  get logger(): ClientLogger {
    return this.options.logger;
  }

  get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs;
  }

  get retry(): RetryPolicy {
    return this.options.retry;
  }

  /** Connected and holding metadata. */
  get isConnected(): boolean {
    return this.users > 0 && this.connections.size > 0;
  }

  /**
   * Takes a user's share: the first one bootstraps (connects to a seed broker and reads
   * metadata). Rejects, and takes no share, if no broker could be reached within the retries.
   */
  async acquire(): Promise<void> {
    this.users++;
    try {
      if (this.connections.size === 0) {
        this.bootstrapping ??= this.bootstrap().finally(() => (this.bootstrapping = null));
        await this.bootstrapping;
      }
    } catch (error) {
      this.release();
      throw error;
    }
    if (this.maxAgeTimer === null) {
      this.maxAgeTimer = setInterval(() => {
        if (this.interest.size > 0) this.requestRefresh();
      }, this.options.metadataMaxAgeMs);
      this.maxAgeTimer.unref();
    }
  }

  /** Gives a share back; the last one closes every connection. */
  release(): void {
    if (this.users === 0) return;
    this.users--;
    if (this.users === 0) this.closeAll();
  }

  /** Closes everything regardless of users (Rill.close()). */
  close(): void {
    this.users = 0;
    this.closeAll();
  }

  private closeAll(): void {
    if (this.maxAgeTimer !== null) clearInterval(this.maxAgeTimer);
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.maxAgeTimer = null;
    this.refreshTimer = null;
    this.refreshQueued = false;
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }

  // ---- metadata --------------------------------------------------------------------------------

  /** Calls `listener` after every metadata change; returns the function that removes it. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  topic(name: string): TopicInfo | undefined {
    return this.topics.get(name);
  }

  /** The leader's node id, or -1 when unknown. */
  leaderOf(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leader ?? -1;
  }

  /**
   * Why leaderOf() answers -1, as the error a request for the partition fails with: the topic or
   * partition is gone (or was never there) in the last metadata, or the partition has no leader.
   */
  noLeaderError(topic: string, partition: number): RillError {
    const info = this.topics.get(topic);
    const details = { topic, partition };
    if (info !== undefined && (info.errorCode === Errors.UNKNOWN_TOPIC_OR_PARTITION.code || (info.errorCode === 0 && info.partitions[partition] === undefined))) {
      return new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition} does not exist`, details);
    }
    const code = info?.partitions[partition]?.errorCode || info?.errorCode || Errors.LEADER_NOT_AVAILABLE.code;
    return new RillError(errorSpecByCode(code), `no leader known for ${topic}-${partition}`, details);
  }

  /** Keeps `topics` in the metadata refreshed from now on. */
  addInterest(topics: Iterable<string>): void {
    for (const topic of topics) this.interest.add(topic);
  }

  /**
   * Makes sure the metadata holds `topics` with leaders for their partitions (at least one: see isUsable), refreshing with
   * retries while they are unknown or leaderless. Throws the topic's error (e.g.
   * UNKNOWN_TOPIC_OR_PARTITION) once the retries are used up, or at once for a non-retriable one.
   */
  async ensureTopics(topics: readonly string[]): Promise<void> {
    this.addInterest(topics);
    const missing = () => topics.filter((t) => !isUsable(this.topics.get(t)));
    if (missing().length === 0) return;
    await this.options.retry.run(async () => {
      await this.refreshMetadata();
      for (const name of missing()) {
        const info = this.topics.get(name);
        const code = info === undefined ? Errors.UNKNOWN_TOPIC_OR_PARTITION.code : info.errorCode !== 0 ? info.errorCode : Errors.LEADER_NOT_AVAILABLE.code;
        const spec = code === Errors.UNKNOWN_TOPIC_OR_PARTITION.code ? Errors.UNKNOWN_TOPIC_OR_PARTITION : undefined;
        throw spec === undefined
          ? new RillError(errorSpecByCode(code), `topic ${name}: ${errorSpecByCode(code).message}`, { topic: name })
          : new RillError(spec, `topic ${name} does not exist`, { topic: name });
      }
    });
  }

  /** Refreshes the metadata of the topics of interest now (joins a refresh already in flight). */
  refreshMetadata(): Promise<void> {
    if (this.refreshing !== null) {
      this.refreshQueued = true;
      return this.refreshing.then(() => this.refreshing ?? undefined);
    }
    this.lastRefreshAt = Date.now();
    this.refreshing = this.fetchMetadata()
      .finally(() => {
        this.refreshing = null;
        if (this.refreshQueued) {
          this.refreshQueued = false;
          this.requestRefresh();
        }
      });
    return this.refreshing;
  }

  /**
   * Asks for a refresh soon, without waiting: coalesced with one in flight, and at most one per
   * retry.initialRetryTimeMs. Failures are logged; listeners hear of the outcome either way.
   */
  requestRefresh(): void {
    if (this.users === 0) return;
    if (this.refreshing !== null) {
      this.refreshQueued = true;
      return;
    }
    if (this.refreshTimer !== null) return;
    const wait = Math.max(0, this.lastRefreshAt + this.options.retry.initialRetryTimeMs - Date.now());
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      if (this.users === 0) return;
      this.refreshMetadata().catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'metadata refresh failed');
        this.notify();
      });
    }, wait);
  }

  private async fetchMetadata(): Promise<void> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKeys.Metadata, { topics: [...this.interest] });
    this.apply(response.header);
  }

  private apply(metadata: MetadataResponse): void {
    this.brokers.clear();
    for (const b of metadata.brokers) this.brokers.set(b.nodeId, { host: b.host, port: b.port });
    for (const t of metadata.topics) {
      const partitions: PartitionInfo[] = [];
      for (const p of t.partitions) partitions[p.partition] = { partition: p.partition, leader: p.errorCode === 0 ? p.leader : -1, errorCode: p.errorCode };
      this.topics.set(t.name, { name: t.name, errorCode: t.errorCode, internal: t.internal, ...(t.maxBatchBytes === undefined ? {} : { maxBatchBytes: t.maxBatchBytes }), partitions });
    }
    // Connections to brokers that left the cluster are of no use any more.
    for (const [nodeId, connection] of this.connections) {
      if (!this.brokers.has(nodeId)) {
        this.connections.delete(nodeId);
        connection.close();
      }
    }
    this.notify();
  }

  /**
   * A broker answered NOT_LEADER_OR_FOLLOWER naming the partition's leader: follow it at once when
   * its address is known (the refresh that the error also asks for confirms it), so retries go to
   * the right node without waiting for the metadata round trip.
   */
  leaderMoved(topic: string, partition: number, leaderId: number): void {
    const info = this.topics.get(topic);
    const held = info?.partitions[partition];
    if (info === undefined || held === undefined || held.leader === leaderId) return;
    if (leaderId >= 0 && !this.brokers.has(leaderId)) return;
    const partitions = info.partitions.slice();
    partitions[partition] = { ...held, leader: leaderId, errorCode: leaderId < 0 ? Errors.LEADER_NOT_AVAILABLE.code : 0 };
    this.topics.set(topic, { ...info, partitions });
    this.notify();
  }

  private notify(): void {
    this.version++;
    for (const listener of this.changeListeners) listener();
  }

  // ---- connections -----------------------------------------------------------------------------

  /** The open connection to a node, if there is one: the hot paths' synchronous lookup. */
  readyConnection(nodeId: number): Connection | undefined {
    const connection = this.connections.get(nodeId);
    return connection !== undefined && connection.isOpen ? connection : undefined;
  }

  /** The connection to a node, opening it if needed (one attempt; the caller retries). */
  connection(nodeId: number): Promise<Connection> {
    const ready = this.readyConnection(nodeId);
    if (ready !== undefined) return Promise.resolve(ready);
    const inProgress = this.connecting.get(nodeId);
    if (inProgress !== undefined) return inProgress;
    const address = this.brokers.get(nodeId);
    if (address === undefined) {
      this.requestRefresh();
      return Promise.reject(new RillError(Errors.LEADER_NOT_AVAILABLE, `no address known for broker node ${nodeId}`, { nodeId }));
    }
    const opening = this.open(address.host, address.port).finally(() => this.connecting.delete(nodeId));
    this.connecting.set(nodeId, opening);
    return opening;
  }

  /** An open connection to any broker: one already open, else a known broker, else a seed. */
  /** Every broker the last metadata named. */
  brokerIds(): number[] {
    return [...this.brokers.keys()];
  }

  async anyConnection(): Promise<Connection> {
    for (const connection of this.connections.values()) if (connection.isOpen) return connection;
    let lastError: unknown;
    for (const nodeId of this.brokers.keys()) {
      try {
        return await this.connection(nodeId);
      } catch (error) {
        lastError = error;
      }
    }
    for (const seed of shuffled(this.seeds)) {
      try {
        return await this.open(seed.host, seed.port);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError instanceof RillError
      ? new RillConnectionError(`could not connect to any broker of ${this.describeSeeds()}: ${lastError.message}`, { brokers: this.describeSeeds() }, { cause: lastError })
      : (lastError as Error);
  }

  private async open(host: string, port: number): Promise<Connection> {
    const options: ConnectionOptions = {
      host,
      port,
      clientId: this.options.clientId,
      connectionTimeoutMs: this.options.connectionTimeoutMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
      maxFrameBytes: this.options.maxFrameBytes,
      logger: this.options.logger,
    };
    const connection = await Connection.open(options);
    if (this.users === 0) {
      // Everyone left while we were connecting.
      connection.close();
      throw new RillConnectionError(`connection to ${connection.address} opened after the client was closed`);
    }
    const previous = this.connections.get(connection.nodeId);
    if (previous !== undefined && previous.isOpen) {
      connection.close();
      return previous;
    }
    this.connections.set(connection.nodeId, connection);
    connection.onClose((error) => {
      if (this.connections.get(connection.nodeId) === connection) this.connections.delete(connection.nodeId);
      if (this.users > 0) {
        this.options.logger.info({ broker: connection.address, reason: error.message }, 'lost the connection to a broker');
        this.requestRefresh();
      }
    });
    return connection;
  }

  private async bootstrap(): Promise<void> {
    await this.options.retry.run(
      async () => {
        await this.anyConnection();
        await this.refreshMetadata();
      },
      {
        shouldRetry: isRetriable,
        onRetry: (error, retry, delayMs) => this.options.logger.warn({ err: error, retry, delayMs }, 'could not reach the cluster; retrying'),
        stopped: () => this.users === 0,
      },
    );
  }

  private describeSeeds(): string {
    return this.seeds.map((s) => formatAddress(s.host, s.port)).join(', ');
  }

  /** The smallest max.frame.bytes of the brokers we are connected to (a Produce must fit it). */
  brokerMaxFrameBytes(): number {
    let min = Infinity;
    for (const connection of this.connections.values()) min = Math.min(min, connection.brokerMaxFrameBytes);
    return min === Infinity ? this.options.maxFrameBytes : min;
  }
}

/**
 * Known, without error, every partition listed, and at least one with a leader. A partition whose
 * only replica is on a dead node has none until the node returns; the others stay usable (unkeyed
 * messages go to partitions with leaders, and requests to the leaderless one are retried).
 */
function isUsable(info: TopicInfo | undefined): boolean {
  if (info === undefined || info.errorCode !== 0 || info.partitions.length === 0) return false;
  let led = false;
  for (let p = 0; p < info.partitions.length; p++) {
    if (info.partitions[p] === undefined) return false;
    if (info.partitions[p].leader >= 0) led = true;
  }
  return led;
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
