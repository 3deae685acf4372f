// One partition's replication role on the broker that hosts a replica of it: leader (tracks the
// ISR, moves the high watermark, holds acks=all produces until replicated) or follower (appends
// what its replica fetcher brings, as-is). Worker thread only: it lives on the partition's owner,
// beside the log, as the owner of a single-node partition does.
//
// PartitionHost consults it through ReplicaHooks (partition-host.ts) only for partitions that have
// a replica attached; a single-node partition (replication factor 1, no cluster) has none and keeps
// its old path: high watermark = log end, no per-append cost.

import { Errors, RillError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { PartitionLog } from '../../storage/index.js';
import type { Acks, ReplicaHooks } from '../partition-host.js';
import { AckWaiters } from './ack-waiters.js';
import { IsrTracker } from './isr-tracker.js';
import type { IsrChannel } from './isr-channel.js';
import { HighWatermarkCheckpoint } from '../../storage/high-watermark-checkpoint.js';

export const ACKS_ALL = -1;

export interface ReplicaSettings {
  /** This broker's id. */
  brokerId: number;
  /** replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR. */
  lagTimeMaxMs: number;
  /** acks=all produces allowed to wait per partition. */
  maxPendingAcks: number;
}

export const DEFAULT_LAG_TIME_MAX_MS = 30_000;
export const DEFAULT_MAX_PENDING_ACKS = 4096;

/** What metadata says about a partition: the input of PartitionReplica.apply(). */
export interface PartitionLeadership {
  topic: string;
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: readonly number[];
  isr: readonly number[];
  /** min.insync.replicas of the topic (default 1). */
  minInsyncReplicas?: number;
  /** Replicas a reassignment is adding (still catching up): not counted as under-replication. */
  addingReplicas?: readonly number[];
  /**
   * Replicas on brokers the controller has fenced: not proposed for the ISR even when caught up,
   * as the controller would refuse them (Kafka's KIP-841). A healed node is unfenced first.
   */
  fencedReplicas?: readonly number[];
}

interface LeaderRole {
  kind: 'leader';
  tracker: IsrTracker;
  waiters: AckWaiters;
  minInsync: number;
  /** Replicas a reassignment is adding (see underReplicated). */
  adding: readonly number[];
  /** Replicas on fenced brokers: left out of ISR expansion. */
  fenced: readonly number[];
  /** An ISR change is out at the controller. */
  proposing: boolean;
}

interface FollowerRole {
  kind: 'follower';
  leaderId: number;
  highWatermark: number;
}

export class PartitionReplica implements ReplicaHooks {
  readonly topic: string;
  readonly partition: number;
  readonly log: PartitionLog;
  leaderEpoch = -1;
  private role: LeaderRole | FollowerRole | null = null;
  private readonly settings: ReplicaSettings;
  private readonly isrChannel: IsrChannel;
  private readonly logger: Logger;
  /** Wakes the partition's consumers' long polls (the high watermark moved). */
  private readonly onHighWatermark: () => void;
  private closed = false;
  /** The high watermark as of the last checkpoint: where a restarted replica starts. */
  private readonly hwCheckpoint: HighWatermarkCheckpoint;

  constructor(topic: string, partition: number, log: PartitionLog, settings: ReplicaSettings, isrChannel: IsrChannel, onHighWatermark: () => void, logger: Logger = silentLogger) {
    this.topic = topic;
    this.partition = partition;
    this.log = log;
    this.settings = settings;
    this.isrChannel = isrChannel;
    this.onHighWatermark = onHighWatermark;
    this.logger = logger;
    this.hwCheckpoint = new HighWatermarkCheckpoint(log.dir);
  }

  get isLeader(): boolean {
    return this.role?.kind === 'leader';
  }

  get leaderId(): number {
    return this.role?.kind === 'leader' ? this.settings.brokerId : this.role?.kind === 'follower' ? this.role.leaderId : -1;
  }

  get highWatermark(): number {
    if (this.role === null) return 0;
    return this.role.kind === 'leader' ? this.role.tracker.highWatermark : this.role.highWatermark;
  }

  /** The committed ISR (leader only; [] otherwise). */
  get isr(): readonly number[] {
    return this.role?.kind === 'leader' ? this.role.tracker.isr : [];
  }

  /**
   * Leader with a replica out of the ISR. As in Kafka (KIP-455), replicas a reassignment is still
   * adding do not count: a rebalance must not set off under-replication alerts.
   */
  get underReplicated(): boolean {
    if (this.role?.kind !== 'leader') return false;
    const { tracker, adding } = this.role;
    return tracker.replicas.some((r) => !adding.includes(r) && !tracker.isr.includes(r));
  }

  /** Leader only: each follower's log end as of its last fetch (-1 before its first); [] otherwise. */
  followerLogEnds(): { replica: number; logEndOffset: number }[] {
    if (this.role?.kind !== 'leader') return [];
    const tracker = this.role.tracker;
    return tracker.replicas.filter((r) => r !== this.settings.brokerId).map((replica) => ({ replica, logEndOffset: tracker.follower(replica)?.logEndOffset ?? -1 }));
  }

  /** Leader whose ISR is below min.insync.replicas (acks=all produces fail). */
  get underMinIsr(): boolean {
    return this.role?.kind === 'leader' && this.role.tracker.isr.length < this.role.minInsync;
  }

  /**
   * Takes the role metadata gives this broker. Returns 'follower' when the caller must (re)start
   * fetching from the leader (truncating first): the epoch rose or the leader changed.
   */
  apply(m: PartitionLeadership, now: number): 'leader' | 'follower' | 'unchanged' {
    if (m.leaderEpoch < this.leaderEpoch) {
      this.logger.warn({ topic: this.topic, partition: this.partition, epoch: m.leaderEpoch, current: this.leaderEpoch }, 'ignoring leadership from an older epoch');
      return 'unchanged';
    }
    const self = this.settings.brokerId;
    const minInsync = Math.max(1, m.minInsyncReplicas ?? 1);
    if (m.leaderEpoch === this.leaderEpoch && this.role !== null) {
      // Same epoch: the ISR (committed by the controller), min.insync.replicas, or the replica set
      // (a reassignment adds followers, then drops the old ones) changed.
      if (this.role.kind === 'leader' && m.leader === self) {
        this.role.minInsync = minInsync;
        this.role.adding = m.addingReplicas ?? [];
        this.role.fenced = m.fencedReplicas ?? [];
        this.role.tracker.setReplicas(m.replicas, now);
        this.committed(m.isr);
      }
      return 'unchanged';
    }
    // A replica taking its first role starts from its checkpoint (clamped to the log end below).
    const previousHw = this.role === null ? this.hwCheckpoint.value : this.highWatermark;
    // First what can fail (the log refuses an epoch below its own): then nothing has changed.
    if (m.leader === self) this.log.becomeLeader(m.leaderEpoch);
    this.leaderEpoch = m.leaderEpoch;
    if (this.role?.kind === 'leader') this.role.waiters.failAll(Errors.NOT_LEADER_OR_FOLLOWER, `leadership of ${this.topic}-${this.partition} moved to broker ${m.leader} in epoch ${m.leaderEpoch}`);
    if (m.leader === self) {
      const tracker = new IsrTracker({ self, replicas: m.replicas, isr: m.isr, epochStartOffset: this.log.logEndOffset, highWatermark: Math.min(previousHw, this.log.logEndOffset), now });
      this.role = { kind: 'leader', tracker, waiters: new AckWaiters(this.settings.maxPendingAcks), minInsync, adding: m.addingReplicas ?? [], fenced: m.fencedReplicas ?? [], proposing: false };
      if (tracker.updateHighWatermark(this.log.logEndOffset)) this.onHighWatermark();
      this.logger.info({ topic: this.topic, partition: this.partition, epoch: m.leaderEpoch, logEndOffset: this.log.logEndOffset, isr: m.isr }, 'leading partition');
      return 'leader';
    }
    this.role = { kind: 'follower', leaderId: m.leader, highWatermark: Math.min(previousHw, this.log.logEndOffset) };
    this.logger.info({ topic: this.topic, partition: this.partition, epoch: m.leaderEpoch, leader: m.leader }, 'following partition');
    return 'follower';
  }

  // --- leader: produce -------------------------------------------------------------------------

  beforeAppend(acks: Acks): void {
    const role = this.leaderRole();
    if (acks !== ACKS_ALL) return;
    if (role.tracker.isr.length < role.minInsync) {
      throw new RillError(Errors.NOT_ENOUGH_REPLICAS, `${this.topic}-${this.partition} has ${role.tracker.isr.length} in-sync replicas, min.insync.replicas is ${role.minInsync}`, {
        isr: role.tracker.isr.length,
        minInsyncReplicas: role.minInsync,
      });
    }
    role.waiters.checkRoom();
  }

  /** After an append: moves the high watermark (ISR of one); acks=all waits until it passes `end`. */
  afterAppend(end: number, acks: Acks, timeoutMs: number): Promise<void> | null {
    const role = this.leaderRole();
    this.maybeAdvance(role);
    if (acks !== ACKS_ALL || role.tracker.highWatermark >= end) return null;
    return role.waiters.wait(end, timeoutMs);
  }

  private leaderRole(): LeaderRole {
    if (this.role?.kind !== 'leader') {
      throw new RillError(Errors.NOT_LEADER_OR_FOLLOWER, `this broker does not lead ${this.topic}-${this.partition}`, { leader: this.leaderId, leaderEpoch: this.leaderEpoch });
    }
    return this.role;
  }

  private maybeAdvance(role: LeaderRole): void {
    if (!role.tracker.updateHighWatermark(this.log.logEndOffset)) return;
    // As Kafka's DelayedProduce: records the high watermark passed while the ISR is below
    // min.insync.replicas were not replicated as acks=all promised.
    if (role.tracker.isr.length < role.minInsync) this.failBelowMinIsr(role);
    else role.waiters.advance(role.tracker.highWatermark);
    this.onHighWatermark();
  }

  private failBelowMinIsr(role: LeaderRole): void {
    if (role.waiters.size === 0) return;
    role.waiters.failAll(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND, `the ISR of ${this.topic}-${this.partition} shrank to ${role.tracker.isr.length}, below min.insync.replicas ${role.minInsync}`);
  }

  // --- leader: followers -------------------------------------------------------------------------

  /** Fencing of a follower's request by its epoch (ReplicaFetch / OffsetForLeaderEpoch). */
  checkEpoch(epoch: number): void {
    if (this.role?.kind !== 'leader') {
      throw new RillError(Errors.NOT_LEADER_OR_FOLLOWER, `this broker does not lead ${this.topic}-${this.partition}`, { leader: this.leaderId, leaderEpoch: this.leaderEpoch });
    }
    if (epoch < this.leaderEpoch) throw new RillError(Errors.FENCED_LEADER_EPOCH, `epoch ${epoch} is older than ${this.leaderEpoch}`, { leaderEpoch: this.leaderEpoch });
    if (epoch > this.leaderEpoch) throw new RillError(Errors.UNKNOWN_LEADER_EPOCH, `epoch ${epoch} is newer than ${this.leaderEpoch}`, { leaderEpoch: this.leaderEpoch });
  }

  /** A follower fetches from `fetchOffset` in `epoch`: learn its progress (after checkEpoch). */
  onFollowerFetch(followerId: number, epoch: number, fetchOffset: number, now: number): void {
    this.checkEpoch(epoch);
    const role = this.role as LeaderRole;
    if (!role.tracker.replicas.includes(followerId)) {
      throw new RillError(Errors.NOT_LEADER_OR_FOLLOWER, `broker ${followerId} is not a replica of ${this.topic}-${this.partition}`);
    }
    const end = this.log.logEndOffset;
    if (fetchOffset > end) {
      throw new RillError(Errors.OFFSET_OUT_OF_RANGE, `fetch offset ${fetchOffset} is beyond the leader's log end ${end}`, { offset: fetchOffset, logStartOffset: this.log.logStartOffset, logEndOffset: end });
    }
    role.tracker.onFollowerFetch(followerId, fetchOffset, end, now);
    this.maybeAdvance(role);
    const joiners = role.tracker.expandCandidates().filter((r) => !role.fenced.includes(r));
    if (joiners.length > 0) this.propose(role, [...role.tracker.isr, ...joiners], 'expand');
  }

  /** Periodic: shrink the ISR of followers not caught up within replica.lag.time.max.ms. */
  tick(now: number): void {
    if (this.role?.kind !== 'leader' || this.closed) return;
    const role = this.role;
    const laggards = role.tracker.shrinkCandidates(now, this.settings.lagTimeMaxMs);
    if (laggards.length > 0) this.propose(role, role.tracker.isr.filter((r) => !laggards.includes(r)), 'shrink');
  }

  private propose(role: LeaderRole, isr: number[], why: 'shrink' | 'expand'): void {
    if (role.proposing) return;
    role.proposing = true;
    role.tracker.propose(isr);
    const epoch = this.leaderEpoch;
    this.logger.info({ topic: this.topic, partition: this.partition, isr, from: role.tracker.isr, why }, 'proposing ISR change');
    this.isrChannel
      .alterIsr({ topic: this.topic, partition: this.partition, leader: this.settings.brokerId, leaderEpoch: epoch, isr })
      .then(
        (answer) => {
          if (this.role !== role) return; // leadership moved meanwhile: the new role has its own ISR
          role.proposing = false;
          if (answer.ok) this.committed(answer.isr);
          else {
            this.logger.warn({ topic: this.topic, partition: this.partition, code: answer.code, message: answer.message }, 'ISR change refused');
            // An ISR without this replica means the cluster has moved on: another replica leads in
            // a newer epoch (say, elected while this one was cut off). Adopting it would leave a
            // leader outside its own ISR (its next shrink would propose an empty one); keep ours
            // until the metadata demotes this replica.
            const theirs = answer.isr;
            this.committed(theirs !== undefined && theirs.includes(this.settings.brokerId) ? theirs : role.tracker.isr);
          }
        },
        (error) => {
          if (this.role !== role) return;
          role.proposing = false;
          role.tracker.setIsr(role.tracker.isr);
          this.logger.warn({ topic: this.topic, partition: this.partition, err: error }, 'ISR change failed; will retry');
        },
      );
  }

  /** The controller holds `isr`: adopt it, release what the new high watermark covers, fail the rest if below min ISR. */
  private committed(isr: readonly number[]): void {
    if (this.role?.kind !== 'leader') return;
    const role = this.role;
    role.tracker.setIsr(isr);
    if (role.tracker.isr.length < role.minInsync) this.failBelowMinIsr(role);
    this.maybeAdvance(role);
  }

  // --- follower ----------------------------------------------------------------------------------

  /** Appends batches fetched from the leader (offsets preserved) and takes the leader's high watermark. */
  appendFromLeader(records: Uint8Array, leaderHighWatermark: number): void {
    if (this.role?.kind !== 'follower') throw new RillError(Errors.NOT_LEADER_OR_FOLLOWER, `${this.topic}-${this.partition} is not following here`);
    if (records.length > 0) this.log.writeReplicated(records);
    this.followerHighWatermark(leaderHighWatermark);
  }

  followerHighWatermark(leaderHighWatermark: number): void {
    if (this.role?.kind !== 'follower') return;
    const hw = Math.min(leaderHighWatermark, this.log.logEndOffset);
    if (hw > this.role.highWatermark) {
      this.role.highWatermark = hw;
      this.onHighWatermark();
    }
  }

  /** Truncation by epoch gave `offset`: cut the divergent suffix (crash-safe, see PartitionLog). */
  truncateTo(offset: number): number {
    const end = this.log.truncateTo(Math.max(offset, 0));
    if (this.role?.kind === 'follower') this.role.highWatermark = Math.min(this.role.highWatermark, end);
    return end;
  }

  /** Writes the high watermark to the partition's checkpoint if it moved (see high-watermark-checkpoint.ts). */
  checkpointHighWatermark(): void {
    if (this.role === null) return;
    try {
      this.hwCheckpoint.write(this.highWatermark);
    } catch (error) {
      // Only costs a lower start after a restart; the log's own writes report disk trouble.
      this.logger.warn({ err: error, topic: this.topic, partition: this.partition }, 'writing the high-watermark checkpoint failed');
    }
  }

  /** Fails waiting produces and stops acting (partition closed or no longer hosted). */
  close(): void {
    this.closed = true;
    if (this.role?.kind === 'leader') this.role.waiters.failAll(Errors.NOT_LEADER_OR_FOLLOWER, `${this.topic}-${this.partition} is no longer hosted here`);
    this.role = null;
  }
}
