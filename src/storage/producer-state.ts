// Idempotent-producer state of one partition: per producer id, its epoch and the sequence ranges
// and offsets of the last batches appended. Owner thread only (it lives inside a PartitionLog).
//
// This is what makes a producer's retries safe (Kafka's ProducerStateManager plays the same part):
// a batch carries (producerId, producerEpoch, baseSequence) in its RecordBatch v2 header, and
//   - a batch that repeats one of the last MAX_CACHED_BATCHES batches of its producer is a retry of
//     a batch already in the log: it is answered with that batch's offsets and not appended again;
//   - a batch whose baseSequence is not the one after the producer's last is refused
//     (OUT_OF_ORDER_SEQUENCE_NUMBER), so a gap left by a failed batch is never papered over;
//   - an epoch older than the producer's current one is refused (INVALID_PRODUCER_EPOCH): a newer
//     instance of that producer has taken over;
//   - a producer the partition knows nothing of must start at sequence 0 (UNKNOWN_PRODUCER_ID
//     otherwise: its state expired or was removed with old segments, and it has to bump its epoch).
// Five cached batches match the client's cap of five in-flight batches per partition.
//
// The state is derived from the log: it is rebuilt by reading the batch headers after a snapshot
// (producer-snapshot.ts), so it needs no write of its own on the append path.

import { Errors, RillError } from '../errors.js';
import { BASE_SEQUENCE, LAST_OFFSET_DELTA, NO_PRODUCER_ID, PRODUCER_EPOCH, PRODUCER_ID } from './batch-layout.js';
import { readInt16, readInt32, readInt64 } from './bytes.js';

/** Batches remembered per producer for spotting retries; a client keeps at most this many in flight. */
export const MAX_CACHED_BATCHES = 5;

const MAX_SEQUENCE = 0x7fffffff;

/** One appended batch of a producer. */
export interface ProducerBatch {
  firstSequence: number;
  lastSequence: number;
  baseOffset: number;
  lastOffset: number;
}

export interface ProducerEntry {
  epoch: number;
  /** Oldest first; at most MAX_CACHED_BATCHES. Empty after an epoch bump until the first batch. */
  batches: ProducerBatch[];
  /** Broker clock (ms) when the producer last appended; drives producer.id.expiration.ms. */
  lastSeen: number;
}

/** A batch's producer fields, read from its header. */
export interface BatchProducer {
  producerId: number;
  epoch: number;
  firstSequence: number;
  lastSequence: number;
}

/** The sequence `count - 1` after `first`, wrapping from 2^31-1 to 0 as Kafka's sequences do. */
export function sequenceAfter(first: number, count: number): number {
  const last = first + count;
  return last > MAX_SEQUENCE ? last - MAX_SEQUENCE - 1 : last;
}

/** The producer fields of the batch at `pos`, or null for a batch of no idempotent producer. */
export function batchProducer(buf: Uint8Array, pos: number): BatchProducer | null {
  const producerId = readInt64(buf, pos + PRODUCER_ID);
  if (producerId === NO_PRODUCER_ID) return null;
  const epoch = readInt16(buf, pos + PRODUCER_EPOCH);
  const firstSequence = readInt32(buf, pos + BASE_SEQUENCE);
  const lastOffsetDelta = readInt32(buf, pos + LAST_OFFSET_DELTA);
  return { producerId, epoch, firstSequence, lastSequence: sequenceAfter(firstSequence, lastOffsetDelta) };
}

/** What to do with a produced batch. */
export type ProducerVerdict = { kind: 'append' } | { kind: 'duplicate'; batch: ProducerBatch };

const APPEND: ProducerVerdict = Object.freeze({ kind: 'append' });

export class ProducerStateTable {
  private readonly producers = new Map<number, ProducerEntry>();

  get size(): number {
    return this.producers.size;
  }

