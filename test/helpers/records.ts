// Record batches with recognisable content, so a test can tell any record by its offset.

import { decodeRecordBatches, encodeRecordBatch, type PartitionLog } from '../../src/storage/index.js';

/** The value a test writes for the record that is expected at `offset`. */
export function valueFor(offset: number, size = 100): string {
  const head = `record-${offset}-`;
  return head + 'x'.repeat(Math.max(0, size - head.length));
}

/** A batch of `count` records whose values say their expected offsets from `firstOffset` on. */
export function batchOf(firstOffset: number, count: number, options: { size?: number; timestamp?: number } = {}): Uint8Array {
  return encodeRecordBatch({
    records: Array.from({ length: count }, (_, i) => ({
      key: `key-${firstOffset + i}`,
      value: valueFor(firstOffset + i, options.size),
      timestamp: options.timestamp,
    })),
  });
}

export const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString('utf8'));

/**
 * Reads every record from `from` (default: the log start) to the log end and checks that each
 * holds the value written for its offset; returns the offsets read, in order. Throws on a wrong
 * value, so it serves test processes without vitest too.
 */
export function readBack(log: PartitionLog, { from = log.logStartOffset, maxBytes = 1 << 20 } = {}): number[] {
  const offsets: number[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const result = log.read(offset, maxBytes);
    if (result.records.length === 0) throw new Error(`empty read at ${offset} below the log end ${log.logEndOffset}`);
    for (const batch of decodeRecordBatches(result.records)) {
      for (const record of batch.records) {
        if (record.offset < offset) continue;
        if (text(record.value) !== valueFor(record.offset)) throw new Error(`record ${record.offset} holds ${text(record.value)?.slice(0, 30)}`);
        offsets.push(record.offset);
      }
    }
    offset = result.nextOffset;
  }
  return offsets;
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
