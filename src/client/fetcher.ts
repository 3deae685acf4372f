// The consumer's fetch loop: long-polls every assigned partition, one Fetch per leader for all the
// partitions it leads, and hands what comes back to the consumer as FetchedBatches. Application
// thread; one per consumer.
//
// A pass (scheduled with setImmediate, coalesced) sends one Fetch per leader for every partition
// that may be fetched now: assigned, not paused, its position known, no fetch of it in flight,
// not backing off after an error, and the consumer's prefetched bytes below maxPrefetchBytes. As
// soon as a partition's answer is in, it is fetchable again, so the next fetch of a busy partition
// is in flight while the application works through the last one: prefetch is what keeps a fast
// consumer from waiting on round trips, and maxPrefetchBytes is what bounds it.
//
// Positions move here, at fetch time, from the batch headers alone (scanRecordSet): the records are
// decoded when the application reads them. A seek bumps the partition's epoch; answers fetched
// under an older epoch are dropped, so a seek while running never delivers stale records.
// Positions given as 'earliest', 'latest' or a time are resolved with ListOffsets first.
//
// Errors per partition: NOT_LEADER_OR_FOLLOWER and the like refresh metadata and back off;
// OFFSET_OUT_OF_RANGE resets to autoOffsetReset if the consumer has one, else it is handed to the
// application as a RillError and the partition waits for a seek; a lost connection or a timeout
// backs off every partition of that fetch.

import { Errors, RillError } from '../errors.js';
import { ApiKeys, type FetchPartition, type FetchResponse } from '../protocol/index.js';
import { type Cluster } from './cluster.js';
import { errorFromCode, isStaleMetadata } from './errors.js';
import { FetchedBatch, scanRecordSet } from './fetched-batch.js';
import { EARLIEST, LATEST, listOffsets } from './list-offsets.js';
import { type ClientLogger } from './logger.js';

export type OffsetReset = 'earliest' | 'latest';

/** One assigned partition's fetch state. */
export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to fetch; null while a reset is pending. */
  position: number | null = null;
  /** What to resolve the position from while it is null: -2 earliest, -1 latest, else ms. */
  resetTo: number = LATEST;
  resolving = false;
  /** Bumped by every seek: answers fetched under an older epoch are dropped. */
  epoch = 0;
  /** The epoch of the fetch in flight for this partition, or -1. */
  fetchingEpoch = -1;
  paused = false;
  /** No fetch before this time (Date.now()), after an error. */
  retryAt = 0;
  failures = 0;
  /** An error for the application (e.g. OFFSET_OUT_OF_RANGE); no fetching until a seek. */
  error: RillError | null = null;
  highWatermark = -1;
  /** The offset after the last message handed to the application (-1: none yet). */
  consumed = -1;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }
}

export interface FetcherOptions {
  cluster: Cluster;
  logger: ClientLogger;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  maxBytesPerPartition: number;
  maxPrefetchBytes: number;
  /** Fetches in flight per broker at most; a leader's partitions are spread over them. */
  maxInFlightFetches: number;
  autoOffsetReset: OffsetReset | 'none';
  requestTimeoutMs: number;
  /** The assigned partitions. */
  partitions: () => Iterable<PartitionState>;
  /** Bytes fetched and not yet taken by the application. */
  prefetchedBytes: () => number;
  deliver: (batch: FetchedBatch) => void;
  /** A partition has an error for the application. */
  failed: (state: PartitionState) => void;
}

export class Fetcher {
  private readonly options: FetcherOptions;
  private scheduled = false;
  private running = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryTimerAt = 0;
  /** Fetches in flight per leader. */
  private readonly inFlight = new Map<number, number>();
  /** Bytes the fetches in flight may bring back (their maxBytes), counted against maxPrefetchBytes. */
  private reservedBytes = 0;
  /** Where the next pass starts in the partition list (see pass()). */
  private rotation = 0;

  constructor(options: FetcherOptions) {
    this.options = options;
  }

  start(): void {
    this.running = true;
    this.kick();
  }

