// Record batches with recognisable content, so a test can tell any record by its offset.

import { encodeRecordBatch } from '../../src/storage/index.js';

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
