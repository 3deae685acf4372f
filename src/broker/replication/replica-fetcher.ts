// The replica fetcher for one leader broker: pulls every partition this worker follows from that
// leader, many partitions per request, with a long poll. Worker thread only (the followers' owner:
// it appends to their logs directly, as the leader's owner appends produced records).
//
// Per partition, a small state machine (Kafka's fetcher states):
//   truncating - ask the leader where our latest epoch ends (OffsetForLeaderEpoch) and cut what
//                lies beyond it; done once per leader epoch, before the first fetch in it
//   fetching   - ReplicaFetch from our log end; append what comes, as-is; take the high watermark
//   fenced     - the leader is in a newer epoch than we know: wait for metadata (apply() again)
// Errors the leader answers with (NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH, a lost connection)
// back the partition off and retry; nothing here waits without a bound or a deadline.

import { Errors, errorSpecByCode } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { LeaderLink } from './leader-link.js';
import type { PartitionReplica } from './partition-replica.js';
import { UNDEFINED_EPOCH } from '../../storage/leader-epoch-cache.js';

export interface FetcherSettings {
  brokerId: number;
  /** Long poll of one ReplicaFetch (replica.fetch.wait.max.ms). */
  maxWaitMs: number;
  /** Bytes per partition per fetch (replica.fetch.max.bytes). */
  partitionMaxBytes: number;
  /** Bytes per fetch response (replica.fetch.response.max.bytes). */
  maxBytes: number;
  /** Back-off after an error (replica.fetch.backoff.ms). */
  backoffMs: number;
}

export const DEFAULT_FETCHER_SETTINGS: Omit<FetcherSettings, 'brokerId'> = { maxWaitMs: 500, partitionMaxBytes: 1 << 20, maxBytes: 10 << 20, backoffMs: 100 };

type State = 'truncating' | 'fetching' | 'fenced';

