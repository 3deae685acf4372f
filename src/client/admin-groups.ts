// The admin's consumer-group tools: list, describe, committed offsets with log end offsets and
// lag, offset resets and deletion — what kafka-consumer-groups.sh does. Application thread.
//
// Group requests go to the group's coordinator (FindCoordinator, then that node); log end offsets
// come from each partition's leader (ListOffsets, list-offsets.ts): lag = log end − committed,
// per partition, as Kafka computes it (no lag where nothing is committed). Resets commit as a
// tool does in Kafka — generation -1, no member id — which the coordinator accepts only while the
// group has no members: a reset of a group with members is NON_EMPTY_GROUP, checked here first
// and enforced by the coordinator (group-offsets.ts on the broker).

import { Errors, RillError } from '../errors.js';
import { ApiKeys, type ApiKey, type DescribedMember, type RequestHeaders, type ResponseOf } from '../protocol/index.js';
import { type Cluster } from './cluster.js';
import { type Connection } from './connection.js';
import { errorFromCode } from './errors.js';
import { EARLIEST, LATEST, listOffsets } from './list-offsets.js';

export interface GroupListing {
  groupId: string;
  /** 'consumer' for consumer groups; '' for a group that only has committed offsets. */
  protocolType: string;
  state: string;
}

/** A member as DescribeGroups shows it (the protocol's own shape). */
export type GroupMemberDescription = DescribedMember;

export interface GroupDescription {
  groupId: string;
  /** 'Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable' (or 'Dead' while being deleted). */
  state: string;
  protocolType: string;
  /** The assignor of the current generation ('range', 'roundrobin', 'cooperative-sticky'); '' if none. */
  protocol: string;
  generationId: number;
  leader: string;
  members: GroupMemberDescription[];
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** -1 where the group has committed nothing. */
  committedOffset: number;
  metadata: string;
  logEndOffset: number;
  /** logEndOffset − committedOffset; null where nothing is committed. */
  lag: number | null;
}

export type ResetTarget = { to: 'earliest' } | { to: 'latest' } | { to: 'offset'; offset: number } | { to: 'timestamp'; timestamp: number };

export interface ResetOffsetsOptions {
  groupId: string;
  topic: string;
  /** Default: every partition of the topic. */
  partitions?: number[];
  target: ResetTarget;
  /** Only compute the plan (kafka-consumer-groups' default without --execute). */
  dryRun?: boolean;
}

export interface OffsetChange {
  topic: string;
  partition: number;
  /** -1 where nothing was committed. */
  currentOffset: number;
  newOffset: number;
}

/** How the group tools reach the cluster: through the admin's connected Cluster. */
export interface GroupAdminContext {
  cluster: Cluster;
  /** Throws when the admin is not connected. */
  checkConnected(): void;
}

const byPartition = (a: { topic: string; partition: number }, b: { topic: string; partition: number }): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;

/** The group's coordinator: FindCoordinator asked of any broker, then that node's connection. */
async function coordinator(cluster: Cluster, groupId: string): Promise<Connection> {
  const any = await cluster.anyConnection();
  const found = (await any.request(ApiKeys.FindCoordinator, { groupId })).header;
  if (found.errorCode !== 0) throw errorFromCode(found.errorCode, found.message ?? `finding the coordinator of group '${groupId}' failed`, { groupId });
  return cluster.connection(found.nodeId);
}

/** One request to the group's coordinator, retried while the failure is retriable (NOT_COORDINATOR, loading, a lost connection). */
function toCoordinator<K extends ApiKey>(ctx: GroupAdminContext, groupId: string, apiKey: K, header: RequestHeaders[K], check: (response: ResponseOf<K>) => void): Promise<ResponseOf<K>> {
  ctx.checkConnected();
  return ctx.cluster.retry.run(async () => {
    const connection = await coordinator(ctx.cluster, groupId);
    const response = await connection.request(apiKey, header, undefined, ctx.cluster.requestTimeoutMs);
    check(response);
    return response;
  });
}

function checkTop(what: string, groupId: string) {
  return (response: { header: { errorCode: number; message?: string } }): void => {
    const { errorCode, message } = response.header;
    if (errorCode !== 0) throw errorFromCode(errorCode, message ?? `${what} of group '${groupId}' failed`, { groupId });
  };
}

/**
 * The groups the cluster's coordinators know, sorted by id (optionally only those in `states`).
 * Each node answers for the groups it coordinates, so every broker is asked, as Kafka's admin
 * does; a broker that cannot answer is logged and left out (its groups are unreachable anyway
 * until it or a new leader of its __consumer_offsets partitions serves them). All failing throws.
 */