  stop(): void {
    this.running = false;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Schedules a pass. */
  readonly kick = (): void => {
    if (this.scheduled || !this.running) return;
    this.scheduled = true;
    setImmediate(this.pass);
  };

  private readonly pass = (): void => {
    this.scheduled = false;
    if (!this.running) return;
    const { cluster, maxPrefetchBytes } = this.options;
    const now = Date.now();
    const toResolve: PartitionState[] = [];
    const byLeader = new Map<number, PartitionState[]>();
    let room = maxPrefetchBytes - this.options.prefetchedBytes() - this.reservedBytes;
    let nextRetry = Infinity;
    // Starting at a different partition each pass: when the prefetch room is short, the first
    // partitions get it, and a fixed order would give it to the same ones every time (a partition
    // whose fetch long-polls with nothing to read would starve the others; KIP-74 rotates too).
    const all = [...this.options.partitions()];
    const start = all.length === 0 ? 0 : this.rotation++ % all.length;
    for (let k = 0; k < all.length; k++) {
      const state = all[(start + k) % all.length];
      if (state.paused || state.error !== null) continue;
      if (state.retryAt > now) {
        nextRetry = Math.min(nextRetry, state.retryAt);
        continue;
      }
      if (state.position === null) {
        if (!state.resolving) toResolve.push(state);
        continue;
      }
      if (state.fetchingEpoch === state.epoch || room <= 0) continue;
      const leader = cluster.leaderOf(state.topic, state.partition);
      if (leader < 0) {
        // Not in the metadata yet (assigned by number before anyone asked for the topic) or
        // leaderless: ask for fresh metadata (coalesced), and try again after the backoff.
        cluster.requestRefresh();
        this.backOff([state], cluster.noLeaderError(state.topic, state.partition));
        nextRetry = Math.min(nextRetry, state.retryAt);
        continue;
      }
      let group = byLeader.get(leader);
      if (group === undefined) byLeader.set(leader, (group = []));
      group.push(state);
    }
    if (toResolve.length > 0) this.resolvePositions(toResolve);
    const { maxBytes, maxBytesPerPartition, maxInFlightFetches } = this.options;
    for (const [leader, states] of byLeader) {
      // Spread the leader's partitions over the fetches it may still have in flight: several
      // fetches keep the broker busy while one answer crosses the network or the application.
      // No more fetches than the room holds at maxBytesPerPartition each: a short room goes to one
      // fetch over all the leader's partitions, which the broker fills in order, rather than to a
      // fetch for the first partition alone.
      const fetches = Math.min(states.length, maxInFlightFetches - (this.inFlight.get(leader) ?? 0), Math.max(1, Math.floor(room / maxBytesPerPartition)));
      for (let f = 0; f < fetches && room > 0; f++) {
        const group = states.filter((_, i) => i % fetches === f);
        const bytes = Math.max(1, Math.min(maxBytes, group.length * maxBytesPerPartition, room));
        room -= bytes;
        this.fetch(leader, group, bytes);
      }
    }
    if (nextRetry !== Infinity) this.armRetry(nextRetry, now);
  };

  private armRetry(at: number, now: number): void {
    if (this.retryTimer !== null && this.retryTimerAt <= at) return;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimerAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, Math.max(0, at - now));
  }

  private fetch(leader: number, states: PartitionState[], bytes: number): void {
    const { cluster, maxWaitMs, minBytes, maxBytesPerPartition, requestTimeoutMs } = this.options;
    const connection = cluster.readyConnection(leader);
    if (connection === undefined) {
      for (const state of states) state.fetchingEpoch = state.epoch;
      const epochs = states.map((s) => s.epoch);
      cluster.connection(leader).then(
        () => {
          this.release(states, epochs);
          this.kick();
        },
        (error: unknown) => {
          this.release(states, epochs);
          this.backOff(states, error instanceof RillError ? error : new RillError(Errors.UNKNOWN_SERVER_ERROR, String(error)));
        },
      );
      return;
    }
    const partitions: FetchPartition[] = [];
    const epochs: number[] = [];
    for (const state of states) {
      state.fetchingEpoch = state.epoch;
      epochs.push(state.epoch);
      partitions.push({ topic: state.topic, partition: state.partition, offset: state.position!, maxBytes: maxBytesPerPartition });
    }
    const header = { partitions, maxWaitMs, minBytes, maxBytes: bytes };
    this.inFlight.set(leader, (this.inFlight.get(leader) ?? 0) + 1);
    this.reservedBytes += bytes;
    connection.send(ApiKeys.Fetch, header, undefined, requestTimeoutMs + maxWaitMs, (error, response) => {
      this.inFlight.set(leader, this.inFlight.get(leader)! - 1);
      this.reservedBytes -= bytes;
      this.release(states, epochs);
      if (!this.running) return;
      if (error !== null) {
        if (isStaleMetadata(error.code)) cluster.requestRefresh();
        this.backOff(states, error);
        return;
      }
      this.onResponse(states, epochs, partitions, response!.header, response!.body);
      this.kick();
    });
  }

