// Writing a fetch or replica-fetch response: the head, then each partition's bytes straight from
// the main thread's read-only mapping of its segment, so fetched bytes are never copied through a
// ring. Main thread only.

import { Errors } from '../errors.js';
import { ApiKeys, encodeResponseHead, type FetchedPartition, type ReplicaFetchedPartition } from '../protocol/index.js';
import { type FetchPartitionResult } from './owner-messages.js';
import { type RequestScope } from './request-scope.js';
import { type AcquiredRange } from './segment-mappings.js';

/**
 * Writes the fetch response: the head, then each partition's bytes from the main thread's
 * mapping of its segment. The ranges are released when the last write completes.
 */
export async function writeFetchResponse(
  scope: RequestScope,
  correlationId: number,
  request: { partitions: { topic: string; partition: number }[]; maxBytes: number },
  results: FetchPartitionResult[],
  apiKey: typeof ApiKeys.Fetch | typeof ApiKeys.ReplicaFetch = ApiKeys.Fetch,
): Promise<null> {
  const byKey = new Map(results.map((r) => [`${r.topic}/${r.partition}`, r]));
  const ranges: AcquiredRange[] = [];
  const partitions: (FetchedPartition | ReplicaFetchedPartition)[] = [];
  // Each owner keeps within maxBytes; together they may not. Slices past the request's maxBytes
  // are left out whole (the first always goes, as the soft limit promises), and the client
  // fetches them next time from the same offsets.
  let taken = 0;
  for (const p of request.partitions) {
    const r = byKey.get(`${p.topic}/${p.partition}`) ?? { topic: p.topic, partition: p.partition, errorCode: Errors.UNKNOWN_SERVER_ERROR.code, highWatermark: -1, logStartOffset: -1, file: null, fileId: 0, position: 0, length: 0 };
    let errorCode = r.errorCode;
    let bytes = 0;
    const fits = taken === 0 || taken + r.length <= request.maxBytes;
    if (errorCode === 0 && r.file !== null && r.length > 0 && fits && !scope.isClosed()) {
      try {
        ranges.push(scope.ctx.mappings.acquire(r.file, r.fileId, r.position, r.length));
        bytes = r.length;
        taken += bytes;
      } catch (error) {
        // The segment went away under us (retention) or was swapped (compaction): the client
        // retries and learns the new range.
        scope.ctx.logger.debug({ err: error, file: r.file }, 'segment vanished before its fetch was sent');
        errorCode = Errors.STORAGE_ERROR.code;
      }
    }
    const leaderId = (r as { leaderId?: number }).leaderId;
    const entry = { topic: p.topic, partition: p.partition, errorCode, highWatermark: r.highWatermark, logStartOffset: r.logStartOffset, ...(leaderId === undefined ? {} : { leaderId }), bytes };
    partitions.push(apiKey === ApiKeys.ReplicaFetch ? { ...entry, logEndOffset: r.logEndOffset ?? -1 } : entry);
  }
  const total = ranges.reduce((sum, range) => sum + range.bytes.length, 0);
  const head = encodeResponseHead(correlationId, apiKey, 0, { partitions }, total);
  const release = () => {
    for (const range of ranges) range.release();
  };
  if (scope.isClosed()) {
    release();
    return null;
  }
  scope.socket.cork();
  scope.socket.write(head);
  ranges.forEach((range, i) => scope.socket.write(range.bytes, i === ranges.length - 1 ? release : undefined));
  if (ranges.length === 0) release();
  scope.socket.uncork();
  return null;
}