export async function listGroups(ctx: GroupAdminContext, options: { states?: string[] } = {}): Promise<GroupListing[]> {
  ctx.checkConnected();
  const listFrom = async (connection: Connection) => {
    const r = await connection.request(ApiKeys.ListGroups, { states: options.states }, undefined, ctx.cluster.requestTimeoutMs);
    checkTop('listing', '*')(r);
    return r.header.groups;
  };
  if (ctx.cluster.brokerIds().length === 0) await ctx.cluster.refreshMetadata();
  const ids = ctx.cluster.brokerIds();
  const answers = ids.length === 0
    ? [{ status: 'fulfilled' as const, value: await ctx.cluster.retry.run(async () => listFrom(await ctx.cluster.anyConnection())) }]
    : await Promise.allSettled(ids.map((id) => ctx.cluster.retry.run(async () => listFrom(await ctx.cluster.connection(id)))));
  const failed = answers.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
  if (failed.length === answers.length) throw failed[0].reason;
  for (const f of failed) ctx.cluster.logger.warn({ err: f.reason }, 'listing groups: a broker did not answer; its groups are left out');
  const byId = new Map<string, GroupListing>();
  for (const a of answers) if (a.status === 'fulfilled') for (const g of a.value) byId.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType, state: g.state });
  return [...byId.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
}

/** State, assignor and members (client id, host, assignment) of each group; GROUP_ID_NOT_FOUND throws. */
export async function describeGroups(ctx: GroupAdminContext, groupIds: string[]): Promise<GroupDescription[]> {
  return Promise.all(
    groupIds.map(async (groupId) => {
      const response = await toCoordinator(ctx, groupId, ApiKeys.DescribeGroups, { groups: [groupId] }, (r) => {
        const g = r.header.groups[0];
        if (g === undefined) throw new RillError(Errors.UNKNOWN_SERVER_ERROR, `DescribeGroups answered nothing for group '${groupId}'`);
        if (g.errorCode !== 0) throw errorFromCode(g.errorCode, g.message ?? `describing group '${groupId}' failed`, { groupId });
      });
      const g = response.header.groups[0];
      return {
        groupId,
        state: g.state,
        protocolType: g.protocolType,
        protocol: g.protocolName,
        generationId: g.generationId,
        leader: g.leader,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          ...(m.groupInstanceId === undefined ? {} : { groupInstanceId: m.groupInstanceId }),
          clientId: m.clientId,
          clientHost: m.clientHost,
          sessionTimeoutMs: m.sessionTimeoutMs,
          subscription: m.subscription,
          assignment: m.assignment,
        })),
      };
    }),
  );
}

/**
 * Per partition: the committed offset, the log end offset and the lag. Covers every partition
 * with a commit, plus every partition of `topics` (committed -1 where the group has none).
 */
export async function fetchOffsets(ctx: GroupAdminContext, options: { groupId: string; topics?: string[] }): Promise<PartitionLag[]> {
  const { groupId } = options;
  const response = await toCoordinator(ctx, groupId, ApiKeys.OffsetFetch, { groupId }, checkTop('fetching offsets', groupId));
  const rows = new Map<string, PartitionLag>();
  const put = (topic: string, partition: number, committedOffset: number, metadata: string) =>
    rows.set(`${topic}\u0000${partition}`, { topic, partition, committedOffset, metadata, logEndOffset: -1, lag: null });
  if (options.topics !== undefined && options.topics.length > 0) {
    await ctx.cluster.ensureTopics(options.topics);
    for (const topic of options.topics) {
      const info = ctx.cluster.topic(topic);
      if (info === undefined || info.errorCode !== 0) throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' does not exist`, { topic });
      for (const p of info.partitions) put(topic, p.partition, -1, '');
    }
  }
  for (const p of response.header.partitions) {
    if (p.errorCode !== 0) throw errorFromCode(p.errorCode, `fetching the offset of ${p.topic}-${p.partition} for group '${groupId}' failed`, { groupId, topic: p.topic, partition: p.partition });
    if (p.offset >= 0) put(p.topic, p.partition, p.offset, p.metadata);
  }
  const list = [...rows.values()].sort(byPartition);
  // Commits may name topics deleted since: those keep log end -1 and no lag.
  await ctx.cluster.ensureTopics([...new Set(list.map((r) => r.topic))]).catch(() => undefined);
  const existing = list.filter((r) => {
    const info = ctx.cluster.topic(r.topic);
    return info !== undefined && info.errorCode === 0 && r.partition < info.partitions.length;
  });
  const ends = await listOffsets(ctx.cluster, existing.map((r) => ({ topic: r.topic, partition: r.partition, timestamp: LATEST })));
  existing.forEach((r, i) => {
    r.logEndOffset = ends[i].offset;
    r.lag = r.committedOffset >= 0 ? Math.max(0, r.logEndOffset - r.committedOffset) : null;
  });
  return list;
}

/**
 * Plans (dryRun) or commits new offsets for a topic's partitions: to the earliest or latest
 * offset, an offset (kept within [earliest, latest], as Kafka's tool does) or the first offset
 * at or after a time. Only for a group without members (NON_EMPTY_GROUP otherwise).
 */
