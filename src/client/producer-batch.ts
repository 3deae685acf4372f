// One RecordBatch v2 being built for one partition: records are encoded straight into the batch's
// buffer as send() hands them over. Application thread.
//
// Why a builder of its own rather than storage's encodeRecordBatch: that one takes an array of
// record objects and sizes them in a first pass, which costs an object and a pass per record. The
// producer appends one record at a time into a buffer sized for the whole batch (batchBytes, from
// the producer's BufferPool), writing each record once: its size is computed from the key, value and
// header lengths, then its varints and bytes go straight in. Strings are written as UTF-8 in place
// (Buffer#write), never through an intermediate Buffer. The 61-byte header (layout in
// src/storage/batch-layout.ts) and the CRC are written once, when the batch is first sent, and again
// only if it is re-stamped with a new producer epoch and sequence (idempotence.ts).
//
// Record layout (all integers zig-zag varints): length, attributes (0), timestampDelta (a varlong),
// offsetDelta, keyLength (-1: null), key, valueLength (-1: null), value, headerCount, then per header
// keyLength, key (UTF-8), valueLength, value. The first record's timestamp is the batch's
// baseTimestamp, as in Kafka's MemoryRecordsBuilder; later records may have smaller timestamps, and
// their negative deltas are valid varlongs.
//
// A batch also remembers which send() calls its records came from (segments: a call and the
// offset delta of its first record here), so one acknowledgement settles each of them once, not
// once per record.

import { crc32c } from '../native/index.js';
import {
  ATTRIBUTES,
  BASE_OFFSET,
  BASE_SEQUENCE,
  BASE_TIMESTAMP,
  BATCH_LENGTH,
  CRC,
  CRC_START,
  CURRENT_MAGIC,
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
} from '../storage/batch-layout.js';
import { writeInt16, writeInt32, writeInt64 } from '../storage/bytes.js';
import { varlongSize, writeVarint, writeVarlong } from '../storage/varint.js';

/** A key, value or header value as send() takes it. */
export type Payload = Buffer | Uint8Array | string | null | undefined;

/** The 61-byte batch header. */
export const BATCH_OVERHEAD = RECORDS;

/** The settling side of a send() call, as a batch sees it. */
export interface BatchSegmentOwner {
  /** Called when a batch takes the call's first record of a run: one more segment to settle. */
  segmentOpened(): void;
  /** Called once per batch holding records of the call, when the batch is acknowledged. */
  segmentDone(topic: string, partition: number, baseOffset: number, logAppendTime: number, logStartOffset: number): void;
  /** Called once per batch holding records of the call, when the batch finally failed. */
  segmentFailed(error: Error): void;
}

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;

/** Bytes of a zig-zag varint of a 32-bit value. */
export function varintSize(value: number): number {
  const z = ((value << 1) ^ (value >> 31)) >>> 0;
  return z < 0x80 ? 1 : z < 0x4000 ? 2 : z < 0x20_0000 ? 3 : z < 0x1000_0000 ? 4 : 5;
}

/** A timestamp delta as a varlong; within int32 a varint has the same bytes and is faster. */
function timestampDeltaSize(delta: number): number {
  return delta >= INT32_MIN && delta <= INT32_MAX ? varintSize(delta) : varlongSize(delta);
}

function writeTimestampDelta(buf: Uint8Array, pos: number, delta: number): number {
  return delta >= INT32_MIN && delta <= INT32_MAX ? writeVarint(buf, pos, delta) : writeVarlong(buf, pos, delta);
}

/** UTF-8 bytes of a payload; -1 for null. */
export function payloadLength(payload: Payload): number {
  if (payload === null || payload === undefined) return -1;
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
}

/** Bytes the headers take in a record, count included. */
export function headersSize(headers: Record<string, Payload> | undefined): number {
  if (headers === undefined) return 1;
  let size = 0;
  let count = 0;
  for (const key in headers) {
    const keyLength = Buffer.byteLength(key, 'utf8');
    const valueLength = payloadLength(headers[key]);
    size += varintSize(keyLength) + keyLength + varintSize(valueLength) + Math.max(0, valueLength);
    count++;
  }
  return size + varintSize(count);
}

