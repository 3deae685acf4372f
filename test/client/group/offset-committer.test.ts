// The offset committer: what it sends, what it remembers, and how refusals come back.

import { describe, expect, it } from 'vitest';
import { Errors, RillError } from '../../../src/errors.js';
import { ApiKeys } from '../../../src/protocol/index.js';
import { OffsetCommitter, type GenerationInfo } from '../../../src/client/group/offset-committer.js';
import { FakeCoordinator } from './fake-coordinator.js';

function setup(generation: GenerationInfo = { generationId: 3, memberId: 'm-1' }) {
  const coordinator = new FakeCoordinator();
  const committer = new OffsetCommitter(coordinator, 'g', () => generation);
  const stored: string[] = [];
  committer.onCommitted = (offsets) => stored.push(...offsets.map((o) => `${o.topic}-${o.partition}@${o.offset}`));
  return { coordinator, committer, stored };
}

describe('offset committer', () => {
  it('commits the offset after the last processed message, only for partitions that moved, with the generation', async () => {
    const { coordinator, committer, stored } = setup();
    committer.track('t', 0, 10);
    committer.track('t', 1, -1);
    committer.track('t', 2, 5);
    committer.markConsumed('t', 0, 11);
    committer.markConsumed('t', 0, 12);
    committer.markConsumed('t', 1, 1);
    expect(committer.uncommittedMessages).toBe(3);
    expect(committer.hasUncommitted()).toBe(true);
    await committer.commitConsumed();
    const [sent] = coordinator.sent(ApiKeys.OffsetCommit);
    expect(sent).toMatchObject({ groupId: 'g', generationId: 3, memberId: 'm-1' });
    expect(sent.partitions).toEqual([{ topic: 't', partition: 0, offset: 12 }, { topic: 't', partition: 1, offset: 1 }]);
    expect(stored).toEqual(['t-0@12', 't-1@1']);
    expect(committer.uncommittedMessages).toBe(0);
    expect(committer.hasUncommitted()).toBe(false);
    // Nothing new: nothing sent.
    await committer.commitConsumed();
    expect(coordinator.sent(ApiKeys.OffsetCommit)).toHaveLength(1);
    // A filter narrows the commit to some partitions (a revocation's).
    committer.markConsumed('t', 0, 20);
    committer.markConsumed('t', 2, 6);
    await committer.commitConsumed((_topic, partition) => partition === 2);
    expect(coordinator.sent(ApiKeys.OffsetCommit)[1].partitions).toEqual([{ topic: 't', partition: 2, offset: 6 }]);
    expect(committer.hasUncommitted()).toBe(true);
  });

  it('reports partitions the coordinator refused, naming them, and keeps the ones it stored', async () => {
    const { coordinator, committer, stored } = setup();
    coordinator.on(ApiKeys.OffsetCommit, (r) => ({ errorCode: 0, partitions: r.partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode: p.partition === 1 ? Errors.PARTITION_NOT_ASSIGNED.code : 0 })) }));
    committer.track('t', 0, -1);
    committer.track('t', 1, -1);
    committer.markConsumed('t', 0, 4);
    committer.markConsumed('t', 1, 4);
    const error = await committer.commitConsumed().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RillError);
    expect((error as RillError).code).toBe(Errors.PARTITION_NOT_ASSIGNED.code);
    expect((error as RillError).message).toMatch(/t-1/);
    expect(stored).toEqual(['t-0@4']);
    // t-0 is stored; t-1 is still to commit.
    expect(committer.hasUncommitted((_t, p) => p === 0)).toBe(false);
    expect(committer.hasUncommitted((_t, p) => p === 1)).toBe(true);
  });

  it('passes a whole-request error on with its code (a stale generation)', async () => {
    const { coordinator, committer } = setup();
    coordinator.on(ApiKeys.OffsetCommit, (r) => ({ errorCode: Errors.ILLEGAL_GENERATION.code, message: 'stale', partitions: r.partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode: Errors.ILLEGAL_GENERATION.code })) }));
    await expect(committer.commitOffsets([{ topic: 't', partition: 0, offset: 1 }])).rejects.toMatchObject({ code: Errors.ILLEGAL_GENERATION.code });
  });

  it('sends commits one at a time, in order: a later commit never lands before an earlier one', async () => {
    const { coordinator, committer } = setup();
    const releases: (() => void)[] = [];
    coordinator.on(ApiKeys.OffsetCommit, (r) => new Promise((resolve) => releases.push(() => resolve({ errorCode: 0, partitions: r.partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode: 0 })) }))));
    committer.track('t', 0, -1);
    committer.markConsumed('t', 0, 5);
    const first = committer.commitConsumed();
    await new Promise((resolve) => setImmediate(resolve));
    expect(coordinator.sent(ApiKeys.OffsetCommit)[0].partitions[0].offset).toBe(5);
    committer.markConsumed('t', 0, 9);
    const second = committer.commitConsumed();
    await new Promise((resolve) => setImmediate(resolve));
    expect(coordinator.sent(ApiKeys.OffsetCommit)).toHaveLength(1);
    releases.shift()!();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(coordinator.sent(ApiKeys.OffsetCommit)).toHaveLength(2);
    expect(coordinator.sent(ApiKeys.OffsetCommit)[1].partitions[0].offset).toBe(9);
    releases.shift()!();
    await second;
  });

  it('refuses to commit outside a membership, and bad offsets, before sending anything', async () => {
    const { coordinator, committer } = setup({ generationId: -1, memberId: '' });
    await expect(committer.commitOffsets([{ topic: 't', partition: 0, offset: 1 }])).rejects.toMatchObject({ code: Errors.UNKNOWN_MEMBER_ID.code });
    await expect(committer.commitOffsets([{ topic: 't', partition: -1, offset: 1 }])).rejects.toMatchObject({ code: Errors.INVALID_REQUEST.code });
    await expect(committer.commitOffsets([{ topic: '', partition: 0, offset: 1 }])).rejects.toMatchObject({ code: Errors.INVALID_REQUEST.code });
    await expect(committer.commitOffsets([{ topic: 't', partition: 0, offset: 1.5 }])).rejects.toMatchObject({ code: Errors.INVALID_REQUEST.code });
    expect(coordinator.sent(ApiKeys.OffsetCommit)).toHaveLength(0);
  });

  it('ignores progress on partitions it does not track (revoked ones)', async () => {
    const { coordinator, committer } = setup();
    committer.markConsumed('t', 7, 100);
    committer.track('t', 0, -1);
    committer.markConsumed('t', 0, 1);
    committer.untrack('t', 0);
    await committer.commitConsumed();
    expect(coordinator.sent(ApiKeys.OffsetCommit)).toHaveLength(0);
  });
});
