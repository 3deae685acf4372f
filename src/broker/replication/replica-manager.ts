// The replication side of one partition-owner worker: the role of each replicated partition it
// owns, the replica fetchers of the partitions it follows (one per leader broker), and the leader
// side of the two broker-to-broker requests. Worker thread only.
//
// The node's cluster wiring drives it with one call: applyLeadership(), whenever metadata says
// "partition P is led by L in epoch E with replicas R and ISR I" for a partition this worker owns
// (after PartitionHost.open()). Everything else follows from that: leading (epoch recorded at the
// log end, producer state rebuilt, ISR tracked), following (truncate by epoch, then fetch), or
// stopping when this broker is no longer a replica.
//
// Bounds: replica fetch long polls are bounded by the requests in flight (the network front bounds
// those per connection); acks=all waiters per partition by maxPendingAcks; fetchers by the number
// of leader brokers.

import { Errors, RillError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { EpochAnswer, OffsetForLeaderEpochRequest, ReplicaFetchPartition, ReplicaFetchRequest } from '../../protocol/index.js';
import type { DataWait, PartitionHost } from '../partition-host.js';
import type { IsrChannel } from './isr-channel.js';
import type { LeaderLink } from './leader-link.js';
import { PartitionReplica, DEFAULT_LAG_TIME_MAX_MS, DEFAULT_MAX_PENDING_ACKS, type PartitionLeadership } from './partition-replica.js';
import { DEFAULT_FETCHER_SETTINGS, ReplicaFetcher, type FetcherSettings } from './replica-fetcher.js';
import { HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS } from '../../storage/high-watermark-checkpoint.js';

export interface ReplicationSettings {
  brokerId: number;
  lagTimeMaxMs?: number;
  maxPendingAcks?: number;
  fetcher?: Partial<Omit<FetcherSettings, 'brokerId'>>;
}

export interface ReplicaFetchResult {
  topic: string;
  partition: number;
  errorCode: number;
  message?: string;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
  /** The batches: a view into the segment mapping, valid until this thread yields. */
  records: Uint8Array;
  file: string | null;
  fileId: number;
  position: number;
  length: number;
}

export interface ReplicaStatus {
  topic: string;
  partition: number;
  role: 'leader' | 'follower';
  leader: number;
  leaderEpoch: number;
  isr: readonly number[];
  highWatermark: number;
  logEndOffset: number;
  underReplicated: boolean;
  /** Leader only: each follower's log end as of its last fetch (-1 before its first). */
  followers?: { replica: number; logEndOffset: number }[];
}

/** Lets the caller cut a long poll short (the network front's EndWait): set ended, end the wait. */
export interface FetchControl {
  ended: boolean;
  wait: DataWait | null;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ReplicaManager {
  private readonly host: PartitionHost;
  private readonly brokerId: number;
  private readonly lagTimeMaxMs: number;
  private readonly maxPendingAcks: number;
  private readonly fetcherSettings: FetcherSettings;
  private readonly isrChannel: IsrChannel;
  private readonly connect: (leaderId: number) => LeaderLink;
  private readonly logger: Logger;
  private readonly replicas = new Map<string, PartitionReplica>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly ticker: NodeJS.Timeout;
  private readonly hwCheckpointer: NodeJS.Timeout;

  constructor(host: PartitionHost, settings: ReplicationSettings, isrChannel: IsrChannel, connect: (leaderId: number) => LeaderLink, logger: Logger = silentLogger) {
    this.host = host;
    this.brokerId = settings.brokerId;
    this.lagTimeMaxMs = settings.lagTimeMaxMs ?? DEFAULT_LAG_TIME_MAX_MS;
    this.maxPendingAcks = settings.maxPendingAcks ?? DEFAULT_MAX_PENDING_ACKS;
    this.fetcherSettings = { brokerId: settings.brokerId, ...DEFAULT_FETCHER_SETTINGS, ...settings.fetcher };
    this.isrChannel = isrChannel;
    this.connect = connect;
    this.logger = logger;
    // Kafka checks ISR lag every replica.lag.time.max.ms / 2.
    this.ticker = setInterval(() => this.tick(Date.now()), Math.max(10, this.lagTimeMaxMs / 2));
    this.ticker.unref();
    this.hwCheckpointer = setInterval(() => this.checkpointHighWatermarks(), HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS);
    this.hwCheckpointer.unref();
  }

  /** Writes each replica's high watermark to its checkpoint where it moved (every few seconds, and at close). */
  checkpointHighWatermarks(): void {
    for (const replica of this.replicas.values()) replica.checkpointHighWatermark();
  }

  /**
   * THE entry point for the cluster wiring: metadata says how partition P is led now. The partition
   * must be open on this worker's PartitionHost. Idempotent for an unchanged epoch (then only a
   * committed ISR or min.insync.replicas is taken over).
   */
  applyLeadership(m: PartitionLeadership): 'leader' | 'follower' | 'unchanged' | 'stopped' {
    const key = tpKey(m.topic, m.partition);
    if (!m.replicas.includes(this.brokerId)) {
      this.stop(m.topic, m.partition);
      return 'stopped';
    }
    let replica = this.replicas.get(key);
    if (replica === undefined) {
      const log = this.host.logOf(m.topic, m.partition);
      replica = new PartitionReplica(
        m.topic,
        m.partition,
        log,
        { brokerId: this.brokerId, lagTimeMaxMs: this.lagTimeMaxMs, maxPendingAcks: this.maxPendingAcks },
        this.isrChannel,
        () => this.host.wakeWaiters(m.topic, m.partition),
        this.logger.child({ topic: m.topic, partition: m.partition }),
      );
      this.replicas.set(key, replica);
      this.host.attachReplica(m.topic, m.partition, replica);
    }
    const previousLeader = replica.leaderId;
    const outcome = replica.apply(m, Date.now());
    if (outcome === 'leader' || (outcome === 'follower' && previousLeader !== m.leader)) this.fetchers.get(previousLeader)?.remove(m.topic, m.partition);
    if (outcome === 'follower') this.fetcherFor(m.leader).add(replica);
    this.dropIdleFetchers();
    return outcome;
  }

  /** This broker no longer replicates the partition (or it is being closed): stop fetching, fail waiters. */
  stop(topic: string, partition: number): void {
    const key = tpKey(topic, partition);
    const replica = this.replicas.get(key);
    if (replica === undefined) return;
    this.fetchers.get(replica.leaderId)?.remove(topic, partition);
    replica.close();
    this.replicas.delete(key);
    try {
      this.host.attachReplica(topic, partition, null);
    } catch {
      // Already closed on the host: nothing to detach.
    }
    this.dropIdleFetchers();
  }

  replica(topic: string, partition: number): PartitionReplica | undefined {
    return this.replicas.get(tpKey(topic, partition));
  }

  private fetcherFor(leaderId: number): ReplicaFetcher {
    let fetcher = this.fetchers.get(leaderId);
    if (fetcher === undefined) {
      fetcher = new ReplicaFetcher(leaderId, this.connect(leaderId), this.fetcherSettings, this.logger);
      this.fetchers.set(leaderId, fetcher);
    }
    return fetcher;
  }

  private dropIdleFetchers(): void {
    for (const [id, fetcher] of this.fetchers) {
      if (fetcher.size === 0) {
        fetcher.stop();
        this.fetchers.delete(id);
      }
    }
  }

  tick(now: number): void {
    for (const replica of this.replicas.values()) replica.tick(now);
  }

  // --- leader side of the broker-to-broker requests -------------------------------------------------

  /**
   * ReplicaFetch: each partition's batches from the follower's fetch offset (to the log end), its
   * progress noted first; long polls until minBytes or maxWaitMs. Errors are per partition.
   */
  async replicaFetch(request: ReplicaFetchRequest, { copy = false, control }: { copy?: boolean; control?: FetchControl } = {}): Promise<ReplicaFetchResult[]> {
    const deadline = Date.now() + request.maxWaitMs;
    for (let first = true; ; first = false) {
      const results = this.readForFollower(request, first, copy);
      const bytes = results.reduce((sum, r) => sum + r.length, 0);
      const remaining = deadline - Date.now();
      if (bytes >= Math.max(1, request.minBytes) || remaining <= 0 || control?.ended === true || results.some((r) => r.errorCode !== 0)) return results;
      const wait = this.host.waitForAny(request.partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.fetchOffset })), remaining, { toLogEnd: true });
      if (control !== undefined) control.wait = wait;
      await wait.done;
      if (control !== undefined) control.wait = null;
    }
  }

  /** `copy`: records are copied out of the mapping (for callers that keep them past a yield). */
  private readForFollower(request: ReplicaFetchRequest, noteProgress: boolean, copy: boolean): ReplicaFetchResult[] {
    let budget = request.maxBytes;
    const now = Date.now();
    return request.partitions.map((p: ReplicaFetchPartition) => {
      try {
        const replica = this.replicas.get(tpKey(p.topic, p.partition));
        if (replica === undefined) throw new RillError(Errors.NOT_LEADER_OR_FOLLOWER, `${p.topic}-${p.partition} is not replicated here`);
        if (noteProgress) replica.onFollowerFetch(request.replicaId, p.leaderEpoch, p.fetchOffset, now);
        else replica.checkEpoch(p.leaderEpoch);
        const log = replica.log;
        const read = log.read(p.fetchOffset, Math.max(1, Math.min(p.maxBytes, budget)));
        budget = Math.max(0, budget - read.records.length);
        return { topic: p.topic, partition: p.partition, errorCode: 0, highWatermark: replica.highWatermark, logStartOffset: read.logStartOffset, logEndOffset: read.logEndOffset, records: copy ? read.records.slice() : read.records, file: read.file, fileId: read.fileId, position: read.position, length: read.records.length };
      } catch (error) {
        const rill = error instanceof RillError ? error : new RillError(Errors.UNKNOWN_SERVER_ERROR, String((error as Error)?.message ?? error));
        if (!(error instanceof RillError)) this.logger.error({ err: error }, 'replica fetch failed');
        const range = rill.details;
        return {
          topic: p.topic,
          partition: p.partition,
          errorCode: rill.code,
          message: rill.message,
          highWatermark: -1,
          logStartOffset: typeof range.logStartOffset === 'number' ? range.logStartOffset : -1,
          logEndOffset: typeof range.logEndOffset === 'number' ? range.logEndOffset : -1,
          records: new Uint8Array(0),
          file: null,
          fileId: 0,
          position: 0,
          length: 0,
        };
      }
    });
  }

  /** OffsetForLeaderEpoch: where each asked epoch ends in the leader's log. */
  offsetForLeaderEpoch(request: OffsetForLeaderEpochRequest): EpochAnswer[] {
    return request.partitions.map((q) => {
      try {
        const replica = this.replicas.get(tpKey(q.topic, q.partition));
        if (replica === undefined) throw new RillError(Errors.NOT_LEADER_OR_FOLLOWER, `${q.topic}-${q.partition} is not replicated here`);
        replica.checkEpoch(q.currentLeaderEpoch);
        const { epoch, endOffset } = replica.log.endOffsetForEpoch(q.leaderEpoch);
        return { topic: q.topic, partition: q.partition, errorCode: 0, leaderEpoch: epoch, endOffset };
      } catch (error) {
        const code = error instanceof RillError ? error.code : Errors.UNKNOWN_SERVER_ERROR.code;
        return { topic: q.topic, partition: q.partition, errorCode: code, leaderEpoch: -1, endOffset: -1 };
      }
    });
  }

  // --- stats ----------------------------------------------------------------------------------------

  status(): ReplicaStatus[] {
    return [...this.replicas.values()].map((r) => ({
      topic: r.topic,
      partition: r.partition,
      role: r.isLeader ? 'leader' : 'follower',
      leader: r.leaderId,
      leaderEpoch: r.leaderEpoch,
      isr: r.isr,
      highWatermark: r.highWatermark,
      logEndOffset: r.log.logEndOffset,
      underReplicated: r.underReplicated,
      ...(r.isLeader ? { followers: r.followerLogEnds() } : {}),
    }));
  }

  /** Partitions this worker leads whose ISR is smaller than their replica set. */
  get underReplicatedCount(): number {
    let n = 0;
    for (const r of this.replicas.values()) if (r.underReplicated) n++;
    return n;
  }

  /** Stops every fetcher and replica role (shutdown); logs stay open on the host. */
  close(): void {
    clearInterval(this.ticker);
    clearInterval(this.hwCheckpointer);
    this.checkpointHighWatermarks();
    for (const fetcher of this.fetchers.values()) fetcher.stop();
    this.fetchers.clear();
    for (const replica of this.replicas.values()) replica.close();
    this.replicas.clear();
  }
}
