// Rewriting one record batch without some of its records, for log compaction. Any thread.
//
// The cleaner never renumbers anything (Kafka's rule, which consumers and the producer state rely
// on): a rewritten batch keeps its baseOffset, lastOffsetDelta, baseTimestamp, maxTimestamp,
// attributes and producer fields (id, epoch, baseSequence), and each kept record keeps its bytes,
// so its offsetDelta and timestampDelta still say the same offset and time. Only batchLength,
// recordCount and the CRC change. A batch thus still spans the offsets it spanned (gaps appear
// inside it), its producer's sequence range is unchanged, and readers need no special case.
//
// Only uncompressed batches exist in Rill (the encoder refuses codecs), so records are contiguous
// byte ranges after the header: the compactor walks record lengths, it does not decode values.

import { ATTRIBUTES, BATCH_LENGTH, COMPRESSION_MASK, CRC, CRC_START, LOG_OVERHEAD, RECORDS, RECORD_COUNT, batchBaseOffset, batchSize } from './batch-layout.js';
import { readInt16, readInt32, writeInt32 } from './bytes.js';
import { crc32c } from '../native/index.js';
import { readVarint, readVarlong, type Cursor } from './varint.js';

/** One record of a batch as the cleaner sees it: where it is, its offset, key and whether it is a tombstone. */
export interface RecordView {
  /** Byte range of the whole record (length varint included) within the batch. */
  start: number;
  end: number;
  offset: number;
  key: Uint8Array | null;
  tombstone: boolean;
}

/** Thrown for a batch whose records do not parse (the segment is corrupt there). */
export class BadBatchError extends Error {}

/** The records of the batch at `pos` of `buf` (a CRC-checked frame), in order. */
export function batchRecords(buf: Uint8Array, pos: number): RecordView[] {
  const size = batchSize(buf, pos);
  if ((readInt16(buf, pos + ATTRIBUTES) & COMPRESSION_MASK) !== 0) throw new BadBatchError('compressed batches cannot be compacted');
  const base = batchBaseOffset(buf, pos);
  const count = readInt32(buf, pos + RECORD_COUNT);
  const batchEnd = pos + size;
  const views: RecordView[] = new Array(count);
  const cursor: Cursor = { pos: pos + RECORDS };
  for (let i = 0; i < count; i++) {
    const start = cursor.pos;
    const length = readVarint(buf, cursor, batchEnd);
    const end = cursor.pos + length;
    if (length < 0 || end > batchEnd) throw new BadBatchError(`record ${i} of the batch at offset ${base} runs past the batch`);
    cursor.pos += 1; // record attributes
    readVarlong(buf, cursor, end); // timestampDelta
    const offsetDelta = readVarint(buf, cursor, end);
    const keyLength = readVarint(buf, cursor, end);
    let key: Uint8Array | null = null;
    if (keyLength >= 0) {
      key = buf.subarray(cursor.pos, cursor.pos + keyLength);
      cursor.pos += keyLength;
    }
    const valueLength = readVarint(buf, cursor, end);
    views[i] = { start: start - pos, end: end - pos, offset: base + offsetDelta, key, tombstone: valueLength === -1 };
    cursor.pos = end;
  }
  return views;
}

/**
 * The batch at `pos` holding only `kept` (a subsequence of batchRecords(buf, pos)), as a new
 * buffer with its length, count and CRC fixed. `kept` may be empty: an empty batch still carries
 * its offsets and producer fields (kept for the producer state, see log-cleaner.ts).
 */
export function rewriteBatch(buf: Uint8Array, pos: number, kept: readonly RecordView[]): Uint8Array {
  let size = RECORDS;
  for (const r of kept) size += r.end - r.start;
  const out = new Uint8Array(size);
  out.set(buf.subarray(pos, pos + RECORDS), 0);
  let at = RECORDS;
  for (const r of kept) {
    out.set(buf.subarray(pos + r.start, pos + r.end), at);
    at += r.end - r.start;
  }
  writeInt32(out, BATCH_LENGTH, size - LOG_OVERHEAD);
  writeInt32(out, RECORD_COUNT, kept.length);
  writeInt32(out, CRC, crc32c(out, CRC_START, size - CRC_START));
  return out;
}
