// POST /v1/topics/{topic}/messages: JSON (or one raw binary message) to record batches, to the
// partition owners over the same rings the binary protocol uses. Main thread.
//
// The messages of a request are grouped by partition; the groups of the requests that arrive in
// one event-loop turn are encoded as one record batch per partition here, on the main thread
// (JSON has to become records somewhere; this is the one place the main thread builds batches, and
// the binary protocol never does; see produce-coalescer.ts). Each batch goes to its owner as a
// Produce request, exactly like a binary client's. Offsets come back in request order.
//
// Partitions: a message's own `partition`, else its key's (murmur2, Kafka's default partitioner,
// so a key lands where a Kafka or Rill client puts it), else one partition for all the keyless
// messages of every request until a batch for it is sent, then the next one (Kafka's sticky
// partitioner, KIP-480: one batch per turn rather than one per partition; see produce-coalescer.ts).
//
// acks=1 (default) answers 200 once every batch is in its log (fdatasynced with flush.mode=sync).
// acks=0 answers 202 once the batches are in the owners' rings, with null offsets. A request whose
// batches all fail answers with the failure's status; one that fails for some partitions only
// answers with the first failure's status and an `offsets` list saying which messages are stored.

import { partitionForKey } from '../../client/index.js';
import { Errors, RillError, errorSpecByCode } from '../../errors.js';
import { type TopicMetadata } from '../../broker/topic-registry.js';
import { type RecordInput } from '../../storage/index.js';
import { type HttpCall, type Reply } from '../http-call.js';
import { requireOwner, requireTopic, type HttpContext } from '../http-context.js';
import { unknownPartition } from '../http-errors.js';
import { parseProduceBody, producedOffsetsJson, type ProduceMessage, type ProducedOffset } from '../json-messages.js';
import { ProduceCoalescer } from '../produce-coalescer.js';
import { enumParam, intValue } from '../query.js';
import { bodyKind, parseJson, readBody } from '../request-body.js';
import { type Route } from '../router.js';

/** Messages per request; the body bound (http.max.body.bytes) is the real limit. */
const MAX_MESSAGES_PER_REQUEST = 100_000;

interface Group {
  partition: number;
  records: RecordInput[];
  /** Index in the request of each record. */
  indices: number[];
}

type OffsetEntry = ProducedOffset & { error?: string; message?: string };

function messagesOf(call: HttpCall, body: Buffer, binary: boolean): ProduceMessage[] {
  if (!binary) return parseProduceBody(parseJson(body), MAX_MESSAGES_PER_REQUEST);
  const partition = call.query.get('partition');
  return [{ key: call.query.get('key'), value: body, headers: [], ...(partition === null ? {} : { partition: intValue(partition, 'partition', 0, 2 ** 31 - 1) }) }];
}

export function produceRoute(ctx: HttpContext): Route {
  const coalescer = new ProduceCoalescer(ctx.router);
  /** Largest batch for a topic: its max.message.bytes, within max.frame.bytes (a ring entry). */
  const batchLimit = (topic: TopicMetadata): number => Math.min(ctx.registry.logConfig(topic).maxMessageBytes, ctx.config.maxFrameBytes);

  /** The sticky partition for keyless messages; in a cluster, one this node leads if it leads any. */
  const keylessTarget = (topic: TopicMetadata): number => {
    const cluster = ctx.cluster();
    if (cluster === null) return coalescer.keylessPartition(topic.name, topic.partitions);
    return coalescer.keylessPartition(topic.name, topic.partitions, (p) => cluster.leaderCheck(topic.name, p) === null);
  };

  /**
   * In a cluster: messages for partitions another node leads. All of them led by one other node:
   * requireOwner's NOT_LEADER_OR_FOLLOWER, which redirects the whole request there (307). Spread
   * over several leaders: 421 naming each partition's leader, as the request must be split.
   */
  const checkLeaders = (topic: TopicMetadata, partitions: number[]): void => {
    const cluster = ctx.cluster();
    if (cluster === null) return;
    const remote = new Map<number, number>();
    for (const p of partitions) {
      const miss = p < topic.partitions ? cluster.leaderCheck(topic.name, p) : null;
      if (miss !== null) remote.set(p, miss.leaderId);
    }
    if (remote.size === 0) return;
    const leaders = new Set(remote.values());
    if (remote.size === partitions.length && leaders.size === 1) return; // requireOwner redirects
    throw new RillError(
      Errors.NOT_LEADER_OR_FOLLOWER,
      `the messages go to partitions that different nodes lead (${[...remote].map(([p, l]) => `${topic.name}-${p}: node ${l}`).join(', ')}${remote.size < partitions.length ? ', and this node' : ''}); send each partition's messages to its leader`,
      { topic: topic.name },
    );
  };

  const handler = async (call: HttpCall): Promise<Reply> => {
    const topic = requireTopic(ctx, call.params.topic);
    const acks = enumParam(call.query, 'acks', ['0', '1'], '1') === '0' ? 0 : 1;
    const binary = bodyKind(call.req, ['json', 'binary']) === 'binary';
    const body = await readBody(call.req, ctx.config.httpMaxBodyBytes);
    const messages = messagesOf(call, body, binary);

    let keyless: number | undefined;
    const groups = new Map<number, Group>();
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      let partition = m.partition;
      if (partition === undefined && m.key !== null) partition = partitionForKey(m.key, topic.partitions);
      if (partition === undefined) {
        keyless ??= keylessTarget(topic);
        partition = keyless;
      }
      if (partition >= topic.partitions) throw unknownPartition(topic.name, partition, topic.partitions);
      let group = groups.get(partition);
      if (group === undefined) groups.set(partition, (group = { partition, records: [], indices: [] }));
      group.records.push(m); // a ProduceMessage is a RecordInput: no copy per message
      group.indices.push(i);
    }

    // Every message is checked before any is handed on: a bad request stores nothing.
    checkLeaders(topic, [...groups.keys()]);
    const slots = [...groups.values()].map((group) => requireOwner(ctx, topic, group.partition));
    const limit = batchLimit(topic);
    const appended = await Promise.all([...groups.values()].map((group, g) => coalescer.append(topic.name, group.partition, slots[g], acks, limit, group.records, call.closed)));

    const offsets: OffsetEntry[] = new Array(messages.length);
    let failure: RillError | undefined;
    let failed = 0;
    [...groups.values()].forEach((group, g) => {
      const result = appended[g];
      if (result.errorCode === 0) {
        group.indices.forEach((i, j) => (offsets[i] = { partition: group.partition, offset: acks === 0 ? null : result.baseOffset + j }));
        ctx.metrics.produced(topic.name, group.records.length, result.batchBytes);
        return;
      }
      failed++;
      const spec = errorSpecByCode(result.errorCode);
      const message = result.message ?? spec.message;
      failure ??= new RillError(spec, message, { topic: topic.name, partition: group.partition });
      for (const i of group.indices) offsets[i] = { partition: group.partition, offset: null, error: spec.type, message };
    });
    if (failure === undefined) return { status: acks === 0 ? 202 : 200, text: producedOffsetsJson(offsets) };
    if (failed === groups.size) throw failure;
    return { status: failure.httpStatus, json: { ...failure.toJSON(), offsets } };
  };

  return { method: 'POST', path: '/v1/topics/{topic}/messages', api: 'produce', handler };
}