interface Followed {
  replica: PartitionReplica;
  state: State;
  epoch: number;
  /** No request before this time (back-off after an error). */
  retryAt: number;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ReplicaFetcher {
  readonly leaderId: number;
  private readonly link: LeaderLink;
  private readonly settings: FetcherSettings;
  private readonly logger: Logger;
  private readonly partitions = new Map<string, Followed>();
  private running = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  /** Records appended, for stats and the catch-up benchmark. */
  fetchedRecords = 0;
  fetchedBytes = 0;

  constructor(leaderId: number, link: LeaderLink, settings: FetcherSettings, logger: Logger = silentLogger) {
    this.leaderId = leaderId;
    this.link = link;
    this.settings = settings;
    this.logger = logger.child({ leader: leaderId });
  }

  get size(): number {
    return this.partitions.size;
  }

  /** Follows `replica` from this leader in its current epoch (truncating first). */
  add(replica: PartitionReplica): void {
    this.partitions.set(tpKey(replica.topic, replica.partition), { replica, state: 'truncating', epoch: replica.leaderEpoch, retryAt: 0 });
    if (!this.running) void this.run();
    this.wake?.();
  }

  remove(topic: string, partition: number): void {
    this.partitions.delete(tpKey(topic, partition));
  }

  /** Stops the loop (after the request in flight) and closes the link. */
  stop(): void {
    this.stopped = true;
    this.partitions.clear();
    this.wake?.();
    this.link.close();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.partitions.size > 0) {
        // One macrotask turn per round: a leader that answers at once (errors, an in-memory link)
        // must not turn this loop into a microtask spin that starves timers and I/O.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.stopped) break;
        const now = Date.now();
        const ready = [...this.partitions.values()].filter((f) => f.retryAt <= now && f.state !== 'fenced');
        const truncating = ready.filter((f) => f.state === 'truncating');
        const fetching = ready.filter((f) => f.state === 'fetching');
        if (truncating.length > 0) await this.truncate(truncating);
        else if (fetching.length > 0) await this.fetch(fetching);
        else await this.pause();
      }
    } finally {
      this.running = false;
    }
  }

  /** Waits until the earliest retry time, or add()/stop(). */
  private pause(): Promise<void> {
    const next = Math.min(...[...this.partitions.values()].filter((f) => f.state !== 'fenced').map((f) => f.retryAt), Date.now() + this.settings.maxWaitMs);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(1, next - Date.now()));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  private backOff(list: Followed[], reason: unknown): void {
    const at = Date.now() + this.settings.backoffMs;
    for (const f of list) f.retryAt = at;
    this.logger.debug({ err: reason, partitions: list.length }, 'replica fetch failed; backing off');
  }

  /** Whether `f` is still what we follow; an entry left from an older epoch is dropped. */
  private current(f: Followed): boolean {
    const key = tpKey(f.replica.topic, f.replica.partition);
    if (this.partitions.get(key) !== f) return false;
    if (f.replica.leaderEpoch === f.epoch && !f.replica.isLeader) return true;
    this.partitions.delete(key);
    return false;
  }

  private async truncate(list: Followed[]): Promise<void> {
    let answer;
    try {
      answer = await this.link.offsetForLeaderEpoch({
        replicaId: this.settings.brokerId,
        partitions: list.map((f) => ({ topic: f.replica.topic, partition: f.replica.partition, currentLeaderEpoch: f.epoch, leaderEpoch: f.replica.log.latestEpoch })),
      });
    } catch (error) {
      this.backOff(list, error);
      return;
    }
    const byKey = new Map(answer.partitions.map((p) => [tpKey(p.topic, p.partition), p]));
    for (const f of list) {
      if (!this.current(f)) continue;
      const a = byKey.get(tpKey(f.replica.topic, f.replica.partition));
      if (a === undefined || a.errorCode !== 0) {
        this.onError(f, a?.errorCode ?? Errors.UNKNOWN_SERVER_ERROR.code);
        continue;
      }
      const log = f.replica.log;
      const localEnd = log.logEndOffset;
      // Kafka's rule: if the leader knows our epoch, cut to where it ends there; if it answers an
      // older epoch, cut to where that epoch ends in both logs; if it knows none, keep the high
      // watermark (all of it was acknowledged by this leader's ISR).
      let to: number;
      if (a.leaderEpoch === UNDEFINED_EPOCH || a.endOffset < 0) to = Math.min(f.replica.highWatermark, localEnd);
      else if (a.leaderEpoch === log.latestEpoch) to = Math.min(a.endOffset, localEnd);
      else to = Math.min(a.endOffset, log.endOffsetForEpoch(a.leaderEpoch).endOffset, localEnd);
      if (to < localEnd) {
        this.logger.warn({ topic: f.replica.topic, partition: f.replica.partition, from: localEnd, to, epoch: f.epoch, leaderAnswer: a }, 'truncating divergent suffix');
        f.replica.truncateTo(to);
      }
      f.state = 'fetching';
    }
  }

  private async fetch(list: Followed[]): Promise<void> {
    let answer;
    try {
      answer = await this.link.replicaFetch({
        replicaId: this.settings.brokerId,
        partitions: list.map((f) => ({ topic: f.replica.topic, partition: f.replica.partition, leaderEpoch: f.epoch, fetchOffset: f.replica.log.logEndOffset, maxBytes: this.settings.partitionMaxBytes })),
        maxWaitMs: this.settings.maxWaitMs,
        minBytes: 1,
        maxBytes: this.settings.maxBytes,
      });
    } catch (error) {
      this.backOff(list, error);
      return;
    }
    const byKey = new Map(list.map((f) => [tpKey(f.replica.topic, f.replica.partition), f]));
    answer.header.partitions.forEach((p, i) => {
      const f = byKey.get(tpKey(p.topic, p.partition));
      if (f === undefined || !this.current(f)) return;
      if (p.errorCode !== 0) {
        this.onError(f, p.errorCode, p);
        return;
      }
      const records = answer.recordSets[i];
      try {
        f.replica.appendFromLeader(records, p.highWatermark);
        this.fetchedBytes += records.length;
      } catch (error) {
        // A record set that does not continue our log (or a disk failure): start over with truncation.
        this.logger.warn({ topic: p.topic, partition: p.partition, err: error }, 'could not append replicated records');
        f.state = 'truncating';
        f.retryAt = Date.now() + this.settings.backoffMs;
      }
    });
  }

  private onError(f: Followed, code: number, p?: { logStartOffset: number; logEndOffset: number }): void {
    const { topic, partition } = f.replica;
    switch (code) {
      case Errors.FENCED_LEADER_EPOCH.code:
        // The leader moved on: metadata will bring the new epoch (and maybe a new leader).
        f.state = 'fenced';
        this.logger.info({ topic, partition, epoch: f.epoch }, 'fenced by the leader; waiting for metadata');
        return;
      case Errors.OFFSET_OUT_OF_RANGE.code:
        if (p !== undefined && p.logStartOffset > f.replica.log.logEndOffset) {
          // Retention on the leader deleted what we lack: restart the replica at the leader's log start.
          this.logger.warn({ topic, partition, logStartOffset: p.logStartOffset }, 'leader no longer holds our log end; restarting the replica at its log start');
          f.replica.log.truncateFullyAndStartAt(p.logStartOffset);
        } else {
          f.state = 'truncating';
        }
        f.retryAt = Date.now() + this.settings.backoffMs;
        return;
      default:
        this.logger.debug({ topic, partition, error: errorSpecByCode(code).type }, 'leader refused the fetch; retrying');
        f.retryAt = Date.now() + this.settings.backoffMs;
    }
  }
}
