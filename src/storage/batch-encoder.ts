// Encodes record batches (RecordBatch v2, see batch-layout.ts). Any thread.
// Two passes: sizes first, so the batch is written into one exactly-sized buffer.
//
// String keys, values and headers are measured with Buffer.byteLength and written straight into
// the batch, not encoded into a Uint8Array of their own first: the HTTP front encodes every JSON
// message this way on the main thread, and the intermediate arrays (TextEncoder.encode) were
// its largest cost for 100-message requests (~15% of the thread). Both ways write the same
// bytes, lone surrogates included (U+FFFD).

import {
  ATTRIBUTES,
  BASE_OFFSET,
  BASE_SEQUENCE,
  BASE_TIMESTAMP,
  BATCH_LENGTH,
  CONTROL_BIT,
  CRC,
  CRC_START,
  CURRENT_MAGIC,
  Compression,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAGIC,
  MAX_TIMESTAMP,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH,
  PRODUCER_EPOCH,
  PRODUCER_ID,
  RECORDS,
  RECORD_COUNT,
  TIMESTAMP_TYPE_BIT,
  TRANSACTIONAL_BIT,
  TimestampType,
} from './batch-layout.js';
import { writeInt16, writeInt32, writeInt64 } from './bytes.js';
import { varintSize, varlongSize, writeVarint, writeVarlong } from './varint.js';
import { crc32c } from '../native/index.js';
import { Errors, RillError } from '../errors.js';

export type Bytes = Uint8Array | string;

export interface HeaderInput {
  key: string;
  value: Bytes | null;
}

export interface RecordInput {
  key?: Bytes | null;
  value: Bytes | null;
  headers?: readonly HeaderInput[];
  /** Milliseconds since the epoch; defaults to the batch's `timestamp` option, else Date.now(). */
  timestamp?: number;
}

export interface BatchInput {
  records: readonly RecordInput[];
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  timestampType?: TimestampType;
  /** Only Compression.None is implemented; other codecs are refused rather than mislabelled. */
  compression?: Compression;
  isTransactional?: boolean;
  isControl?: boolean;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** Default timestamp for records without one. */
  timestamp?: number;
}

/** A key, value or header field with its encoded length (-1: null). */
interface Field {
  data: Bytes | null;
  length: number;
}

const NULL_FIELD: Field = { data: null, length: -1 };

function fieldOf(data: Bytes | null): Field {
  if (data === null) return NULL_FIELD;
  return { data, length: typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length };
}

function fieldSize(field: Field): number {
  return field.length < 0 ? varintSize(-1) : varintSize(field.length) + field.length;
}

/** Writes the field's bytes (no length); `text` is a Buffer over the same memory as `buf`. */
function writeBytes(buf: Uint8Array, text: Buffer, pos: number, field: Field): number {
  const data = field.data!;
  if (typeof data === 'string') text.write(data, pos, field.length, 'utf8');
  else buf.set(data, pos);
  return pos + field.length;
}

function writeNullable(buf: Uint8Array, text: Buffer, pos: number, field: Field): number {
  if (field.length < 0) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, field.length);
  return writeBytes(buf, text, pos, field);
}

interface PreparedRecord {
  key: Field;
  value: Field;
  headers: { key: Field; value: Field }[];
  timestampDelta: number;
  bodySize: number;
}

/** Encodes one batch; its CRC is computed, its baseOffset is whatever `input` says (default 0). */
export function encodeRecordBatch(input: BatchInput): Uint8Array {
  const { records } = input;
  if (records.length === 0) throw new RillError(Errors.INVALID_RECORD, 'a batch needs at least one record');
  const compression = input.compression ?? Compression.None;
  if (compression !== Compression.None) {
    throw new RillError(Errors.UNSUPPORTED_COMPRESSION_TYPE, `compression ${Compression[compression]} is not implemented`);
  }
  const now = input.timestamp ?? Date.now();
  let baseTimestamp = Infinity;
  let maxTimestamp = -Infinity;
  for (const record of records) {
    const ts = record.timestamp ?? now;
    if (ts < baseTimestamp) baseTimestamp = ts;
    if (ts > maxTimestamp) maxTimestamp = ts;
  }

  const prepared: PreparedRecord[] = new Array(records.length);
  let size = RECORDS;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const key = fieldOf(record.key ?? null);
    const value = fieldOf(record.value);
    const headers = record.headers === undefined || record.headers.length === 0 ? [] : record.headers.map((h) => ({ key: fieldOf(h.key), value: fieldOf(h.value) }));
    const timestampDelta = (record.timestamp ?? now) - baseTimestamp;
    let bodySize = 1 + varlongSize(timestampDelta) + varintSize(i) + fieldSize(key) + fieldSize(value);
    bodySize += varintSize(headers.length);
    for (const h of headers) bodySize += varintSize(h.key.length) + h.key.length + fieldSize(h.value);
    prepared[i] = { key, value, headers, timestampDelta, bodySize };
    size += varintSize(bodySize) + bodySize;
  }

  const buf = new Uint8Array(size);
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  writeInt64(buf, BASE_OFFSET, input.baseOffset ?? 0);
  writeInt32(buf, BATCH_LENGTH, size - LOG_OVERHEAD);
  writeInt32(buf, PARTITION_LEADER_EPOCH, input.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH);
  buf[MAGIC] = CURRENT_MAGIC;
  let attributes = compression;
  if (input.timestampType === TimestampType.LogAppendTime) attributes |= TIMESTAMP_TYPE_BIT;
  if (input.isTransactional) attributes |= TRANSACTIONAL_BIT;
  if (input.isControl) attributes |= CONTROL_BIT;
  writeInt16(buf, ATTRIBUTES, attributes);
  writeInt32(buf, LAST_OFFSET_DELTA, records.length - 1);
  writeInt64(buf, BASE_TIMESTAMP, baseTimestamp);
  writeInt64(buf, MAX_TIMESTAMP, maxTimestamp);
  writeInt64(buf, PRODUCER_ID, input.producerId ?? NO_PRODUCER_ID);
  writeInt16(buf, PRODUCER_EPOCH, input.producerEpoch ?? NO_PRODUCER_EPOCH);
  writeInt32(buf, BASE_SEQUENCE, input.baseSequence ?? NO_SEQUENCE);
  writeInt32(buf, RECORD_COUNT, records.length);

  let pos = RECORDS;
  for (let i = 0; i < prepared.length; i++) {
    const r = prepared[i];
    pos = writeVarint(buf, pos, r.bodySize);
    buf[pos++] = 0; // record attributes: unused in v2
    pos = writeVarlong(buf, pos, r.timestampDelta);
    pos = writeVarint(buf, pos, i);
    pos = writeNullable(buf, text, pos, r.key);
    pos = writeNullable(buf, text, pos, r.value);
    pos = writeVarint(buf, pos, r.headers.length);
    for (const h of r.headers) {
      pos = writeVarint(buf, pos, h.key.length);
      pos = writeBytes(buf, text, pos, h.key);
      pos = writeNullable(buf, text, pos, h.value);
    }
  }
  writeInt32(buf, CRC, crc32c(buf, CRC_START, size - CRC_START));
  return buf;
}
