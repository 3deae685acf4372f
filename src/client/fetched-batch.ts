// One partition's records from one Fetch, as the consumer hands them out: decoded lazily, the
// first time `messages` is read, into messages whose keys, values and header values are views of
// the fetched bytes (no copy). Application thread.
//
// Why lazily, and why this decoder rather than storage's decodeRecordBatches: the fetch path only
// walks batch headers (scanRecordSet: where the next fetch starts, how many bytes are whole), so a
// response is turned around in microseconds whatever it holds; the per-record work happens when
// the application reads the batch, once. Per record that work is a few varints, one message object
// and one Buffer view for the value (and one for a non-null key). The views are made with Node's
// own Buffer class (Buffer[Symbol.species], what Buffer.from(arrayBuffer, ...) constructs), called
// directly (storage/buffer-view.ts): half the cost of Buffer.from, and still real Buffers. Records
// without headers share one frozen empty object.
//
// What is checked: each batch's length, magic and CRC-32C (like Kafka's check.crcs; the CRC runs on
// the CPU instruction, about a microsecond for a 100 KB batch). A trailing partial batch (the
// broker cut the response at maxBytes) is ignored; records below the requested offset at the start
// of the first batch are skipped; control batches are skipped; compressed batches are refused
// (Rill writes none yet). A batch that fails its checks throws CORRUPT_MESSAGE.

import { Errors, RillError } from '../errors.js';
import { crc32c } from '../native/index.js';
import {
  ATTRIBUTES,
  BASE_OFFSET,
  BASE_TIMESTAMP,
  BATCH_LENGTH,
  COMPRESSION_MASK,
  CONTROL_BIT,
  CRC,
  CRC_START,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAGIC,
  MAX_TIMESTAMP,
  RECORDS,
  RECORD_COUNT,
  TIMESTAMP_TYPE_BIT,
} from '../storage/batch-layout.js';
import { readInt16, readInt32, readInt64, readUint32 } from '../storage/bytes.js';
import { bufferView } from '../storage/buffer-view.js';

export interface KafkaMessage {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null>;
  /** ms since the epoch: the producer's CreateTime, or the broker's LogAppendTime. */
  timestamp: number;
}

/** A message as the decoder makes it: one class, so every message has the same shape. */
class Message implements KafkaMessage {
  constructor(
    public offset: number,
    public key: Buffer | null,
    public value: Buffer | null,
    public headers: Record<string, Buffer | null>,
    public timestamp: number,
  ) {}
}

const NO_HEADERS: Record<string, Buffer | null> = Object.freeze({}) as Record<string, Buffer | null>;

/** Where a record set's whole batches end, and the offset after its last whole batch. */
export interface RecordSetScan {
  /** Bytes of whole batches from the start. */
  bytes: number;
  /** The offset after the last whole batch; `from` when there is none. */
  nextOffset: number;
}

/** Walks the batch headers of a record set: cheap, whatever the records. */
export function scanRecordSet(set: Uint8Array, from: number): RecordSetScan {
  let pos = 0;
  let nextOffset = from;
  while (pos + RECORDS <= set.length) {
    const size = LOG_OVERHEAD + readInt32(set, pos + BATCH_LENGTH);
    if (size < RECORDS || pos + size > set.length) break;
    const last = readInt64(set, pos + BASE_OFFSET) + readInt32(set, pos + LAST_OFFSET_DELTA);
    if (last + 1 > nextOffset) nextOffset = last + 1;
    pos += size;
  }
  return { bytes: pos, nextOffset };
}

// The decoder's read position; module-level so the varint readers need no cursor object.
let at = 0;

function corrupt(message: string): RillError {
  return new RillError(Errors.CORRUPT_MESSAGE, message);
}

function readVarint(buf: Uint8Array, end: number): number {
  if (at >= end) throw corrupt('a varint runs past its record');
  let byte = buf[at++];
  if (byte < 0x80) return (byte >>> 1) ^ -(byte & 1);
  let z = byte & 0x7f;
  for (let shift = 7; ; shift += 7) {
    if (at >= end || shift > 28) throw corrupt('a varint runs past its record or exceeds 32 bits');
    byte = buf[at++];
    z |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  return (z >>> 1) ^ -(z & 1);
}

function readVarlong(buf: Uint8Array, end: number): number {
  let z = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (at >= end) throw corrupt('a varlong runs past its record');
    const byte = buf[at++];
    z += (byte & 0x7f) * scale;
    if (byte < 0x80) return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    scale *= 0x80;
  }
  throw corrupt('a varlong is longer than 10 bytes');
}

