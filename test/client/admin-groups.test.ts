// The admin's group tools (admin-groups.ts) against a real GroupCoordinator on an in-memory log,
// behind a stand-in cluster: lag from OffsetFetch plus ListOffsets, resets to every kind of target,
// Kafka's empty-group rule, and the errors a user sees.

import { describe, expect, it } from 'vitest';
import { Errors, RillError } from '../../src/errors.js';
import { ApiKeys } from '../../src/protocol/index.js';
import { type Cluster } from '../../src/client/cluster.js';
import { RetryPolicy } from '../../src/client/retry.js';
import { deleteGroups, describeGroups, fetchOffsets, listGroups, resetOffsets, type GroupAdminContext } from '../../src/client/admin-groups.js';
import { coordinator, flush, joinNew } from '../broker/groups/coordinator-fixture.js';

/** Log start, end and a record time per partition of topic 't' (3 partitions). */
const LOGS = [
  { start: 0, end: 100, timeOffset: (ts: number) => (ts <= 5000 ? 40 : -1) },
  { start: 10, end: 20, timeOffset: () => 15 },
  { start: 0, end: 0, timeOffset: () => -1 },
];

function setup() {
  const { c } = coordinator();
  const connection = {
    async request(apiKey: number, header: any): Promise<{ header: unknown }> {
      switch (apiKey) {
        case ApiKeys.FindCoordinator:
          return { header: { errorCode: 0, nodeId: 1, host: '127.0.0.1', port: 1, partition: c.partitionOf(header.groupId) } };
        case ApiKeys.ListGroups:
          return { header: { errorCode: 0, groups: c.listGroups(header.states) } };
        case ApiKeys.DescribeGroups:
          return { header: { groups: c.describe(header.groups) } };
        case ApiKeys.OffsetFetch:
          return { header: c.fetchOffsets(header) };
        case ApiKeys.OffsetCommit:
          return { header: await c.commit(header) };
        case ApiKeys.DeleteGroups:
          return { header: { groups: await c.deleteGroups(header.groups) } };
        case ApiKeys.ListOffsets:
          return {
            header: {
              partitions: header.partitions.map((p: { topic: string; partition: number; timestamp: number }) => {
                const log = LOGS[p.partition];
                const offset = p.timestamp === -2 ? log.start : p.timestamp === -1 ? log.end : log.timeOffset(p.timestamp);
                return { topic: p.topic, partition: p.partition, errorCode: 0, offset, timestamp: -1 };
              }),
            },
          };
        default:
          throw new Error(`unexpected api ${apiKey}`);
      }
    },
  };
  const topics = new Map([['t', { name: 't', errorCode: 0, partitions: LOGS.map((_, partition) => ({ partition, leader: 1 })) }]]);
  const cluster = {
    requestTimeoutMs: 1000,
    retry: new RetryPolicy({ retries: 0 }),
    anyConnection: async () => connection,
    connection: async () => connection,
    brokerIds: () => [1],
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ensureTopics: async (names: string[]) => {
      const missing = names.find((n) => !topics.has(n));
      if (missing !== undefined) throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `topic '${missing}' does not exist`);
    },
    topic: (name: string) => topics.get(name),
    leaderOf: () => 1,
    requestRefresh: () => undefined,
  } as unknown as Cluster;
  const ctx: GroupAdminContext = { cluster, checkConnected: () => undefined };
  return { c, ctx };
}

describe('admin group tools', () => {
  it('gives committed offset, log end offset and lag per partition', async () => {
    const { c, ctx } = setup();
    await c.commit({ groupId: 'g', generationId: -1, memberId: '', partitions: [{ topic: 't', partition: 0, offset: 30, metadata: 'm' }] });
    expect(await fetchOffsets(ctx, { groupId: 'g' })).toEqual([{ topic: 't', partition: 0, committedOffset: 30, metadata: 'm', logEndOffset: 100, lag: 70 }]);
    const all = await fetchOffsets(ctx, { groupId: 'g', topics: ['t'] });
    expect(all.map((r) => [r.partition, r.committedOffset, r.logEndOffset, r.lag])).toEqual([
      [0, 30, 100, 70],
      [1, -1, 20, null],
      [2, -1, 0, null],
    ]);
    await expect(fetchOffsets(ctx, { groupId: 'g', topics: ['nope'] })).rejects.toMatchObject({ code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code });
  });

  it('resets to earliest, latest, an offset (kept within the log) and a time; a dry run commits nothing', async () => {
    const { ctx } = setup();
    const plan = await resetOffsets(ctx, { groupId: 'g', topic: 't', target: { to: 'earliest' }, dryRun: true });
    expect(plan.map((p) => p.newOffset)).toEqual([0, 10, 0]);
    expect(await fetchOffsets(ctx, { groupId: 'g' })).toEqual([]);
    await resetOffsets(ctx, { groupId: 'g', topic: 't', target: { to: 'latest' } });
    expect((await fetchOffsets(ctx, { groupId: 'g' })).map((r) => r.committedOffset)).toEqual([100, 20, 0]);
    const clamped = await resetOffsets(ctx, { groupId: 'g', topic: 't', partitions: [0, 1], target: { to: 'offset', offset: 15 } });
    expect(clamped.map((p) => [p.currentOffset, p.newOffset])).toEqual([
      [100, 15],
      [20, 15],
    ]);
    const byTime = await resetOffsets(ctx, { groupId: 'g', topic: 't', target: { to: 'timestamp', timestamp: 9000 } });
    expect(byTime.map((p) => p.newOffset)).toEqual([100, 15, 0]); // no record that recent: latest
  });

  it('refuses resets and deletion while the group has members, and answers unknown groups clearly', async () => {
    const { c, ctx } = setup();
    const { answer } = await joinNew(c, 'live');
    await flush();
    const joined = await answer;
    expect(joined.errorCode).toBe(0);
    await expect(resetOffsets(ctx, { groupId: 'live', topic: 't', target: { to: 'earliest' } })).rejects.toMatchObject({ code: Errors.NON_EMPTY_GROUP.code });
    await expect(deleteGroups(ctx, ['live'])).rejects.toMatchObject({ code: Errors.NON_EMPTY_GROUP.code });
    const [described] = await describeGroups(ctx, ['live']);
    expect(described).toMatchObject({ groupId: 'live', protocol: 'range', members: [{ memberId: joined.memberId, clientId: 'test', clientHost: '127.0.0.1' }] });
    expect((await listGroups(ctx)).map((g) => g.groupId)).toEqual(['live']);
    await expect(describeGroups(ctx, ['ghost'])).rejects.toMatchObject({ code: Errors.GROUP_ID_NOT_FOUND.code });
    await expect(resetOffsets(ctx, { groupId: 'g', topic: 't', target: { to: 'offset', offset: -3 } })).rejects.toMatchObject({ code: Errors.INVALID_REQUEST.code });
    await expect(resetOffsets(ctx, { groupId: 'g', topic: 't', partitions: [7], target: { to: 'earliest' } })).rejects.toMatchObject({ code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code });
  });

  it('deletes an empty group with its offsets', async () => {
    const { ctx } = setup();
    await resetOffsets(ctx, { groupId: 'old', topic: 't', target: { to: 'latest' } });
    await deleteGroups(ctx, ['old']);
    expect(await listGroups(ctx)).toEqual([]);
    await expect(deleteGroups(ctx, ['old'])).rejects.toMatchObject({ code: Errors.GROUP_ID_NOT_FOUND.code });
  });
});
