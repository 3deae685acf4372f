// Child process of bench/log-append.ts, for the recovery-after-kill measurement:
//   node --import tsx bench/log-append-child.ts <dir> <bytes> <recordsPerBatch> <valueBytes>
// Opens the partition log in <dir> (flush.mode=async, default flush.interval.ms), appends about
// <bytes> of batches, prints one line `ready {json}` and then blocks until the parent SIGKILLs it.
//
// It blocks the event loop (Atomics.wait) rather than idling in it, so that no background flush
// (flush.interval.ms timer, or the flush a segment roll schedules) runs between "ready" and the
// kill: the whole appended tail is unflushed and uncheckpointed, as after a crash right before the
// next periodic flush. Without this, the kill would race the flush and scannedBytes would vary.
// (The append loop itself never yields to the event loop: in async mode append() resolves at once.)

import { writeSync } from 'node:fs';
import { PartitionLog } from '../src/storage/partition-log.js';
import { makeBatch } from './bench-util.js';

const [dir, bytesArg, recordsArg, valueArg] = process.argv.slice(2);
if (dir === undefined || bytesArg === undefined || recordsArg === undefined || valueArg === undefined) {
  throw new Error('usage: log-append-child.ts <dir> <bytes> <recordsPerBatch> <valueBytes>');
}
const target = Number(bytesArg);
const batch = makeBatch(Number(recordsArg), Number(valueArg));
const count = Math.max(1, Math.floor(target / batch.bytes.length));

const log = await PartitionLog.open(dir, { config: { flushMode: 'async' } });
const startOffset = log.logEndOffset;
const startSize = log.size;
const startSegments = log.segmentCount;
for (let i = 0; i < count; i++) await log.append(batch.bytes);

const report = {
  pid: process.pid,
  startOffset,
  logEndOffset: log.logEndOffset,
  appendedBytes: count * batch.bytes.length,
  appendedBatches: count,
  appendedRecords: count * batch.records,
  sizeBefore: startSize,
  sizeAfter: log.size,
  segmentsBefore: startSegments,
  segmentsAfter: log.segmentCount,
  flushedOffset: log.flushedOffset,
};
writeSync(1, `ready ${JSON.stringify(report)}\n`);
// Block here until SIGKILL (see the header comment).
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