/** Bytes of a record after its length prefix, given its offset and timestamp deltas. */
export function recordBodySize(offsetDelta: number, timestampDelta: number, keyLength: number, valueLength: number, headerBytes: number): number {
  return (
    1 +
    timestampDeltaSize(timestampDelta) +
    varintSize(offsetDelta) +
    varintSize(keyLength) +
    Math.max(0, keyLength) +
    varintSize(valueLength) +
    Math.max(0, valueLength) +
    headerBytes
  );
}

/**
 * Bytes a record takes in a batch, its length prefix included. Used to check a record against the
 * largest batch a broker takes before it is queued.
 */
/**
 * The most a batch's first record adds to its key, value and header bytes: its length varint (5),
 * attributes (1), timestamp and offset deltas of 0 (1 each), and the key and value length varints
 * (5 each).
 */
export const MAX_RECORD_FRAMING_BYTES = 18;

export function recordSize(offsetDelta: number, timestampDelta: number, keyLength: number, valueLength: number, headerBytes: number): number {
  const body = recordBodySize(offsetDelta, timestampDelta, keyLength, valueLength, headerBytes);
  return varintSize(body) + body;
}

function writePayload(buf: Buffer, pos: number, payload: Payload, length: number): number {
  pos = writeVarint(buf, pos, length);
  if (length <= 0) return pos;
  if (typeof payload === 'string') buf.write(payload, pos, length, 'utf8');
  else buf.set(payload as Uint8Array, pos);
  return pos + length;
}

