// Consumer-group consumption for HTTP-only clients, in the spirit of the Confluent REST proxy:
// create a member of a group, subscribe it, poll messages, commit, delete it. Main thread.
//
//   POST   /v1/groups/{group}/members                       create (201, its name and URI)
//   DELETE /v1/groups/{group}/members/{member}              commit (autoCommit) and leave
//   POST   /v1/groups/{group}/members/{member}/subscription { "topics": [...] } | { "pattern": "..." }
//   GET    /v1/groups/{group}/members/{member}/subscription
//   DELETE /v1/groups/{group}/members/{member}/subscription
//   GET    /v1/groups/{group}/members/{member}/messages     ?maxMessages&waitMs&encoding
//   POST   /v1/groups/{group}/members/{member}/offsets      { "offsets": [...] } or none: all polled
//   GET    /v1/groups/{group}/members/{member}/offsets      committed, for the assigned partitions
//   GET    /v1/groups/{group}/members/{member}/assignment
//
// A member lives on the node that created it (its URI says where); the registry bounds how many
// there are and closes idle ones. A poll that waits takes a place in the long-poll limiter, as a
// waiting fetch does.

import { Errors, RillError } from '../../errors.js';
import { ok, type HttpCall, type Reply } from '../http-call.js';
import { type HttpContext } from '../http-context.js';
import { invalidRequest } from '../http-errors.js';
import { recordToJson } from '../json-messages.js';
import { enumParam, intParam } from '../query.js';
import { bodyKind, parseJson, readBody } from '../request-body.js';
import { type Route } from '../router.js';
import { type MemberRegistry } from '../groups/member-registry.js';
import { type MemberSession, type MemberSettings, type Subscription, type TopicPartitionOffset } from '../groups/member-session.js';
import { validGroupId } from '../groups/group-id.js';

const DEFAULT_MAX_MESSAGES = 500;
const MAX_MAX_MESSAGES = 10_000;
const ASSIGNORS = ['range', 'round-robin', 'cooperative-sticky'] as const;
/** The patterns a subscription may use: a regular expression, bounded so it cannot be a payload. */
const MAX_PATTERN_LENGTH = 1000;
const MAX_TOPICS = 10_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface MemberDefaults {
  sessionTimeoutMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
}

function parseCreate(groupId: string, body: unknown, defaults: MemberDefaults): Omit<MemberSettings, 'name'> & { name?: string } {
  if (!isObject(body)) throw invalidRequest('the body must be a JSON object, e.g. { "autoOffsetReset": "earliest" } (every field optional)');
  const { name, autoOffsetReset, autoCommit, sessionTimeoutMs, assignor, ...rest } = body;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw invalidRequest(`unknown field ${JSON.stringify(unknown[0])}; known: name, autoOffsetReset, autoCommit, sessionTimeoutMs, assignor`);
  if (name !== undefined && typeof name !== 'string') throw invalidRequest('"name" must be a string');
  if (autoOffsetReset !== undefined && autoOffsetReset !== 'earliest' && autoOffsetReset !== 'latest') throw invalidRequest('"autoOffsetReset" must be "earliest" or "latest"');
  if (autoCommit !== undefined && typeof autoCommit !== 'boolean') throw invalidRequest('"autoCommit" must be true or false');
  if (assignor !== undefined && !ASSIGNORS.includes(assignor as (typeof ASSIGNORS)[number])) throw invalidRequest(`"assignor" must be one of ${ASSIGNORS.join(', ')}`);
  let session = defaults.sessionTimeoutMs;
  if (sessionTimeoutMs !== undefined) {
    if (typeof sessionTimeoutMs !== 'number' || !Number.isSafeInteger(sessionTimeoutMs) || sessionTimeoutMs < defaults.minSessionTimeoutMs || sessionTimeoutMs > defaults.maxSessionTimeoutMs) {
      throw new RillError(Errors.INVALID_SESSION_TIMEOUT, `"sessionTimeoutMs" must be an integer from ${defaults.minSessionTimeoutMs} to ${defaults.maxSessionTimeoutMs} (group.min/max.session.timeout.ms)`);
    }
    session = sessionTimeoutMs;
  }
  return {
    groupId,
    ...(name === undefined ? {} : { name }),
    autoOffsetReset: autoOffsetReset ?? 'latest',
    autoCommit: autoCommit ?? true,
    sessionTimeoutMs: session,
    assignor: (assignor as string | undefined) ?? 'cooperative-sticky',
  };
}

function parseSubscription(body: unknown): Subscription {
  if (!isObject(body)) throw invalidRequest('the body must be { "topics": ["a", "b"] } or { "pattern": "orders-.*" }');
  const { topics, pattern } = body;
  if ((topics === undefined) === (pattern === undefined)) throw invalidRequest('give exactly one of "topics" and "pattern"');
  if (topics !== undefined) {
    if (!Array.isArray(topics) || topics.length === 0 || topics.length > MAX_TOPICS || !topics.every((t) => typeof t === 'string' && t !== '')) {
      throw invalidRequest(`"topics" must be a list of 1 to ${MAX_TOPICS} topic names`);
    }
    return { topics: [...new Set(topics as string[])] };
  }
  if (typeof pattern !== 'string' || pattern === '' || pattern.length > MAX_PATTERN_LENGTH) throw invalidRequest(`"pattern" must be a regular expression of 1 to ${MAX_PATTERN_LENGTH} characters`);
  try {
    // Anchored, as Kafka's subscribe(Pattern) matches whole topic names.
    return { pattern: new RegExp(`^(?:${pattern})$`) };
  } catch (error) {
    throw invalidRequest(`"pattern" is not a valid regular expression: ${(error as Error).message}`);
  }
}

