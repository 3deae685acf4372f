// GET /v1/topics/{topic}/partitions/{partition}/messages: a fetch, decoded to JSON. Main thread.
//
// The owner answers with where the batches are, as for a binary Fetch; the main thread decodes
// them from its own read-only mapping of the segment (the same SegmentMappings that binary fetches
// are written from), copies what it keeps into the JSON answer, and releases the range.
//
// Long polls: with waitMs > 0 the owner holds the request until data arrives at `offset` or waitMs
// passes. Each such fetch takes a place in the LongPollLimiter (429 beyond http.max.long.polls); a
// client that goes away while waiting ends its owner-side wait at once (EndWait), so an abandoned
// poll holds nothing for long.

import { Errors, RillError } from '../../errors.js';
import { OwnerKind, type FetchResultMeta } from '../../broker/owner-messages.js';
import { BatchLayout, decodeRecordBatch } from '../../storage/index.js';
import { ok, type HttpCall } from '../http-call.js';
import { requireOwner, requireTopic, type HttpContext } from '../http-context.js';
import { fromCode } from '../http-errors.js';
import { recordToJson, type JsonMessage } from '../json-messages.js';
import { enumParam, intParam, intValue, partitionParam } from '../query.js';
import { type Route } from '../router.js';
import { listOffsets, timestampParam } from './offsets-route.js';

/** Default and largest maxMessages: a JSON answer is built whole in memory. */
const DEFAULT_MAX_MESSAGES = 100;
const MAX_MAX_MESSAGES = 10_000;
const DEFAULT_MAX_BYTES = 1024 * 1024;

export function fetchRoute(ctx: HttpContext): Route {
  const handler = async (call: HttpCall) => {
    const topic = requireTopic(ctx, call.params.topic);
    const partition = partitionParam(call.params.partition);
    const slot = requireOwner(ctx, topic, partition);
    const { query } = call;
    const maxMessages = intParam(query, 'maxMessages', DEFAULT_MAX_MESSAGES, 1, MAX_MAX_MESSAGES);
    const maxBytes = intParam(query, 'maxBytes', Math.min(DEFAULT_MAX_BYTES, ctx.config.maxFrameBytes), 1, ctx.config.maxFrameBytes);
    const waitMs = intParam(query, 'waitMs', 0, 0, ctx.config.httpMaxWaitMs);
    const encoding = enumParam(query, 'encoding', ['utf8', 'base64'], 'utf8');
    const rawOffset = query.get('offset') ?? '';
    const offset = /^\d+$/.test(rawOffset)
      ? intValue(rawOffset, 'offset', 0, Number.MAX_SAFE_INTEGER)
      : (await listOffsets(ctx, call, topic, partition, [timestampParamFor(rawOffset)]))[0].offset;

    const release = waitMs > 0 ? ctx.longPolls.acquire() : undefined;
    let meta: FetchResultMeta;
    try {
      const request = ctx.router.request(slot, OwnerKind.Fetch, { partitions: [{ topic: topic.name, partition, offset, maxBytes }], maxWaitMs: waitMs, minBytes: 1, maxBytes }, undefined, call.closed);
      if (waitMs > 0) call.onClose(() => request.requestId !== 0 && ctx.router.endWait(slot, request.requestId));
      meta = (await request.answer) as FetchResultMeta;
    } finally {
      release?.();
    }
    if (meta.errorCode !== 0) throw fromCode(meta.errorCode, meta.message, { topic: topic.name, partition });
    const result = meta.partitions[0];
    if (result.errorCode === Errors.OFFSET_OUT_OF_RANGE.code) {
      throw new RillError(Errors.OFFSET_OUT_OF_RANGE, `offset ${offset} is outside ${topic.name}-${partition}, which holds offsets ${result.logStartOffset} up to ${result.highWatermark} (the next offset to be written)`, {
        offset,
        logStartOffset: result.logStartOffset,
        highWatermark: result.highWatermark,
      });
    }
    if (result.errorCode !== 0) throw fromCode(result.errorCode, result.message, { topic: topic.name, partition });

    const messages: JsonMessage[] = [];
    let nextOffset = offset;
    let bytes = 0;
    if (result.file !== null && result.length > 0) {
      const range = ctx.mappings.acquire(result.file, result.fileId, result.position, result.length);
      try {
        const buf = range.bytes;
        for (let pos = 0; pos < buf.length && messages.length < maxMessages; ) {
          // Only the records wanted are decoded: a batch may hold thousands around them.
          const batch = decodeRecordBatch(buf, pos, { fromOffset: offset, maxRecords: maxMessages - messages.length });
          const size = BatchLayout.LOG_OVERHEAD + batch.batchLength;
          pos += size;
          bytes += size;
          for (const record of batch.records) {
            messages.push(recordToJson(record, encoding));
            nextOffset = record.offset + 1;
          }
          if (messages.length < maxMessages) nextOffset = Math.max(nextOffset, batch.baseOffset + batch.lastOffsetDelta + 1);
        }
      } finally {
        range.release();
      }
    }
    ctx.metrics.fetched(topic.name, messages.length, bytes);
    return ok({ messages, nextOffset, highWatermark: result.highWatermark, logStartOffset: result.logStartOffset });
  };
  return { method: 'GET', path: '/v1/topics/{topic}/partitions/{partition}/messages', api: 'fetch', handler };
}

/** `offset` may also be 'earliest' (the default) or 'latest'. */
function timestampParamFor(raw: string): number {
  if (raw === '' || raw === 'earliest' || raw === 'latest') return timestampParam(raw === '' ? 'earliest' : raw);
  throw new RillError(Errors.INVALID_REQUEST, `offset must be a non-negative integer, 'earliest' or 'latest', got '${raw}'`, { parameter: 'offset' });
}
