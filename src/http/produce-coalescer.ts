// Coalesces the messages that concurrent HTTP produce requests send to one partition into one
// record batch per event-loop turn. Main thread.
//
// Why: an HTTP request usually carries one or a few messages, and a batch per request costs an
// owner round trip per message: an encode, a CRC, a ring entry, an owner wake-up and a log append
// each. 32 connections producing single messages put ~32 requests in each turn of the loop; one
// batch for all of them costs one of each. This is what a Kafka REST proxy gets from its
// producer's batching; here the linger is a single setImmediate, so no request waits for a timer.
//
// Under load the linger grows by itself, as Nagle's algorithm does on a socket: while an owner
// still works on MAX_IN_FLIGHT_PER_SLOT acks=1 batches from here, the next batches for it wait
// (taking every request that arrives meanwhile) and go as soon as one is answered. An idle broker
// sends each batch at the end of its turn as before; a loaded one sends fewer, larger batches.
// What that saves is mostly wake-ups: each batch that finds its owner asleep costs the main
// thread an Atomics.notify, measured at ~45 µs on the loaded 2-core VM (the woken owner takes the
// core), more than the rest of a request's work here. acks=0 batches are not held: nothing comes
// back to release them.
//
// Guarantees: a request's messages for a partition stay contiguous and in order inside one batch,
// so its offsets are `baseOffset + i`; a batch is acknowledged (or fails) as a whole, and every
// request in it gets that answer. A batch never exceeds the topic's max.message.bytes nor
// max.frame.bytes: a request that would push it over goes into the next batch, and a batch that
// still encodes too large is split between requests. A single request too large on its own fails
// alone with MESSAGE_TOO_LARGE. Pending batches are bounded by the requests in flight, which
// node:http bounds at one per connection.

import { type OwnerRouter } from '../broker/owner-router.js';
import { OwnerKind, type ErrorResult, type ProduceResultMeta } from '../broker/owner-messages.js';
import { Errors } from '../errors.js';
import { encodeRecordBatch, type RecordInput } from '../storage/index.js';

/** What one request's share of a batch resolves with. */
export interface Appended extends ErrorResult {
  /** The request's first offset (-1 on failure, and with acks=0). */
  baseOffset: number;
  /** The request's share of the batch's bytes (for the bytes-in metric). */
  batchBytes: number;
}

interface Share {
  records: RecordInput[];
  resolve(result: Appended): void;
  cancelled: () => boolean;
}

interface Pending {
  topic: string;
  partition: number;
  slot: number;
  acks: 0 | 1;
  limit: number;
  shares: Share[];
  /** Rough encoded size, to start a new batch before the limit (the exact check is at encode). */
  estimate: number;
}

/** acks=1 batches an owner may be working on before the next ones for it wait (see the top). */
export const MAX_IN_FLIGHT_PER_SLOT = 1;

/** Per-record overhead of RecordBatch v2 beyond key, value and headers (varints, attributes). */
const RECORD_OVERHEAD = 24;
const BATCH_OVERHEAD = 61;

function estimateRecords(records: readonly RecordInput[]): number {
  let n = 0;
  for (const r of records) {
    n += RECORD_OVERHEAD + size(r.key) + size(r.value);
    if (r.headers !== undefined) for (const h of r.headers) n += 10 + h.key.length * 3 + size(h.value);
  }
  return n;
}

function size(bytes: Uint8Array | string | null | undefined): number {
  if (bytes === null || bytes === undefined) return 0;
  // Up to 3 UTF-8 bytes per UTF-16 unit: an over-estimate only starts a batch early.
  return typeof bytes === 'string' ? bytes.length * 3 : bytes.length;
}

/** The shares' records in order. A plain loop: `flatMap` was 7% of the main thread's time at 100-message requests. */
function concatRecords(shares: readonly Share[]): RecordInput[] {
  let n = 0;
  for (const share of shares) n += share.records.length;
  const records = new Array<RecordInput>(n);
  let i = 0;
  for (const share of shares) for (const r of share.records) records[i++] = r;
  return records;
}

export class ProduceCoalescer {
  private readonly router: OwnerRouter;
  private readonly pending = new Map<string, Pending>();
  private scheduled = false;
  /** acks=1 batches sent to each owner slot and not answered yet. */
  private readonly inFlight = new Map<number, number>();
  /** Per topic: the partition keyless messages go to until a batch for it is sent. */
  private readonly sticky = new Map<string, number>();

  constructor(router: OwnerRouter) {
    this.router = router;
  }

