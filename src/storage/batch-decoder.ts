// Decodes record batches (RecordBatch v2, see batch-layout.ts). Any thread.
// Keys, values and header values are Buffer views into the input (no copy): copy them to keep them
// beyond the life of the buffer, in particular of a mapped segment. Records without headers share
// one frozen empty array: one allocation fewer per record.

import {
  ATTRIBUTES,
  BATCH_HEADER_SIZE,
  COMPRESSION_MASK,
  CONTROL_BIT,
  LOG_OVERHEAD,
  Compression,
  RECORDS,
  TIMESTAMP_TYPE_BIT,
  TRANSACTIONAL_BIT,
  TimestampType,
  readBatchHeader,
  type BatchHeader,
} from './batch-layout.js';
import { checkBatchFrame } from './batch-validator.js';
import { bufferView } from './buffer-view.js';
import { readInt16 } from './bytes.js';
import { VarintError, readVarint, readVarlong, type Cursor } from './varint.js';
import { Errors, RillError } from '../errors.js';

export interface DecodedHeader {
  key: string;
  value: Uint8Array | null;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: DecodedHeader[];
}

export interface DecodedBatch extends BatchHeader {
  compression: Compression;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  records: DecodedRecord[];
}

const decoder = new TextDecoder('utf-8', { fatal: true });

const NO_HEADERS: DecodedHeader[] = Object.freeze([]) as unknown as DecodedHeader[];

function invalid(reason: string): RillError {
  return new RillError(Errors.INVALID_RECORD, reason);
}

function readNullable(buf: Uint8Array, cursor: Cursor, end: number, what: string): Buffer | null {
  const length = readVarint(buf, cursor, end);
  if (length === -1) return null;
  if (length < -1 || cursor.pos + length > end) throw invalid(`${what} length ${length} runs past its record`);
  const bytes = bufferView(buf, cursor.pos, length);
  cursor.pos += length;
  return bytes;
}

/**
 * Which records of a batch to materialise. A reader that wants 100 records from offset o need not
 * build objects for the rest: a batch the HTTP produce path coalesced holds thousands.
 */
export interface RecordWindow {
  /** Records below this offset are stepped over by their length prefix, not decoded. */
  fromOffset?: number;
  /** Decoding stops once this many records are decoded. */
  maxRecords?: number;
}

/**
 * Decodes the batch at `pos`: checks its frame (length, magic, CRC) first, then every record, or,
 * with a window, only the records in it (then `records` holds just those).
 * Throws RillError INVALID_RECORD (or UNSUPPORTED_COMPRESSION_TYPE) naming what is wrong.
 */
export function decodeRecordBatch(buf: Uint8Array, pos = 0, window?: RecordWindow): DecodedBatch {
  const size = checkBatchFrame(buf, pos, buf.length - pos);
  if (typeof size !== 'number') throw new RillError(size.spec, size.reason);
  const header = readBatchHeader(buf, pos);
  const attributes = readInt16(buf, pos + ATTRIBUTES);
  const compression = attributes & COMPRESSION_MASK;
  if (compression !== Compression.None) {
    throw new RillError(Errors.UNSUPPORTED_COMPRESSION_TYPE, `compression ${Compression[compression] ?? compression} is not supported`);
  }
  if (header.recordCount < 0 || header.recordCount > size - BATCH_HEADER_SIZE) {
    throw invalid(`record count ${header.recordCount} does not fit a ${size}-byte batch`);
  }
  const end = pos + size;
  const fromOffset = window?.fromOffset ?? -Infinity;
  const maxRecords = window?.maxRecords ?? header.recordCount;
  const records: DecodedRecord[] = new Array(Math.max(0, Math.min(header.recordCount, maxRecords)));
  let decoded = 0;
  let i = 0;
  const cursor: Cursor = { pos: pos + RECORDS };
  try {
    for (; i < header.recordCount && decoded < maxRecords; i++) {
      const length = readVarint(buf, cursor, end);
      const recordEnd = cursor.pos + length;
      if (length < 1 || recordEnd > end) throw invalid(`record ${i} length ${length} runs past the batch`);
      cursor.pos++; // record attributes: unused
      const timestampDelta = readVarlong(buf, cursor, recordEnd);
      const offsetDelta = readVarint(buf, cursor, recordEnd);
      if (header.baseOffset + offsetDelta < fromOffset) {
        cursor.pos = recordEnd;
        continue;
      }
      const key = readNullable(buf, cursor, recordEnd, 'key');
      const value = readNullable(buf, cursor, recordEnd, 'value');
      const headerCount = readVarint(buf, cursor, recordEnd);
      if (headerCount < 0 || headerCount > recordEnd - cursor.pos) throw invalid(`record ${i} header count ${headerCount} is invalid`);
      const headers: DecodedHeader[] = headerCount === 0 ? NO_HEADERS : new Array(headerCount);
      for (let h = 0; h < headerCount; h++) {
        const keyBytes = readNullable(buf, cursor, recordEnd, 'header key');
        if (keyBytes === null) throw invalid(`record ${i} header ${h} has a null key`);
        let headerKey: string;
        try {
          headerKey = decoder.decode(keyBytes);
        } catch {
          throw invalid(`record ${i} header ${h} key is not valid UTF-8`);
        }
        headers[h] = { key: headerKey, value: readNullable(buf, cursor, recordEnd, 'header value') };
      }
      if (cursor.pos !== recordEnd) throw invalid(`record ${i} has ${recordEnd - cursor.pos} bytes beyond its fields`);
      records[decoded++] = {
        offset: header.baseOffset + offsetDelta,
        timestamp: header.baseTimestamp + timestampDelta,
        key,
        value,
        headers,
      };
    }
  } catch (error) {
    if (error instanceof VarintError) throw invalid(error.message);
    throw error;
  }
  records.length = decoded; // fewer when records were stepped over
  // Only a walk to the last record can tell whether bytes follow it.
  if (i === header.recordCount && cursor.pos !== end) throw invalid(`${end - cursor.pos} bytes follow the last record of the batch`);
  return {
    ...header,
    compression,
    timestampType: attributes & TIMESTAMP_TYPE_BIT ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    isTransactional: (attributes & TRANSACTIONAL_BIT) !== 0,
    isControl: (attributes & CONTROL_BIT) !== 0,
    records,
  };
}

/** Decodes every batch of a record set (whole batches back to back, as PartitionLog.read returns). */
export function decodeRecordBatches(buf: Uint8Array): DecodedBatch[] {
  const batches: DecodedBatch[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const batch = decodeRecordBatch(buf, pos);
    batches.push(batch);
    pos += LOG_OVERHEAD + batch.batchLength;
  }
  return batches;
}
