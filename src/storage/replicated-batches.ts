// Checks a record set a follower fetched from its leader, before it is appended as-is. Any thread
// (pure function over bytes).
//
// A replicated record set keeps what the leader gave it: base offsets and partitionLeaderEpoch are
// not reassigned, so a follower's log is byte-for-byte the leader's. What is checked: every batch's
// frame (length, magic, CRC — the bytes crossed a network), that offsets continue the local log
// with no gap or overlap, and that epochs never fall (a log's epochs only rise). The record set is
// cut into runs of one epoch, because the segment stamps one epoch per append call.

import { Errors, RillError } from '../errors.js';
import { LAST_OFFSET_DELTA, MAX_TIMESTAMP, PARTITION_LEADER_EPOCH, batchBaseOffset } from './batch-layout.js';
import { checkBatchFrame } from './batch-validator.js';
import { readInt32, readInt64 } from './bytes.js';

export interface EpochRun {
  epoch: number;
  /** Byte range of the run within the record set. */
  start: number;
  end: number;
  batches: number;
  baseOffset: number;
  /** One past the run's last offset. */
  nextOffset: number;
}

export interface ReplicatedRecordSet {
  runs: EpochRun[];
  recordCount: number;
  maxTimestamp: number;
}

/**
 * Splits `records` into epoch runs after checking it continues a log ending at `logEndOffset`
 * whose latest epoch is `latestEpoch`. Throws INVALID_RECORD (corrupt or malformed bytes) or
 * OFFSET_OUT_OF_RANGE (offsets do not continue the log; details carry both offsets).
 */
export function checkReplicatedRecordSet(records: Uint8Array, logEndOffset: number, latestEpoch: number, maxMessageBytes: number): ReplicatedRecordSet {
  if (records.length === 0) throw new RillError(Errors.INVALID_RECORD, 'empty replicated record set');
  const runs: EpochRun[] = [];
  let expected = logEndOffset;
  let epochFloor = latestEpoch;
  let recordCount = 0;
  let maxTimestamp = -Infinity;
  for (let pos = 0, index = 0; pos < records.length; index++) {
    const size = checkBatchFrame(records, pos, records.length - pos);
    if (typeof size !== 'number') throw new RillError(size.spec, `replicated batch ${index} at byte ${pos}: ${size.reason}`);
    if (size > maxMessageBytes) throw new RillError(Errors.MESSAGE_TOO_LARGE, `replicated batch ${index} is ${size} bytes; max.message.bytes is ${maxMessageBytes}`);
    const base = batchBaseOffset(records, pos);
    if (base !== expected) {
      throw new RillError(Errors.OFFSET_OUT_OF_RANGE, `replicated batch ${index} starts at offset ${base}, the log continues at ${expected}`, { offset: base, logEndOffset: expected });
    }
    const epoch = readInt32(records, pos + PARTITION_LEADER_EPOCH);
    if (epoch < epochFloor) throw new RillError(Errors.INVALID_RECORD, `replicated batch ${index} has leader epoch ${epoch}, below ${epochFloor} already in the log`);
    epochFloor = epoch;
    const count = readInt32(records, pos + LAST_OFFSET_DELTA) + 1;
    recordCount += count;
    maxTimestamp = Math.max(maxTimestamp, readInt64(records, pos + MAX_TIMESTAMP));
    const run = runs[runs.length - 1];
    if (run !== undefined && run.epoch === epoch) {
      run.end = pos + size;
      run.batches++;
      run.nextOffset = base + count;
    } else {
      runs.push({ epoch, start: pos, end: pos + size, batches: 1, baseOffset: base, nextOffset: base + count });
    }
    expected = base + count;
    pos += size;
  }
  return { runs, recordCount, maxTimestamp };
}
