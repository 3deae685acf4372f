// In-place validation of record batches: lengths, magic and CRC, without decoding records.
// Any thread. It returns a problem instead of throwing, because the recovery scan meets invalid
// batches as a matter of course (a torn tail) and decides itself what they mean.

import { Errors, type ErrorSpec } from '../errors.js';
import {
  ATTRIBUTES,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH,
  COMPRESSION_MASK,
  CONTROL_BIT,
  CRC,
  CRC_START,
  CURRENT_MAGIC,
  Compression,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAGIC,
  RECORD_COUNT,
  TIMESTAMP_TYPE_BIT,
  TRANSACTIONAL_BIT,
} from './batch-layout.js';
import { readInt16, readInt32, readInt8, readUint32 } from './bytes.js';
import { crc32c } from '../native/index.js';

export interface BatchProblem {
  /** INVALID_RECORD, MESSAGE_TOO_LARGE or UNSUPPORTED_COMPRESSION_TYPE. */
  readonly spec: ErrorSpec;
  readonly reason: string;
}

function problem(spec: ErrorSpec, reason: string): BatchProblem {
  return { spec, reason };
}

/**
 * Checks the frame of the batch at `pos`, given that `available` bytes follow `pos`: the length
 * field fits what is there, the magic is 2 and the CRC matches. On success returns the batch's
 * size in bytes; otherwise the problem.
 */
export function checkBatchFrame(buf: Uint8Array, pos: number, available: number): number | BatchProblem {
  if (available < LOG_OVERHEAD) {
    return problem(Errors.INVALID_RECORD, `only ${available} bytes where a batch needs at least ${BATCH_HEADER_SIZE}`);
  }
  const batchLength = readInt32(buf, pos + BATCH_LENGTH);
  const size = LOG_OVERHEAD + batchLength;
  if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD) {
    return problem(Errors.INVALID_RECORD, `batch length ${batchLength} is shorter than a batch header`);
  }
  if (size > available) {
    return problem(Errors.INVALID_RECORD, `batch length ${batchLength} runs past the ${available} bytes available`);
  }
  const magic = readInt8(buf, pos + MAGIC);
  if (magic !== CURRENT_MAGIC) {
    return problem(Errors.INVALID_RECORD, `magic ${magic} is not supported (only ${CURRENT_MAGIC})`);
  }
  const stored = readUint32(buf, pos + CRC);
  const computed = crc32c(buf, pos + CRC_START, size - CRC_START);
  if (stored !== computed) {
    return problem(Errors.INVALID_RECORD, `CRC mismatch: batch says ${hex(stored)}, bytes give ${hex(computed)}`);
  }
  return size;
}

/** Attribute bits a producer may set: compression (only none so far) and the timestamp type. */
const PRODUCER_ATTRIBUTES = COMPRESSION_MASK | TIMESTAMP_TYPE_BIT;

/**
 * Checks a batch a producer wants appended: its frame, then what this version of Rill supports.
 * The records themselves are not decoded (that is the consumer's job, as in Kafka's fetch path).
 */
export function checkProducedBatch(buf: Uint8Array, pos: number, available: number): number | BatchProblem {
  const size = checkBatchFrame(buf, pos, available);
  if (typeof size !== 'number') return size;
  const attributes = readInt16(buf, pos + ATTRIBUTES);
  const compression = attributes & COMPRESSION_MASK;
  if (compression !== Compression.None) {
    const name = Compression[compression] ?? `codec ${compression}`;
    return problem(Errors.UNSUPPORTED_COMPRESSION_TYPE, `compression ${name} is not supported yet; send uncompressed batches`);
  }
  if (attributes & TRANSACTIONAL_BIT) {
    return problem(Errors.INVALID_RECORD, 'transactional batches are not supported');
  }
  if (attributes & CONTROL_BIT) {
    return problem(Errors.INVALID_RECORD, 'control batches are written by the broker, not by producers');
  }
  if (attributes & ~PRODUCER_ATTRIBUTES) {
    return problem(Errors.INVALID_RECORD, `unsupported attribute bits 0x${(attributes & ~PRODUCER_ATTRIBUTES).toString(16)}`);
  }
  const recordCount = readInt32(buf, pos + RECORD_COUNT);
  if (recordCount < 1) {
    return problem(Errors.INVALID_RECORD, `a batch must hold at least one record, this one says ${recordCount}`);
  }
  const lastOffsetDelta = readInt32(buf, pos + LAST_OFFSET_DELTA);
  if (lastOffsetDelta !== recordCount - 1) {
    return problem(Errors.INVALID_RECORD, `lastOffsetDelta ${lastOffsetDelta} does not match ${recordCount} records`);
  }
  return size;
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}
