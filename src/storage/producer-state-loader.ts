// Restoring a partition's idempotent-producer state: the newest usable snapshot at or below the log
// end, then the batch headers after it. Owner thread only. Snapshots above the log end describe
// batches that are gone (truncated) and are deleted; unusable ones are deleted and an older one is
// tried, down to none (the whole log is read).

import { batchBaseOffset, batchLastOffset, batchSize } from './batch-layout.js';
import { scanBatches, type LogScan } from './log-scan.js';
import { deleteSnapshots, listSnapshots, readSnapshot, SNAPSHOTS_KEPT, writeSnapshot } from './producer-snapshot.js';
import { batchProducer, type ProducerStateTable } from './producer-state.js';
import { storageError } from './storage-error.js';

export function loadProducerState(log: LogScan, producers: ProducerStateTable, now: number, expirationMs: number): void {
  const end = log.logEndOffset;
  const start = log.logStartOffset;
  let from = start;
  producers.clear();
  try {
    deleteSnapshots(log.dir, (offset) => offset > end);
    for (const offset of listSnapshots(log.dir).reverse()) {
      const problem = readSnapshot(log.dir, offset, producers);
      if (problem === null) {
        from = Math.max(offset, start);
        break;
      }
      log.logger.warn({ dir: log.dir, offset, problem }, 'unusable producer snapshot; deleting it');
      deleteSnapshots(log.dir, (o) => o === offset);
      producers.clear();
    }
  } catch (error) {
    throw storageError(error, `loading producer state in ${log.dir}`);
  }
  producers.expire(now, expirationMs, start);
  let scanned = 0;
  scanBatches(
    log,
    from,
    (records, pos) => {
      if (batchLastOffset(records, pos) < from) return;
      const producer = batchProducer(records, pos);
      if (producer !== null) producers.record(producer, batchBaseOffset(records, pos), batchLastOffset(records, pos), now);
      scanned++;
    },
    batchSize,
  );
  if (scanned > 0 || producers.size > 0) log.logger.info({ dir: log.dir, from, batches: scanned, producers: producers.size }, 'restored producer state');
}

/** Writes a producer snapshot at `offset` (the log end) and keeps only the newest few. Never throws. */
export function snapshotProducers(log: Pick<LogScan, 'dir' | 'logger'>, offset: number, producers: ProducerStateTable): void {
  try {
    writeSnapshot(log.dir, offset, producers);
    const offsets = listSnapshots(log.dir);
    const keepFrom = offsets[Math.max(0, offsets.length - SNAPSHOTS_KEPT)];
    deleteSnapshots(log.dir, (o) => o < keepFrom);
  } catch (error) {
    // Only a cost: the next open rebuilds from an older snapshot or the log itself.
    log.logger.warn({ dir: log.dir, err: error }, 'could not write producer snapshot');
  }
}