  /**
   * Adds one request's records for a partition; resolves once their batch is answered (acks=1)
   * or handed to the owner (acks=0). `limit`: the largest batch allowed, in bytes.
   */
  append(topic: string, partition: number, slot: number, acks: 0 | 1, limit: number, records: RecordInput[], cancelled: () => boolean): Promise<Appended> {
    const key = `${topic}\u0000${partition}\u0000${acks}`;
    const estimate = estimateRecords(records);
    let batch = this.pending.get(key);
    if (batch !== undefined && batch.estimate + estimate > limit) {
      this.pending.delete(key);
      this.flush(batch);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = { topic, partition, slot, acks, limit, shares: [], estimate: BATCH_OVERHEAD };
      this.pending.set(key, batch);
    }
    batch.estimate += estimate;
    const pending = batch;
    const appended = new Promise<Appended>((resolve) => pending.shares.push({ records, resolve, cancelled }));
    this.schedule();
    return appended;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flushAll());
  }

  /**
   * The partition for keyless messages of `topic`: the same for every request until a batch for
   * it is sent, so that their messages coalesce into one batch, then the next partition. This is
   * Kafka's sticky partitioner (KIP-480). An idle broker sends a batch every event-loop turn, so
   * the partition moves on each turn; a loaded one holds batches (see the top) and the partition
   * stays while they wait. (Rotating per request put a turn's 32 single-message requests into 8
   * batches for 8 partitions: 8 encodes, 8 ring entries, 8 appends where one does.) `usable`
   * passes over partitions the messages cannot go to (in a cluster, those another node leads).
   */
  keylessPartition(topic: string, partitions: number, usable: (partition: number) => boolean = () => true): number {
    const sticky = (this.sticky.get(topic) ?? 0) % partitions;
    for (let k = 0; k < partitions; k++) {
      const p = (sticky + k) % partitions;
      if (!usable(p)) continue;
      if (p !== this.sticky.get(topic)) this.sticky.set(topic, p);
      return p;
    }
    return sticky;
  }

  /** Sends every pending batch whose owner may take one: all acks=0 ones, acks=1 ones within the bound. */
  private flushAll(): void {
    this.scheduled = false;
    for (const [key, batch] of this.pending) {
      if (batch.acks === 1 && (this.inFlight.get(batch.slot) ?? 0) >= MAX_IN_FLIGHT_PER_SLOT) continue;
      this.pending.delete(key);
      this.flush(batch);
    }
  }

  private flush(batch: Pending): void {
    const sticky = this.sticky.get(batch.topic) ?? 0;
    if (sticky === batch.partition) this.sticky.set(batch.topic, sticky + 1);
    this.send(batch, batch.shares.filter((s) => !s.cancelled()));
  }

  /** Encodes the shares as one batch (split in two while too large) and sends it. */
  private send(batch: Pending, shares: Share[]): void {
    if (shares.length === 0) return;
    const records = shares.length === 1 ? shares[0].records : concatRecords(shares);
    const bytes = encodeRecordBatch({ records });
    if (bytes.length > batch.limit) {
      if (shares.length > 1) {
        const half = shares.length >> 1;
        this.send(batch, shares.slice(0, half));
        this.send(batch, shares.slice(half));
        return;
      }
      shares[0].resolve({
        errorCode: Errors.MESSAGE_TOO_LARGE.code,
        message: `the ${records.length} messages for partition ${batch.partition} make a ${bytes.length}-byte batch, over the ${batch.limit} bytes allowed (the topic's max.message.bytes, at most max.frame.bytes)`,
        baseOffset: -1,
        batchBytes: bytes.length,
      });
      return;
    }
    const request = this.router.request(batch.slot, OwnerKind.Produce, { topic: batch.topic, partition: batch.partition, acks: batch.acks }, bytes, () => shares.every((s) => s.cancelled()));
    const settle = (meta: unknown) => {
      const result = meta as ProduceResultMeta;
      let base = result.baseOffset;
      for (const share of shares) {
        const batchBytes = shares.length === 1 ? bytes.length : Math.round((bytes.length * share.records.length) / records.length);
        share.resolve(result.errorCode === 0 ? { errorCode: 0, baseOffset: base, batchBytes } : { errorCode: result.errorCode, message: result.message, baseOffset: -1, batchBytes });
        base += share.records.length;
      }
    };
    if (batch.acks === 1) {
      this.inFlight.set(batch.slot, (this.inFlight.get(batch.slot) ?? 0) + 1);
      void request.answer.then((meta) => {
        this.inFlight.set(batch.slot, this.inFlight.get(batch.slot)! - 1);
        // Batches held for this owner go in the next turn, with whatever else arrives in this one.
        if (this.pending.size > 0) this.schedule();
        settle(meta);
      });
      return;
    }
    // acks=0: answered once the batch is in the ring; a later failure is only logged by the caller.
    const sent = () => {
      for (const share of shares) share.resolve({ errorCode: 0, baseOffset: -1, batchBytes: Math.round((bytes.length * share.records.length) / records.length) });
    };
    if (request.sent === null) sent();
    else void request.sent.then(sent);
  }
}
