// Kafka's RecordBatch v2 layout: the one format Rill uses on disk, on the wire and between
// replicas. Any thread. Public spec: Kafka's "Record Batch" documentation (magic v2).
//
//   offset  size  field
//        0     8  baseOffset             first offset of the batch; assigned by the log on append
//        8     4  batchLength            bytes that follow this field (whole batch = 12 + batchLength)
//       12     4  partitionLeaderEpoch   set by the log on append; not covered by the CRC
//       16     1  magic                  2
//       17     4  crc                    CRC-32C (unsigned) of bytes [21, end)
//       21     2  attributes             bits 0-2 compression, 3 timestamp type, 4 transactional,
//                                        5 control, 6 delete horizon; the rest unused
//       23     4  lastOffsetDelta
//       27     8  baseTimestamp
//       35     8  maxTimestamp
//       43     8  producerId             -1 without idempotence
//       51     2  producerEpoch
//       53     4  baseSequence
//       57     4  recordCount
//       61     …  records
//
// Each record, all integers zig-zag varints (timestampDelta a varlong):
//   length, attributes (int8, unused), timestampDelta, offsetDelta, keyLength (-1 = null), key,
//   valueLength (-1 = null), value, headerCount, then per header: keyLength, key (UTF-8),
//   valueLength (-1 = null), value.
//
// Because baseOffset and partitionLeaderEpoch sit outside the CRC, the log stamps them into the
// stored copy without recomputing the checksum.

import { readInt16, readInt32, readInt64, readInt8, readUint32 } from './bytes.js';

export const BASE_OFFSET = 0;
export const BATCH_LENGTH = 8;
export const PARTITION_LEADER_EPOCH = 12;
export const MAGIC = 16;
export const CRC = 17;
export const ATTRIBUTES = 21;
export const LAST_OFFSET_DELTA = 23;
export const BASE_TIMESTAMP = 27;
export const MAX_TIMESTAMP = 35;
export const PRODUCER_ID = 43;
export const PRODUCER_EPOCH = 51;
export const BASE_SEQUENCE = 53;
export const RECORD_COUNT = 57;
export const RECORDS = 61;

/** baseOffset + batchLength: the bytes before the length-counted part. */
export const LOG_OVERHEAD = 12;
/** Smallest possible batch: a header and no records. */
export const BATCH_HEADER_SIZE = RECORDS;
/** The CRC covers from the attributes to the end of the batch. */
export const CRC_START = ATTRIBUTES;

export const CURRENT_MAGIC = 2;

export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_BIT = 0x08;
export const TRANSACTIONAL_BIT = 0x10;
export const CONTROL_BIT = 0x20;
export const DELETE_HORIZON_BIT = 0x40;

export enum Compression {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export enum TimestampType {
  CreateTime = 0,
  LogAppendTime = 1,
}

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;

/** The fixed-size part of a batch, decoded. */
export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Reads the header of the batch at `pos`; the caller has checked that 61 bytes are there. */
export function readBatchHeader(buf: Uint8Array, pos: number): BatchHeader {
  return {
    baseOffset: readInt64(buf, pos + BASE_OFFSET),
    batchLength: readInt32(buf, pos + BATCH_LENGTH),
    partitionLeaderEpoch: readInt32(buf, pos + PARTITION_LEADER_EPOCH),
    magic: readInt8(buf, pos + MAGIC),
    crc: readUint32(buf, pos + CRC),
    attributes: readInt16(buf, pos + ATTRIBUTES),
    lastOffsetDelta: readInt32(buf, pos + LAST_OFFSET_DELTA),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP),
    producerId: readInt64(buf, pos + PRODUCER_ID),
    producerEpoch: readInt16(buf, pos + PRODUCER_EPOCH),
    baseSequence: readInt32(buf, pos + BASE_SEQUENCE),
    recordCount: readInt32(buf, pos + RECORD_COUNT),
  };
}

/** Size in bytes of the whole batch at `pos`, from its length field. */
export function batchSize(buf: Uint8Array, pos: number): number {
  return LOG_OVERHEAD + readInt32(buf, pos + BATCH_LENGTH);
}

export function batchBaseOffset(buf: Uint8Array, pos: number): number {
  return readInt64(buf, pos + BASE_OFFSET);
}

export function batchLastOffset(buf: Uint8Array, pos: number): number {
  return readInt64(buf, pos + BASE_OFFSET) + readInt32(buf, pos + LAST_OFFSET_DELTA);
}

export function batchMaxTimestamp(buf: Uint8Array, pos: number): number {
  return readInt64(buf, pos + MAX_TIMESTAMP);
}
