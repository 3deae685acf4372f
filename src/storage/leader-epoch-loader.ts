// Opening a partition's leader epochs: the checkpoint file fitted to the log. Owner thread only.
// Entries past the log end (a truncation the file did not see) go; a missing or unreadable file is
// rebuilt from the batches' partitionLeaderEpoch fields (see leader-epoch-cache.ts).

import { batchBaseOffset, batchSize, PARTITION_LEADER_EPOCH } from './batch-layout.js';
import { readInt32 } from './bytes.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { scanBatches, type LogScan } from './log-scan.js';
import { storageError } from './storage-error.js';

export function loadLeaderEpochs(log: LogScan): LeaderEpochCache {
  try {
    const { cache, problem } = LeaderEpochCache.open(log.dir);
    const end = log.logEndOffset;
    if (problem === null) {
      const entries = cache.list();
      const last = entries[entries.length - 1];
      if (last !== undefined && last.startOffset > end) cache.truncateFromEnd(end + 1);
      return cache;
    }
    let batches = 0;
    scanBatches(
      log,
      log.logStartOffset,
      (records, pos) => {
        cache.assign(readInt32(records, pos + PARTITION_LEADER_EPOCH), batchBaseOffset(records, pos), false);
        batches++;
      },
      batchSize,
    );
    cache.persist();
    if (problem !== 'missing' || batches > 0) log.logger.warn({ dir: log.dir, problem, batches, epochs: cache.list().length }, 'rebuilt leader-epoch checkpoint from the log');
    return cache;
  } catch (error) {
    throw storageError(error, `loading the leader epochs of ${log.dir}`);
  }
}
