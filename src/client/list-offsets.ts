// Offset lookups (ListOffsets) for any set of partitions, each asked of its leader. Application
// thread. Used by the admin (fetchTopicOffsets, listOffsets) and the consumer (seek to earliest,
// latest or a timestamp).
//
// Partitions are grouped by leader, one request per broker, answers put back in request order.
// A partition whose leader moved (NOT_LEADER_OR_FOLLOWER, ...) or whose broker could not be
// reached is retried after a metadata refresh, with the retry policy's backoff; any other error
// fails the lookup.

import { Errors, RillError } from '../errors.js';
import { ApiKeys, type ListOffsetsPartition } from '../protocol/index.js';
import { type Cluster } from './cluster.js';
import { errorFromCode } from './errors.js';

export interface OffsetQuery {
  topic: string;
  partition: number;
  /** -2 earliest, -1 latest (the log end offset), else ms since the epoch. */
  timestamp: number;
}

export interface OffsetAnswer {
  topic: string;
  partition: number;
  /** -1 when no record is at or after the timestamp. */
  offset: number;
  /** The found record's timestamp for a lookup by time, else -1. */
  timestamp: number;
}

export const EARLIEST = -2;
export const LATEST = -1;

export async function listOffsets(cluster: Cluster, queries: readonly OffsetQuery[]): Promise<OffsetAnswer[]> {
  if (queries.length === 0) return [];
  await cluster.ensureTopics([...new Set(queries.map((q) => q.topic))]);
  const answers: (OffsetAnswer | undefined)[] = new Array(queries.length);
  await cluster.retry.run(async () => {
    // One request per leader, or more where the same partition is asked twice (a request may not
    // repeat a topic-partition): request lists of query indexes.
    const requests: { leader: number; indexes: number[]; keys: Set<string> }[] = [];
    for (let i = 0; i < queries.length; i++) {
      if (answers[i] !== undefined) continue;
      const q = queries[i];
      const leader = cluster.leaderOf(q.topic, q.partition);
      if (leader < 0) {
        const info = cluster.topic(q.topic);
        if (info !== undefined && info.errorCode === 0 && q.partition >= info.partitions.length) {
          throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `topic ${q.topic} has no partition ${q.partition}`, { topic: q.topic, partition: q.partition });
        }
        cluster.requestRefresh();
        throw new RillError(Errors.LEADER_NOT_AVAILABLE, `no leader known for ${q.topic}-${q.partition}`, { topic: q.topic, partition: q.partition });
      }
      const k = key(q.topic, q.partition);
      let request = requests.find((r) => r.leader === leader && !r.keys.has(k));
      if (request === undefined) requests.push((request = { leader, indexes: [], keys: new Set() }));
      request.indexes.push(i);
      request.keys.add(k);
    }
    const failures: RillError[] = [];
    await Promise.all(
      requests.map(async ({ leader, indexes }) => {
        try {
          const connection = await cluster.connection(leader);
          const partitions: ListOffsetsPartition[] = indexes.map((i) => ({ topic: queries[i].topic, partition: queries[i].partition, timestamp: queries[i].timestamp }));
          const response = await connection.request(ApiKeys.ListOffsets, { partitions });
          response.header.partitions.forEach((p, j) => {
            if (p.errorCode !== 0) {
              failures.push(errorFromCode(p.errorCode, `ListOffsets ${p.topic}-${p.partition}: ${errorMessage(p.errorCode)}`, { topic: p.topic, partition: p.partition }));
              return;
            }
            // Answers come in request order.
            answers[indexes[j]] = { topic: p.topic, partition: p.partition, offset: p.offset, timestamp: p.timestamp };
          });
        } catch (error) {
          if (error instanceof RillError) failures.push(error);
          else throw error;
        }
      }),
    );
    if (failures.length > 0) {
      if (failures.some((f) => f.retriable)) cluster.requestRefresh();
      // A non-retriable failure wins: retrying cannot help it.
      throw failures.find((f) => !f.retriable) ?? failures[0];
    }
  });
  return answers as OffsetAnswer[];
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function errorMessage(code: number): string {
  return errorFromCode(code, undefined).message;
}