  /** The fetch of these partitions is over (whatever its outcome). */
  private release(states: PartitionState[], epochs: number[]): void {
    for (let i = 0; i < states.length; i++) if (states[i].fetchingEpoch === epochs[i]) states[i].fetchingEpoch = -1;
  }

  private onResponse(states: PartitionState[], epochs: number[], asked: FetchPartition[], header: FetchResponse, body: Uint8Array): void {
    const records = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    let at = 0;
    for (let i = 0; i < header.partitions.length; i++) {
      const answer = header.partitions[i];
      const setStart = at;
      at += answer.bytes;
      const state = states[i];
      if (state === undefined || state.topic !== answer.topic || state.partition !== answer.partition) continue; // answers come in request order
      if (state.epoch !== epochs[i]) continue; // sought meanwhile
      if (answer.errorCode !== 0) {
        if (answer.leaderId !== undefined) this.options.cluster.leaderMoved(answer.topic, answer.partition, answer.leaderId);
        this.onPartitionError(state, asked[i].offset, answer.errorCode);
        continue;
      }
      state.failures = 0;
      state.highWatermark = answer.highWatermark;
      const set = records.subarray(setStart, setStart + answer.bytes);
      const scan = scanRecordSet(set, asked[i].offset);
      if (scan.bytes === 0) continue;
      state.position = scan.nextOffset;
      this.options.deliver(new FetchedBatch(state.topic, state.partition, answer.highWatermark, set, asked[i].offset, scan, state.epoch));
    }
  }

  private onPartitionError(state: PartitionState, offset: number, code: number): void {
    const error = errorFromCode(code, undefined, { topic: state.topic, partition: state.partition, offset });
    if (code === Errors.OFFSET_OUT_OF_RANGE.code) {
      const reset = this.options.autoOffsetReset;
      if (reset !== 'none') {
        this.options.logger.info({ topic: state.topic, partition: state.partition, offset, reset }, 'offset out of range; resetting');
        state.position = null;
        state.resetTo = reset === 'earliest' ? EARLIEST : LATEST;
        return;
      }
      state.error = new RillError(
        Errors.OFFSET_OUT_OF_RANGE,
        `offset ${offset} is out of range for ${state.topic}-${state.partition}; seek to a valid offset (or set autoOffsetReset)`,
        { topic: state.topic, partition: state.partition, offset },
      );
      this.options.failed(state);
      return;
    }
    if (isStaleMetadata(code)) this.options.cluster.requestRefresh();
    if (error.retriable) {
      this.backOff([state], error);
      return;
    }
    state.error = error;
    this.options.failed(state);
  }

  private backOff(states: PartitionState[], error: RillError): void {
    const { cluster, logger } = this.options;
    const now = Date.now();
    for (const state of states) {
      state.failures++;
      state.retryAt = now + cluster.retry.delay(Math.min(state.failures, 30));
    }
    logger.debug({ err: error.message, partitions: states.length }, 'fetch failed; backing off');
    if (!error.retriable) {
      for (const state of states) {
        state.error = error;
        this.options.failed(state);
      }
      return;
    }
    this.kick();
  }

  /** Resolves 'earliest', 'latest' and time positions with ListOffsets. */
  private resolvePositions(states: PartitionState[]): void {
    const epochs = states.map((s) => s.epoch);
    for (const state of states) state.resolving = true;
    const queries = states.map((s) => ({ topic: s.topic, partition: s.partition, timestamp: s.resetTo }));
    listOffsets(this.options.cluster, queries)
      .then(async (answers) => {
        // A time with no record at or after it means the end of the log, as in kafkajs.
        const missing = answers.filter((a) => a.offset < 0).map((a) => ({ topic: a.topic, partition: a.partition, timestamp: LATEST }));
        const latest = missing.length === 0 ? [] : await listOffsets(this.options.cluster, missing);
        let j = 0;
        states.forEach((state, i) => {
          state.resolving = false;
          const offset = answers[i].offset >= 0 ? answers[i].offset : latest[j++].offset;
          if (state.epoch === epochs[i] && state.position === null) state.position = offset;
        });
      })
      .catch((error: unknown) => {
        for (const state of states) state.resolving = false;
        this.backOff(states, error instanceof RillError ? error : new RillError(Errors.UNKNOWN_SERVER_ERROR, String(error)));
      })
      .finally(() => this.kick());
  }
}
