// The partition reads of a client connection, each fanned out to the owners and answered once
// they all have: Fetch, and a follower's ReplicaFetch and OffsetForLeaderEpoch, and ListOffsets.
// Main thread only.

import { Errors } from '../errors.js';
import { ApiKeys, encodeResponse, type EpochAnswer, type FetchRequest, type ListOffsetsRequest, type RequestOf } from '../protocol/index.js';
import { writeFetchResponse } from './fetch-response.js';
import { fanOut } from './owner-fan-out.js';
import { OwnerKind, type FetchPartitionResult, type FetchResultMeta, type ListOffsetsResultMeta } from './owner-messages.js';
import { type RequestScope } from './request-scope.js';

export function fetch(scope: RequestScope, request: RequestOf<typeof ApiKeys.Fetch>): Promise<void> {
  const header: FetchRequest = request.header;
  const noData = (p: { topic: string; partition: number }, errorCode: number, message: string): FetchPartitionResult => ({
    topic: p.topic,
    partition: p.partition,
    errorCode,
    message,
    highWatermark: -1,
    logStartOffset: -1,
    file: null,
    fileId: 0,
    position: 0,
    length: 0,
  });
  return fanOut(
    scope,
    header.partitions,
    OwnerKind.Fetch,
    // Each owner waits for its share of minBytes; once the owners that answered hold minBytes
    // between them, the others are told to stop waiting.
    (group, owners) => ({ partitions: group, maxWaitMs: header.maxWaitMs, minBytes: Math.ceil(header.minBytes / owners), maxBytes: header.maxBytes }),
    (p) => noData(p, Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `topic-partition ${p.topic}-${p.partition} does not exist`),
    (p) => noData(p, Errors.LEADER_NOT_AVAILABLE.code, 'the owner is restarting; retry'),
    (answer) => {
      const result = answer as FetchResultMeta;
      return result.errorCode === 0 ? result.partitions : [];
    },
    (answered) => answered.reduce((sum, r) => sum + r.length, 0) >= Math.max(1, header.minBytes) || answered.some((r) => r.errorCode !== 0),
    (p, miss) => ({ ...noData(p, miss.spec.code, miss.message), leaderId: miss.leaderId }),
  ).then(({ answers }) => scope.track(request, answers.then((results) => writeFetchResponse(scope, request.correlationId, header, results))));
}

/** As fetch(), with the follower's id and epochs; owners answer from replication/ (to the log end). */
export function replicaFetch(scope: RequestScope, request: RequestOf<typeof ApiKeys.ReplicaFetch>): Promise<void> {
  const header = request.header;
  const noData = (p: { topic: string; partition: number }, errorCode: number, message: string): FetchPartitionResult => ({ topic: p.topic, partition: p.partition, errorCode, message, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, file: null, fileId: 0, position: 0, length: 0 });
  return fanOut(
    scope,
    header.partitions,
    OwnerKind.ReplicaFetch,
    (group, owners) => ({ replicaId: header.replicaId, partitions: group, maxWaitMs: header.maxWaitMs, minBytes: Math.ceil(header.minBytes / owners), maxBytes: header.maxBytes }),
    (p) => noData(p, Errors.NOT_LEADER_OR_FOLLOWER.code, `topic-partition ${p.topic}-${p.partition} is not hosted here`),
    (p) => noData(p, Errors.LEADER_NOT_AVAILABLE.code, 'the owner is restarting; retry'),
    (answer) => {
      const result = answer as FetchResultMeta;
      return result.errorCode === 0 ? result.partitions : [];
    },
    (answered) => answered.reduce((sum, r) => sum + r.length, 0) >= Math.max(1, header.minBytes) || answered.some((r) => r.errorCode !== 0),
  ).then(({ answers }) => scope.track(request, answers.then((results) => writeFetchResponse(scope, request.correlationId, header, results, ApiKeys.ReplicaFetch))));
}

export function offsetForLeaderEpoch(scope: RequestScope, request: RequestOf<typeof ApiKeys.OffsetForLeaderEpoch>): Promise<void> {
  const header = request.header;
  const none = (p: { topic: string; partition: number }, errorCode: number): EpochAnswer => ({ topic: p.topic, partition: p.partition, errorCode, leaderEpoch: -1, endOffset: -1 });
  return fanOut(
    scope,
    header.partitions,
    OwnerKind.OffsetForLeaderEpoch,
    (group) => ({ replicaId: header.replicaId, partitions: group }),
    (p) => none(p, Errors.NOT_LEADER_OR_FOLLOWER.code),
    (p) => none(p, Errors.LEADER_NOT_AVAILABLE.code),
    (answer) => (answer as { partitions?: EpochAnswer[] }).partitions ?? [],
  ).then(({ answers }) =>
    scope.track(
      request,
      answers.then((results) => {
        const byKey = new Map(results.map((r) => [`${r.topic}/${r.partition}`, r]));
        const partitions = header.partitions.map((p) => byKey.get(`${p.topic}/${p.partition}`) ?? none(p, Errors.UNKNOWN_SERVER_ERROR.code));
        return encodeResponse(request.correlationId, ApiKeys.OffsetForLeaderEpoch, { partitions });
      }),
    ),
  );
}

export function listOffsets(scope: RequestScope, request: RequestOf<typeof ApiKeys.ListOffsets>): Promise<void> {
  const header: ListOffsetsRequest = request.header;
  type Listed = ListOffsetsResultMeta['partitions'][number];
  const none = (p: { topic: string; partition: number }, errorCode: number, message: string): Listed => ({ topic: p.topic, partition: p.partition, errorCode, message, offset: -1, timestamp: -1 });
  return fanOut(
    scope,
    header.partitions,
    OwnerKind.ListOffsets,
    (group) => ({ partitions: group }),
    (p) => none(p, Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `topic-partition ${p.topic}-${p.partition} does not exist`),
    (p) => none(p, Errors.LEADER_NOT_AVAILABLE.code, 'the owner is restarting; retry'),
    (answer) => (answer as ListOffsetsResultMeta).partitions ?? [],
    undefined,
    (p, miss) => ({ ...none(p, miss.spec.code, miss.message), leaderId: miss.leaderId }),
  ).then(({ answers }) =>
    scope.track(
      request,
      answers.then((results) => {
        const byKey = new Map(results.map((r) => [`${r.topic}/${r.partition}`, r]));
        const partitions = header.partitions.map((p) => {
          const r = byKey.get(`${p.topic}/${p.partition}`) ?? none(p, Errors.UNKNOWN_SERVER_ERROR.code, 'no answer');
          const leaderId = (r as { leaderId?: number }).leaderId;
          return { topic: r.topic, partition: r.partition, errorCode: r.errorCode, offset: r.offset, timestamp: r.timestamp, ...(leaderId === undefined ? {} : { leaderId }) };
        });
        return encodeResponse(request.correlationId, ApiKeys.ListOffsets, { partitions });
      }),
    ),
  );
}
