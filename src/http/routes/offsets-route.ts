// GET /v1/topics/{topic}/partitions/{partition}/offsets?timestamp=earliest|latest|<ms>: a
// partition's range, and the offset for a time. Main thread; answered by the partition's owner
// with a ListOffsets request, as the binary protocol's.

import { RillError, Errors } from '../../errors.js';
import { EARLIEST, LATEST } from '../../broker/partition-host.js';
import { OwnerKind, type ListOffsetsResultMeta } from '../../broker/owner-messages.js';
import { ok, type HttpCall } from '../http-call.js';
import { requireOwner, requireTopic, type HttpContext } from '../http-context.js';
import { fromCode } from '../http-errors.js';
import { intValue, partitionParam } from '../query.js';
import { type Route } from '../router.js';
import { type TopicMetadata } from '../../broker/topic-registry.js';

/** The owner's answer for each timestamp (EARLIEST, LATEST or ms), in order; errors thrown. */
export async function listOffsets(ctx: HttpContext, call: HttpCall, topic: TopicMetadata, partition: number, timestamps: number[]): Promise<{ offset: number; timestamp: number }[]> {
  const slot = requireOwner(ctx, topic, partition);
  const request = ctx.router.request(slot, OwnerKind.ListOffsets, { partitions: timestamps.map((timestamp) => ({ topic: topic.name, partition, timestamp })) }, undefined, call.closed);
  const meta = (await request.answer) as ListOffsetsResultMeta;
  if (meta.errorCode !== 0) throw fromCode(meta.errorCode, meta.message, { topic: topic.name, partition });
  return meta.partitions.map((p) => {
    if (p.errorCode !== 0) throw fromCode(p.errorCode, p.message, { topic: topic.name, partition });
    return { offset: p.offset, timestamp: p.timestamp };
  });
}

/** 'earliest', 'latest' or a time in ms as the owner's timestamp argument. */
export function timestampParam(raw: string): number {
  if (raw === 'earliest') return EARLIEST;
  if (raw === 'latest') return LATEST;
  if (!/^\d+$/.test(raw)) throw new RillError(Errors.INVALID_REQUEST, `timestamp must be 'earliest', 'latest' or a time in milliseconds since the epoch, got '${raw}'`, { parameter: 'timestamp' });
  return intValue(raw, 'timestamp', 0, Number.MAX_SAFE_INTEGER);
}

export function offsetsRoute(ctx: HttpContext): Route {
  return {
    method: 'GET',
    path: '/v1/topics/{topic}/partitions/{partition}/offsets',
    api: 'list_offsets',
    handler: async (call) => {
      const topic = requireTopic(ctx, call.params.topic);
      const partition = partitionParam(call.params.partition);
      requireOwner(ctx, topic, partition);
      const raw = call.query.get('timestamp');
      const timestamps = [EARLIEST, LATEST];
      if (raw !== null && raw !== '') timestamps.push(timestampParam(raw));
      const [earliest, latest, wanted] = await listOffsets(ctx, call, topic, partition, timestamps);
      return ok({
        topic: topic.name,
        partition,
        earliest: earliest.offset,
        latest: latest.offset,
        ...(wanted === undefined ? {} : { offset: wanted.offset, timestamp: wanted.timestamp < 0 ? null : wanted.timestamp }),
      });
    },
  };
}