export class ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  readonly acks: 0 | 1 | -1;
  /** When the batch was opened (Date.now()), for lingerMs. */
  readonly createdAt: number;
  /** Creation order across the producer: retried batches go back into a partition's queue by it. */
  readonly order: number;
  /** Most bytes this batch may grow to; a first record may exceed it (it then has a batch of its own). */
  readonly limit: number;
  readonly buffer: Buffer;
  /** Bytes written so far, header included. */
  size = BATCH_OVERHEAD;
  recordCount = 0;
  baseTimestamp = 0;
  maxTimestamp = 0;

  /** The send() calls with records here, and the offset delta of each one's first record. */
  readonly owners: BatchSegmentOwner[] = [];
  readonly ownerFirstDelta: number[] = [];

  /** Failed attempts so far. */
  attempts = 0;
  producerId = NO_PRODUCER_ID;
  producerEpoch = NO_PRODUCER_EPOCH;
  baseSequence = NO_SEQUENCE;
  /** Header and CRC written for the current stamp. */
  private sealed = false;
  /** flush() calls waiting for this batch to settle. */
  waiters: (() => void)[] | null = null;

  constructor(topic: string, partition: number, acks: 0 | 1 | -1, buffer: Buffer, limit: number, createdAt: number, order: number) {
    this.topic = topic;
    this.partition = partition;
    this.acks = acks;
    this.buffer = buffer;
    this.limit = limit;
    this.createdAt = createdAt;
    this.order = order;
  }

  /**
   * Appends a record if it fits within `limit` (or the batch is empty and it fits the buffer);
   * returns false, changing nothing, when it does not. Lengths are the payloads' byte lengths (-1
   * for null) and headerBytes is headersSize(headers), so that the caller computes them once.
   */
  tryAppend(
    owner: BatchSegmentOwner,
    timestamp: number,
    key: Payload,
    keyLength: number,
    value: Payload,
    valueLength: number,
    headers: Record<string, Payload> | undefined,
    headerBytes: number,
  ): boolean {
    const offsetDelta = this.recordCount;
    const timestampDelta = offsetDelta === 0 ? 0 : timestamp - this.baseTimestamp;
    const bodySize = recordBodySize(offsetDelta, timestampDelta, keyLength, valueLength, headerBytes);
    const end = this.size + varintSize(bodySize) + bodySize;
    if (end > (offsetDelta === 0 ? this.buffer.length : this.limit)) return false;

    const buf = this.buffer;
    let pos = writeVarint(buf, this.size, bodySize);
    buf[pos++] = 0; // record attributes: unused in v2
    pos = writeTimestampDelta(buf, pos, timestampDelta);
    pos = writeVarint(buf, pos, offsetDelta);
    pos = writePayload(buf, pos, key, keyLength);
    pos = writePayload(buf, pos, value, valueLength);
    if (headers === undefined) {
      buf[pos++] = 0;
    } else {
      let count = 0;
      for (const _ in headers) count++;
      pos = writeVarint(buf, pos, count);
      for (const headerKey in headers) {
        const header = headers[headerKey];
        pos = writePayload(buf, pos, headerKey, Buffer.byteLength(headerKey, 'utf8'));
        pos = writePayload(buf, pos, header, payloadLength(header));
      }
    }
    this.size = pos;

    if (offsetDelta === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    } else if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
    }
    this.recordCount = offsetDelta + 1;
    const owners = this.owners;
    if (owners.length === 0 || owners[owners.length - 1] !== owner) {
      owners.push(owner);
      this.ownerFirstDelta.push(offsetDelta);
      owner.segmentOpened();
    }
    return true;
  }

  /** Sets the idempotence fields (idempotence.ts decides them); the CRC is redone on the next send. */
  stamp(producerId: number, producerEpoch: number, baseSequence: number): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.baseSequence = baseSequence;
    this.sealed = false;
  }

  /** Clears the idempotence fields, so the batch is stamped afresh when next sent. */
  unstamp(): void {
    this.stamp(NO_PRODUCER_ID, NO_PRODUCER_EPOCH, NO_SEQUENCE);
  }

  get isStamped(): boolean {
    return this.baseSequence !== NO_SEQUENCE;
  }

  /** The batch as sent: header and CRC written (once per stamp), a view of the buffer. */
  bytes(): Buffer {
    const buf = this.buffer;
    if (!this.sealed) {
      const size = this.size;
      writeInt64(buf, BASE_OFFSET, 0);
      writeInt32(buf, BATCH_LENGTH, size - LOG_OVERHEAD);
      writeInt32(buf, PARTITION_LEADER_EPOCH, NO_PARTITION_LEADER_EPOCH);
      buf[MAGIC] = CURRENT_MAGIC;
      writeInt16(buf, ATTRIBUTES, 0);
      writeInt32(buf, LAST_OFFSET_DELTA, this.recordCount - 1);
      writeInt64(buf, BASE_TIMESTAMP, this.baseTimestamp);
      writeInt64(buf, MAX_TIMESTAMP, this.maxTimestamp);
      writeInt64(buf, PRODUCER_ID, this.producerId);
      writeInt16(buf, PRODUCER_EPOCH, this.producerEpoch);
      writeInt32(buf, BASE_SEQUENCE, this.baseSequence);
      writeInt32(buf, RECORD_COUNT, this.recordCount);
      writeInt32(buf, CRC, crc32c(buf, CRC_START, size - CRC_START));
      this.sealed = true;
    }
    return buf.subarray(0, this.size);
  }

  /** Settles every send() call with records here: acknowledged at `baseOffset`. */
  succeed(baseOffset: number, logAppendTime: number, logStartOffset: number): void {
    const { owners, ownerFirstDelta } = this;
    for (let i = 0; i < owners.length; i++) {
      owners[i].segmentDone(this.topic, this.partition, baseOffset < 0 ? baseOffset : baseOffset + ownerFirstDelta[i], logAppendTime, logStartOffset);
    }
    this.settled();
  }

  /** Settles every send() call with records here: failed with `error`. */
  fail(error: Error): void {
    for (const owner of this.owners) owner.segmentFailed(error);
    this.settled();
  }

  private settled(): void {
    const waiters = this.waiters;
    this.waiters = null;
    if (waiters !== null) for (const wake of waiters) wake();
  }
}
