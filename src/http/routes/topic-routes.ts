// Topic administration over HTTP: create, list, describe, grow, delete. Main thread.
//
// These go through the same Admin the binary protocol's CreateTopics / ListTopics /
// DescribeTopics / CreatePartitions / DeleteTopics use, so both fronts create, place, open and delete topics alike.

import { fromCode, invalidRequest } from '../http-errors.js';
import { ok, type HttpCall, type Reply } from '../http-call.js';
import { type Route } from '../router.js';
import { type HttpContext } from '../http-context.js';
import { bodyKind, parseJson, readBody } from '../request-body.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface CreateBody {
  name: string;
  partitions?: number;
  replicationFactor?: number;
  configs: Record<string, string>;
}

function parseCreate(body: unknown): CreateBody {
  if (!isObject(body)) throw invalidRequest('the body must be a JSON object: { "name": ..., "partitions": ..., "config": { ... } }');
  const { name, partitions, replicationFactor, config } = body;
  if (typeof name !== 'string' || name === '') throw invalidRequest('"name" must be a non-empty string');
  if (partitions !== undefined && (typeof partitions !== 'number' || !Number.isSafeInteger(partitions))) throw invalidRequest('"partitions" must be an integer');
  if (replicationFactor !== undefined && (typeof replicationFactor !== 'number' || !Number.isSafeInteger(replicationFactor))) throw invalidRequest('"replicationFactor" must be an integer');
  const configs: Record<string, string> = {};
  if (config !== undefined) {
    if (!isObject(config)) throw invalidRequest('"config" must be an object of topic settings, e.g. { "retention.ms": 86400000 }');
    for (const [key, value] of Object.entries(config)) {
      if (typeof value !== 'string' && typeof value !== 'number') throw invalidRequest(`config "${key}" must be a string or a number`);
      configs[key] = String(value);
    }
  }
  return { name, partitions, replicationFactor, configs };
}

/** The topic as GET /v1/topics/{topic} shows it, or its error. */
async function describe(ctx: HttpContext, name: string): Promise<unknown> {
  const { topics } = await ctx.admin.describeTopics({ topics: [name] });
  const topic = topics[0];
  if (topic.errorCode !== 0) throw fromCode(topic.errorCode, topic.message, { topic: name });
  return {
    name: topic.name,
    topicId: topic.topicId,
    internal: topic.internal,
    config: topic.configs,
    partitions: topic.partitions.map(({ errorCode, ...partition }) => (errorCode === 0 ? partition : { ...partition, error: fromCode(errorCode, undefined).type })),
  };
}

/** How long a created topic may take to reach this node's metadata (a Raft commit, then applied here). */
const APPLY_WAIT_MS = 5_000;

/**
 * In a cluster the controller commits a new topic and every node applies it a moment later; the
 * node that forwarded the creation waits for it, so that the answer describes the topic rather
 * than "does not exist". Bounded: past the bound the describe answers as it can.
 */
async function appliedHere(ctx: HttpContext, name: string, partitions = 1): Promise<void> {
  if (ctx.cluster() === null) return;
  const deadline = Date.now() + APPLY_WAIT_MS;
  while ((ctx.registry.get(name)?.partitions ?? 0) < partitions && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** The body of POST /v1/topics/{topic}/partitions: the new total count, Kafka's createPartitions. */
function parseGrow(body: unknown): { count: number; validateOnly: boolean } {
  if (!isObject(body)) throw invalidRequest('the body must be a JSON object: { "count": <the new total number of partitions> }');
  const { count, validateOnly } = body;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) throw invalidRequest('"count" must be a positive integer: the new total number of partitions');
  if (validateOnly !== undefined && typeof validateOnly !== 'boolean') throw invalidRequest('"validateOnly" must be true or false');
  return { count, validateOnly: validateOnly === true };
}

export function topicRoutes(ctx: HttpContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/topics',
      api: 'create_topic',
      handler: async (call: HttpCall): Promise<Reply> => {
        bodyKind(call.req, ['json']);
        const wanted = parseCreate(parseJson(await readBody(call.req, ctx.config.httpMaxBodyBytes)));
        const { topics } = await ctx.admin.createTopics({ topics: [{ name: wanted.name, partitions: wanted.partitions, replicationFactor: wanted.replicationFactor, configs: wanted.configs }] });
        const created = topics[0];
        if (created.errorCode !== 0) throw fromCode(created.errorCode, created.message, { topic: wanted.name });
        await appliedHere(ctx, wanted.name);
        return ok(await describe(ctx, wanted.name), 201);
      },
    },
    {
      method: 'GET',
      path: '/v1/topics',
      api: 'list_topics',
      handler: async (call) => ok(ctx.admin.listTopics({ includeInternal: call.query.get('includeInternal') === 'true' })),
    },
    {
      method: 'GET',
      path: '/v1/topics/{topic}',
      api: 'describe_topic',
      handler: async (call) => ok(await describe(ctx, call.params.topic)),
    },
    {
      method: 'POST',
      path: '/v1/topics/{topic}/partitions',
      api: 'create_partitions',
      handler: async (call: HttpCall): Promise<Reply> => {
        const name = call.params.topic;
        bodyKind(call.req, ['json']);
        const { count, validateOnly } = parseGrow(parseJson(await readBody(call.req, ctx.config.httpMaxBodyBytes)));
        const { topics } = await ctx.admin.createPartitions({ topics: [{ name, count }], validateOnly });
        if (topics[0].errorCode !== 0) throw fromCode(topics[0].errorCode, topics[0].message, { topic: name });
        if (validateOnly) return ok({ name, partitions: count, validateOnly: true });
        await appliedHere(ctx, name, count);
        return ok(await describe(ctx, name));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/topics/{topic}',
      api: 'delete_topic',
      handler: async (call) => {
        const name = call.params.topic;
        const { topics } = await ctx.admin.deleteTopics({ topics: [name] });
        if (topics[0].errorCode !== 0) throw fromCode(topics[0].errorCode, topics[0].message ?? `topic '${name}' does not exist`, { topic: name });
        ctx.metrics.forgetTopic(name);
        return ok({ name, deleted: true });
      },
    },
  ];
}