/** Decodes the records at or after `from` of a record set's whole batches into `out`. */
export function decodeRecordSet(set: Uint8Array, from: number, out: KafkaMessage[]): void {
  let pos = 0;
  while (pos + RECORDS <= set.length) {
    const size = LOG_OVERHEAD + readInt32(set, pos + BATCH_LENGTH);
    if (size < RECORDS || pos + size > set.length) break; // a trailing partial batch
    const end = pos + size;
    const baseOffset = readInt64(set, pos + BASE_OFFSET);
    if (set[pos + MAGIC] !== CURRENT_MAGIC) throw corrupt(`batch at offset ${baseOffset} has magic ${set[pos + MAGIC]}, expected ${CURRENT_MAGIC}`);
    if (readUint32(set, pos + CRC) !== crc32c(set, pos + CRC_START, size - CRC_START)) throw corrupt(`batch at offset ${baseOffset} fails its CRC check`);
    const attributes = readInt16(set, pos + ATTRIBUTES);
    if ((attributes & COMPRESSION_MASK) !== 0) {
      throw new RillError(Errors.UNSUPPORTED_COMPRESSION_TYPE, `batch at offset ${baseOffset} is compressed (codec ${attributes & COMPRESSION_MASK}); this client reads uncompressed batches only`);
    }
    const lastOffset = baseOffset + readInt32(set, pos + LAST_OFFSET_DELTA);
    if ((attributes & CONTROL_BIT) !== 0 || lastOffset < from) {
      pos = end;
      continue;
    }
    const baseTimestamp = readInt64(set, pos + BASE_TIMESTAMP);
    const logAppendTime = (attributes & TIMESTAMP_TYPE_BIT) !== 0 ? readInt64(set, pos + MAX_TIMESTAMP) : -1;
    const count = readInt32(set, pos + RECORD_COUNT);
    at = pos + RECORDS;
    for (let i = 0; i < count; i++) {
      const length = readVarint(set, end);
      const recordEnd = at + length;
      if (length < 1 || recordEnd > end) throw corrupt(`record ${i} of the batch at offset ${baseOffset} runs past the batch`);
      at++; // record attributes: unused
      const timestampDelta = set[at] < 0x80 ? (set[at] >>> 1) ^ -(set[at++] & 1) : readVarlong(set, recordEnd);
      const offset = baseOffset + readVarint(set, recordEnd);
      if (offset < from) {
        at = recordEnd;
        continue;
      }
      const keyLength = readVarint(set, recordEnd);
      let key: Buffer | null = null;
      if (keyLength >= 0) {
        if (at + keyLength > recordEnd) throw corrupt(`record at offset ${offset} has a key running past it`);
        key = bufferView(set, at, keyLength);
        at += keyLength;
      }
      const valueLength = readVarint(set, recordEnd);
      let value: Buffer | null = null;
      if (valueLength >= 0) {
        if (at + valueLength > recordEnd) throw corrupt(`record at offset ${offset} has a value running past it`);
        value = bufferView(set, at, valueLength);
        at += valueLength;
      }
      const headerCount = readVarint(set, recordEnd);
      let headers = NO_HEADERS;
      if (headerCount !== 0) headers = readHeaders(set, recordEnd, headerCount, offset);
      if (at !== recordEnd) throw corrupt(`record at offset ${offset} has ${recordEnd - at} bytes beyond its fields`);
      out.push(new Message(offset, key, value, headers, logAppendTime >= 0 ? logAppendTime : baseTimestamp + timestampDelta));
    }
    pos = end;
  }
}

function readHeaders(set: Uint8Array, recordEnd: number, count: number, offset: number): Record<string, Buffer | null> {
  if (count < 0 || count > recordEnd - at) throw corrupt(`record at offset ${offset} has ${count} headers`);
  const headers: Record<string, Buffer | null> = {};
  for (let h = 0; h < count; h++) {
    const keyLength = readVarint(set, recordEnd);
    if (keyLength < 0 || at + keyLength > recordEnd) throw corrupt(`record at offset ${offset} has a bad header key`);
    const key = bufferView(set, at, keyLength).toString('utf8');
    at += keyLength;
    const valueLength = readVarint(set, recordEnd);
    let value: Buffer | null = null;
    if (valueLength >= 0) {
      if (at + valueLength > recordEnd) throw corrupt(`record at offset ${offset} has a header value running past it`);
      value = bufferView(set, at, valueLength);
      at += valueLength;
    }
    headers[key] = value;
  }
  return headers;
}

/** A partition's records from one fetch (kafkajs's Batch): `messages` is decoded on first read. */
export class FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  /** The partition's high watermark when it was fetched. */
  readonly highWatermark: number;
  /** The first offset asked for: records before it in the first batch are skipped. */
  readonly fetchOffset: number;
  /** The offset after the last record here: where the next fetch starts. */
  readonly nextOffset: number;
  /** Bytes of whole batches, for the consumer's prefetch bound. */
  readonly bytes: number;
  /** The seek epoch of the partition it was fetched under (the consumer drops stale batches). */
  readonly epoch: number;
  private readonly records: Uint8Array;
  private decoded: KafkaMessage[] | null = null;

  constructor(topic: string, partition: number, highWatermark: number, records: Uint8Array, fetchOffset: number, scan: RecordSetScan, epoch: number) {
    this.topic = topic;
    this.partition = partition;
    this.highWatermark = highWatermark;
    this.records = records;
    this.fetchOffset = fetchOffset;
    this.nextOffset = scan.nextOffset;
    this.bytes = scan.bytes;
    this.epoch = epoch;
  }

  get messages(): KafkaMessage[] {
    if (this.decoded === null) {
      const out: KafkaMessage[] = [];
      decodeRecordSet(this.records, this.fetchOffset, out);
      this.decoded = out;
    }
    return this.decoded;
  }

  isEmpty(): boolean {
    return this.messages.length === 0;
  }

  /** Offset of the first message, or null when there is none. */
  firstOffset(): number | null {
    const messages = this.messages;
    return messages.length === 0 ? null : messages[0].offset;
  }

  /** Offset of the last message; when empty, the offset before the next fetch's. */
  lastOffset(): number {
    const messages = this.messages;
    return messages.length === 0 ? this.nextOffset - 1 : messages[messages.length - 1].offset;
  }

  /** Messages between the end of this batch and the high watermark. */
  offsetLag(): number {
    return Math.max(0, this.highWatermark - 1 - this.lastOffset());
  }
}
