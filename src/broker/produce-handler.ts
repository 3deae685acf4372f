// Produce requests of a client connection: the leader check in a cluster, then the record set
// into the owner's ring, and the answer (none for acks=0, whose failure closes the connection, as
// Kafka does). Main thread only.

import { Errors } from '../errors.js';
import { ApiKeys, encodeResponse, type ProduceRequest, type RequestOf } from '../protocol/index.js';
import { OwnerKind, type ProduceResultMeta } from './owner-messages.js';
import { type RequestScope } from './request-scope.js';

export function produce(scope: RequestScope, request: RequestOf<typeof ApiKeys.Produce>): Promise<void> | undefined {
  const { topic, partition, acks, timeoutMs } = request.header;
  const miss = scope.ctx.cluster?.leaderCheck(topic, partition);
  if (miss !== undefined && miss !== null) {
    if (acks === 0) scope.close();
    else scope.write(produceResponse(request.correlationId, request.header, miss.spec.code, miss.message, miss.leaderId));
    return;
  }
  const slot = scope.ctx.placement.owner(topic, partition);
  if (slot === undefined) {
    produceFailed(scope, request.correlationId, request.header, Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `topic-partition ${topic}-${partition} does not exist`);
    return;
  }
  // Waiting for ring room (if the owner's ring is full) holds this frame and pauses the socket.
  const { sent, answer } = scope.ctx.router.request(slot, OwnerKind.Produce, { topic, partition, acks, timeoutMs }, request.body, scope.isClosed);
  scope.track(
    request,
    answer.then((meta) => {
      const result = meta as ProduceResultMeta;
      if (result.errorCode !== 0) {
        if (acks === 0) {
          scope.ctx.logger.debug({ topic, partition, errorCode: result.errorCode }, 'acks=0 produce failed; closing the connection');
          scope.close();
          return null;
        }
        return produceResponse(request.correlationId, request.header, result.errorCode, result.message);
      }
      return acks === 0 ? null : encodeResponse(request.correlationId, ApiKeys.Produce, {
        topic,
        partition,
        errorCode: 0,
        baseOffset: result.baseOffset,
        logAppendTime: -1,
        logStartOffset: result.logStartOffset,
      });
    }),
  );
  return sent ?? undefined;
}

function produceFailed(scope: RequestScope, correlationId: number, header: ProduceRequest, errorCode: number, message: string): void {
  if (header.acks === 0) {
    scope.close();
    return;
  }
  scope.write(produceResponse(correlationId, header, errorCode, message));
}

function produceResponse(correlationId: number, header: ProduceRequest, errorCode: number, message?: string, leaderId?: number): Uint8Array {
  return encodeResponse(correlationId, ApiKeys.Produce, {
    topic: header.topic,
    partition: header.partition,
    errorCode,
    ...(message === undefined ? {} : { message }),
    ...(leaderId === undefined ? {} : { leaderId }),
    baseOffset: -1,
    logAppendTime: -1,
    logStartOffset: -1,
  });
}