function parseOffsets(body: unknown): TopicPartitionOffset[] | undefined {
  if (body === undefined) return undefined;
  if (!isObject(body)) throw invalidRequest('the body must be { "offsets": [{ "topic": ..., "partition": ..., "offset": ... }] }, or empty to commit everything polled');
  const { offsets } = body;
  if (offsets === undefined) return undefined;
  if (!Array.isArray(offsets) || offsets.length > 100_000) throw invalidRequest('"offsets" must be a list');
  return offsets.map((o, i) => {
    if (!isObject(o)) throw invalidRequest(`offsets[${i}] must be { "topic", "partition", "offset" }`);
    const { topic, partition, offset } = o;
    if (typeof topic !== 'string' || topic === '') throw invalidRequest(`offsets[${i}].topic must be a topic name`);
    if (typeof partition !== 'number' || !Number.isSafeInteger(partition) || partition < 0) throw invalidRequest(`offsets[${i}].partition must be a partition number`);
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw invalidRequest(`offsets[${i}].offset must be a non-negative integer (the next offset to consume)`);
    return { topic, partition, offset };
  });
}

/** An optional JSON body: empty is undefined. */
async function optionalJson(ctx: HttpContext, call: HttpCall): Promise<unknown> {
  const body = await readBody(call.req, ctx.config.httpMaxBodyBytes);
  if (body.length === 0) return undefined;
  bodyKind(call.req, ['json']);
  return parseJson(body);
}

function describeSubscription(s: Subscription | null): unknown {
  if (s === null) return { topics: [], pattern: null };
  if (s.pattern !== undefined) return { topics: [], pattern: s.pattern.source.slice(4, -2) };
  return { topics: s.topics, pattern: null };
}

export function groupMemberRoutes(ctx: HttpContext, members: MemberRegistry, defaults: MemberDefaults): Route[] {
  const base = '/v1/groups/{group}/members';
  const member = `${base}/{member}`;
  const on = <T>(call: HttpCall, fn: (session: MemberSession) => Promise<T>) => members.use(validGroupId(call.params.group), call.params.member, fn);

  return [
    {
      method: 'POST',
      path: base,
      api: 'group_member_create',
      handler: async (call): Promise<Reply> => {
        const groupId = validGroupId(call.params.group);
        const settings = parseCreate(groupId, (await optionalJson(ctx, call)) ?? {}, defaults);
        const session = members.create(settings);
        const { name } = session.settings;
        return ok({ group: groupId, name, uri: `/v1/groups/${encodeURIComponent(groupId)}/members/${name}` }, 201);
      },
    },
    {
      method: 'DELETE',
      path: member,
      api: 'group_member_delete',
      handler: async (call) => {
        await members.remove(validGroupId(call.params.group), call.params.member);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: `${member}/subscription`,
      api: 'group_member_subscribe',
      handler: async (call) => {
        bodyKind(call.req, ['json']);
        const subscription = parseSubscription(parseJson(await readBody(call.req, ctx.config.httpMaxBodyBytes)));
        return on(call, async (session) => {
          await session.subscribe(subscription);
          return { status: 204 };
        });
      },
    },
    {
      method: 'GET',
      path: `${member}/subscription`,
      api: 'group_member_subscription',
      handler: (call) => on(call, async (session) => ok(describeSubscription(session.subscription()))),
    },
    {
      method: 'DELETE',
      path: `${member}/subscription`,
      api: 'group_member_unsubscribe',
      handler: (call) =>
        on(call, async (session) => {
          await session.unsubscribe();
          return { status: 204 };
        }),
    },
    {
      method: 'GET',
      path: `${member}/messages`,
      api: 'group_member_poll',
      handler: (call) => {
        const { query } = call;
        const maxMessages = intParam(query, 'maxMessages', DEFAULT_MAX_MESSAGES, 1, MAX_MAX_MESSAGES);
        const waitMs = intParam(query, 'waitMs', 0, 0, ctx.config.httpMaxWaitMs);
        const encoding = enumParam(query, 'encoding', ['utf8', 'base64'], 'utf8');
        return on(call, async (session) => {
          if (session.subscription() === null) throw new RillError(Errors.NOT_SUBSCRIBED, `member ${session.settings.name} of group ${session.settings.groupId} has no subscription: POST its /subscription first`);
          const release = waitMs > 0 ? ctx.longPolls.acquire() : () => {};
          try {
            const polled = await session.poll({ maxMessages, waitMs, cancelled: call.closed });
            return ok({ messages: polled.map((m) => ({ topic: m.topic, partition: m.partition, ...recordToJson(m, encoding) })) });
          } finally {
            release();
          }
        });
      },
    },
    {
      method: 'POST',
      path: `${member}/offsets`,
      api: 'group_member_commit',
      handler: async (call) => {
        const offsets = parseOffsets(await optionalJson(ctx, call));
        return on(call, async (session) => ok({ offsets: await session.commit(offsets) }));
      },
    },
    {
      method: 'GET',
      path: `${member}/offsets`,
      api: 'group_member_committed',
      handler: (call) => on(call, async (session) => ok({ offsets: await session.committed() })),
    },
    {
      method: 'GET',
      path: `${member}/assignment`,
      api: 'group_member_assignment',
      handler: (call) => on(call, async (session) => ok({ partitions: session.assignment() })),
    },
  ];
}