export async function resetOffsets(ctx: GroupAdminContext, options: ResetOffsetsOptions): Promise<OffsetChange[]> {
  const { groupId, topic, target } = options;
  if (target.to === 'offset' && (!Number.isSafeInteger(target.offset) || target.offset < 0)) {
    throw new RillError(Errors.INVALID_REQUEST, `an offset to reset to must be a non-negative integer, got ${target.offset}`);
  }
  if (target.to === 'timestamp' && (!Number.isSafeInteger(target.timestamp) || target.timestamp < 0)) {
    throw new RillError(Errors.INVALID_REQUEST, `a time to reset to must be milliseconds since the epoch, got ${target.timestamp}`);
  }
  await ctx.cluster.ensureTopics([topic]);
  const info = ctx.cluster.topic(topic);
  if (info === undefined || info.errorCode !== 0) throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' does not exist`, { topic });
  const all = info.partitions.map((p) => p.partition);
  const partitions = options.partitions ?? all;
  for (const p of partitions) {
    if (!all.includes(p)) throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' has no partition ${p}`, { topic, partition: p });
  }
  await assertNoMembers(ctx, groupId, 'reset the offsets of');
  const current = new Map((await fetchOffsets(ctx, { groupId, topics: [topic] })).map((r) => [r.partition, r]));
  const bounds = await listOffsets(ctx.cluster, partitions.flatMap((partition) => [{ topic, partition, timestamp: EARLIEST }, { topic, partition, timestamp: LATEST }]));
  let byTime: number[] = [];
  if (target.to === 'timestamp') byTime = (await listOffsets(ctx.cluster, partitions.map((partition) => ({ topic, partition, timestamp: target.timestamp })))).map((a) => a.offset);
  const plan = partitions.map((partition, i): OffsetChange => {
    const earliest = bounds[2 * i].offset;
    const latest = bounds[2 * i + 1].offset;
    let newOffset: number;
    if (target.to === 'earliest') newOffset = earliest;
    else if (target.to === 'latest') newOffset = latest;
    else if (target.to === 'offset') newOffset = Math.min(latest, Math.max(earliest, target.offset));
    else newOffset = byTime[i] < 0 ? latest : byTime[i];
    return { topic, partition, currentOffset: current.get(partition)?.committedOffset ?? -1, newOffset };
  });
  if (!options.dryRun) await setOffsets(ctx, { groupId, topic, partitions: plan.map((c) => ({ partition: c.partition, offset: c.newOffset })) });
  return plan;
}

/** Commits the given offsets for a group without members (Kafka's admin setOffsets). */
export async function setOffsets(ctx: GroupAdminContext, options: { groupId: string; topic: string; partitions: { partition: number; offset: number; metadata?: string }[] }): Promise<void> {
  const { groupId, topic } = options;
  if (options.partitions.length === 0) return;
  await toCoordinator(
    ctx,
    groupId,
    ApiKeys.OffsetCommit,
    { groupId, generationId: -1, memberId: '', partitions: options.partitions.map((p) => ({ topic, partition: p.partition, offset: p.offset, metadata: p.metadata ?? '' })) },
    (r) => {
      checkTop('committing offsets', groupId)(r);
      const failed = r.header.partitions.find((p) => p.errorCode !== 0);
      if (failed !== undefined) throw errorFromCode(failed.errorCode, `committing ${failed.topic}-${failed.partition} for group '${groupId}' failed`, { groupId, topic: failed.topic, partition: failed.partition });
    },
  );
}

/** Deletes groups without members, with their committed offsets; throws the first failure. */
export async function deleteGroups(ctx: GroupAdminContext, groupIds: string[]): Promise<void> {
  for (const groupId of groupIds) {
    await toCoordinator(ctx, groupId, ApiKeys.DeleteGroups, { groups: [groupId] }, (r) => {
      const result = r.header.groups[0];
      if (result !== undefined && result.errorCode !== 0) throw errorFromCode(result.errorCode, result.message ?? `deleting group '${groupId}' failed`, { groupId });
    });
  }
}

/** NON_EMPTY_GROUP unless the group has no members (or does not exist yet). */
async function assertNoMembers(ctx: GroupAdminContext, groupId: string, what: string): Promise<void> {
  let description: GroupDescription;
  try {
    [description] = await describeGroups(ctx, [groupId]);
  } catch (error) {
    if (error instanceof RillError && error.code === Errors.GROUP_ID_NOT_FOUND.code) return;
    throw error;
  }
  if (description.members.length > 0) {
    throw new RillError(Errors.NON_EMPTY_GROUP, `cannot ${what} group '${groupId}': it has ${description.members.length} member(s) (state ${description.state}); stop them first`, { groupId });
  }
}