  get(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  entries(): IterableIterator<[number, ProducerEntry]> {
    return this.producers.entries();
  }

  /**
   * Judges a batch about to be appended, given the batches of the same record set that precede it
   * (`pending`, not yet recorded). Throws the refusal as a RillError.
   */
  check(batch: BatchProducer, pending: readonly BatchProducer[] = []): ProducerVerdict {
    const { producerId, epoch, firstSequence } = batch;
    if (producerId < 0 || epoch < 0 || firstSequence < 0) {
      throw new RillError(
        Errors.INVALID_RECORD,
        `a batch of an idempotent producer needs producerId, producerEpoch and baseSequence >= 0, got ${producerId}, ${epoch}, ${firstSequence}`,
      );
    }
    let current: { epoch: number; lastSequence: number | null; batches: readonly ProducerBatch[] } | undefined;
    const entry = this.producers.get(producerId);
    if (entry !== undefined) {
      const last = entry.batches[entry.batches.length - 1];
      current = { epoch: entry.epoch, lastSequence: last?.lastSequence ?? null, batches: entry.batches };
    }
    let followsPending = false;
    for (const earlier of pending) {
      if (earlier.producerId !== producerId) continue;
      followsPending = true;
      const batches = current !== undefined && current.epoch === earlier.epoch ? current.batches : [];
      current = { epoch: earlier.epoch, lastSequence: earlier.lastSequence, batches };
    }

    if (current === undefined) {
      if (firstSequence !== 0) {
        throw new RillError(
          Errors.UNKNOWN_PRODUCER_ID,
          `no state for producer ${producerId} (expired or never seen) and its batch starts at sequence ${firstSequence}, not 0`,
          { producerId, producerEpoch: epoch, baseSequence: firstSequence },
        );
      }
      return APPEND;
    }
    if (epoch < current.epoch) {
      throw new RillError(Errors.INVALID_PRODUCER_EPOCH, `producer ${producerId} epoch ${epoch} is fenced by epoch ${current.epoch}`, {
        producerId,
        producerEpoch: epoch,
        currentEpoch: current.epoch,
      });
    }
    if (epoch > current.epoch) {
      if (firstSequence !== 0) {
        throw new RillError(
          Errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `producer ${producerId} starts epoch ${epoch} at sequence ${firstSequence}; a new epoch starts at 0`,
          { producerId, producerEpoch: epoch, baseSequence: firstSequence },
        );
      }
      return APPEND;
    }
    if (!followsPending) {
      for (const cached of current.batches) {
        if (cached.firstSequence === firstSequence && cached.lastSequence === batch.lastSequence) return { kind: 'duplicate', batch: cached };
      }
    }
    const expected = current.lastSequence === null ? 0 : sequenceAfter(current.lastSequence, 1);
    if (firstSequence !== expected) {
      throw new RillError(
        Errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `producer ${producerId} epoch ${epoch}: expected sequence ${expected}, got ${firstSequence}`,
        { producerId, producerEpoch: epoch, expectedSequence: expected, baseSequence: firstSequence },
      );
    }
    return APPEND;
  }

  /** Records an appended batch (or one read back from the log while rebuilding). */
  record(batch: BatchProducer, baseOffset: number, lastOffset: number, now: number): void {
    let entry = this.producers.get(batch.producerId);
    if (entry === undefined || batch.epoch !== entry.epoch) {
      entry = { epoch: batch.epoch, batches: [], lastSeen: now };
      this.producers.set(batch.producerId, entry);
    }
    entry.lastSeen = now;
    entry.batches.push({ firstSequence: batch.firstSequence, lastSequence: batch.lastSequence, baseOffset, lastOffset });
    if (entry.batches.length > MAX_CACHED_BATCHES) entry.batches.shift();
  }

  /** Restores an entry from a snapshot. */
  restore(producerId: number, entry: ProducerEntry): void {
    this.producers.set(producerId, entry);
  }

  /**
   * Forgets producers idle for longer than `expirationMs`, and those whose every remembered batch
   * lies below `logStartOffset` (retention deleted them: their retries could not be recognised).
   * Returns how many were removed.
   */
  expire(now: number, expirationMs: number, logStartOffset: number): number {
    let removed = 0;
    for (const [producerId, entry] of this.producers) {
      const last = entry.batches[entry.batches.length - 1];
      const idle = now - entry.lastSeen > expirationMs;
      const deleted = last !== undefined && last.lastOffset < logStartOffset;
      if (idle || deleted) {
        this.producers.delete(producerId);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.producers.clear();
  }
}
