// Checking a producer's record set before it is appended: each batch's frame and size, and, for
// idempotent producers, each batch's sequence against the producer state, which also spots a
// retry of batches already in the log. And recording the appended batches in that state.
// Owner thread only.

import { Errors, RillError } from '../errors.js';
import { LAST_OFFSET_DELTA, MAX_TIMESTAMP, batchSize } from './batch-layout.js';
import { checkProducedBatch } from './batch-validator.js';
import { readInt32, readInt64 } from './bytes.js';
import { batchProducer, type BatchProducer, type ProducerStateTable } from './producer-state.js';

export interface ProducedRecordSet {
  batches: number;
  recordCount: number;
  maxTimestamp: number;
  /** Per batch, its producer fields when it is to be recorded; null for a set without idempotent batches. */
  producerBatches: (BatchProducer | null)[] | null;
  /** Where the batches went the first time, when the whole set is a retry; nothing is appended then. */
  duplicate: { baseOffset: number; lastOffset: number } | null;
}

/** Throws a RillError (INVALID_RECORD, CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, sequence errors) for a set that must not be appended. */
export function checkProducedRecordSet(records: Uint8Array, maxMessageBytes: number, producers: ProducerStateTable): ProducedRecordSet {
  let pos = 0;
  let batches = 0;
  let recordCount = 0;
  let maxTimestamp = -Infinity;
  // Producer fields per batch, only for record sets from idempotent producers (kept off the
  // plain path); duplicate* describe batches that are retries of batches already appended.
  let producerBatches: (BatchProducer | null)[] | null = null;
  let duplicateCount = 0;
  let duplicateBase = -1;
  let duplicateLast = -1;
  while (pos < records.length) {
    const size = checkProducedBatch(records, pos, records.length - pos);
    if (typeof size !== 'number') throw new RillError(size.spec, `batch ${batches} at byte ${pos}: ${size.reason}`);
    if (size > maxMessageBytes) {
      throw new RillError(Errors.MESSAGE_TOO_LARGE, `batch ${batches} is ${size} bytes; max.message.bytes is ${maxMessageBytes}`);
    }
    const producer = batchProducer(records, pos);
    if (producer !== null) {
      producerBatches ??= new Array<BatchProducer | null>(batches).fill(null);
      const pending = producerBatches.filter((b): b is BatchProducer => b !== null);
      const verdict = producers.check(producer, pending);
      if (verdict.kind === 'duplicate') {
        if (duplicateCount++ === 0) duplicateBase = verdict.batch.baseOffset;
        duplicateLast = verdict.batch.lastOffset;
      }
      producerBatches.push(verdict.kind === 'append' ? producer : null);
    } else if (producerBatches !== null) {
      producerBatches.push(null);
    }
    recordCount += readInt32(records, pos + LAST_OFFSET_DELTA) + 1;
    maxTimestamp = Math.max(maxTimestamp, readInt64(records, pos + MAX_TIMESTAMP));
    pos += size;
    batches++;
  }
  if (duplicateCount > 0) {
    // A retry is answered only as a whole: a record set mixing retried and new batches is not
    // something a producer sends, and appending half of it would break the sequence rules.
    if (duplicateCount !== batches) {
      throw new RillError(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER, `record set mixes ${duplicateCount} retried batches with ${batches - duplicateCount} new ones`);
    }
    return { batches, recordCount, maxTimestamp, producerBatches, duplicate: { baseOffset: duplicateBase, lastOffset: duplicateLast } };
  }
  return { batches, recordCount, maxTimestamp, producerBatches, duplicate: null };
}

export function recordProducedBatches(table: ProducerStateTable, records: Uint8Array, producers: readonly (BatchProducer | null)[], baseOffset: number, now: number): void {
  let pos = 0;
  let offset = baseOffset;
  for (const producer of producers) {
    const count = readInt32(records, pos + LAST_OFFSET_DELTA) + 1;
    if (producer !== null) table.record(producer, offset, offset + count - 1, now);
    offset += count;
    pos += batchSize(records, pos);
  }
}
