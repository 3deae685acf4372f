// What a rebalance does to a member's partitions, with a fake coordinator and a fake fetcher:
// eager revocation commits before it lets go; cooperative revokes only what moves; lost
// partitions are dropped without a commit; new partitions start at their commit or the reset.

import { describe, expect, it } from 'vitest';
import { Errors, type RillError } from '../../../src/errors.js';
import { ApiKeys } from '../../../src/protocol/index.js';
import { type Cluster } from '../../../src/client/cluster.js';
import { type Consumer } from '../../../src/client/consumer.js';
import { errorFromCode } from '../../../src/client/errors.js';
import { silentLogger } from '../../../src/client/logger.js';
import { OffsetCommitter } from '../../../src/client/group/offset-committer.js';
import { RebalanceHandler, type TopicPartition } from '../../../src/client/group/rebalance-handler.js';
import { Subscription } from '../../../src/client/group/subscription.js';
import { FakeCoordinator } from './fake-coordinator.js';

function setup(committedOffsets: Record<number, number> = {}) {
  const coordinator = new FakeCoordinator();
  coordinator.on(ApiKeys.OffsetFetch, (r) => ({ errorCode: 0, partitions: (r.partitions ?? []).map((p) => ({ ...p, offset: committedOffsets[p.partition] ?? -1, metadata: '', commitTimestamp: -1, errorCode: 0 })) }));
  const assigned: unknown[][] = [];
  const fetcher = { assign: (a: unknown[]) => assigned.push(a) } as unknown as Consumer;
  const committer = new OffsetCommitter(coordinator, 'g', () => ({ generationId: 1, memberId: 'm' }));
  const events: string[] = [];
  let inFlight: Promise<unknown> | null = null;
  const handler = new RebalanceHandler({
    groupId: 'g',
    cluster: {} as Cluster,
    fetcher,
    channel: coordinator,
    committer,
    subscription: new Subscription(),
    logger: silentLogger,
    listener: {
      onPartitionsAssigned: (ps: TopicPartition[]) => void events.push(`assigned ${ps.map((p) => p.partition).join(',')}`),
      onPartitionsRevoked: (ps: TopicPartition[]) => void events.push(`revoked ${ps.map((p) => p.partition).join(',')} commits=${coordinator.sent(ApiKeys.OffsetCommit).length}`),
      onPartitionsLost: (ps: TopicPartition[]) => void events.push(`lost ${ps.map((p) => p.partition).join(',')}`),
    },
    autoCommit: () => true,
    autoOffsetReset: () => 'earliest',
    inFlight: () => inFlight,
    emit: () => undefined,
    releasing: (keys) => void events.push(`releasing ${keys.size}`),
    fatal: () => undefined,
  });
  return { coordinator, committer, handler, assigned, events, setInFlight: (p: Promise<unknown> | null) => (inFlight = p) };
}

const tps = (...partitions: number[]) => [{ topic: 't', partitions }];

describe('rebalance handler', () => {
  it('assigns new partitions at their committed offset, or at autoOffsetReset without one', async () => {
    const { handler, assigned, events } = setup({ 0: 42 });
    expect(await handler.assigned(tps(0, 1), 'eager')).toBe(false);
    expect(assigned.at(-1)).toEqual([{ topic: 't', partition: 0, offset: 42 }, { topic: 't', partition: 1, offset: 'earliest' }]);
    expect(handler.accepts('t', 0)).toBe(true);
    expect(handler.accepts('t', 2)).toBe(false);
    expect(events).toEqual(['assigned 0,1']);
  });

  it('eager: before a join, waits for the message in hand, commits, tells the listener, then lets go of everything', async () => {
    const { coordinator, committer, handler, assigned, events, setInFlight } = setup();
    await handler.assigned(tps(0, 1), 'eager');
    committer.markConsumed('t', 0, 7);
    let finish!: () => void;
    setInFlight(new Promise<void>((resolve) => (finish = resolve)).then(() => {
      committer.markConsumed('t', 1, 3);
      setInFlight(null);
    }));
    const revoking = handler.beforeJoin('eager');
    await new Promise((resolve) => setImmediate(resolve));
    expect(handler.accepts('t', 0)).toBe(false); // no new messages while revoking
    expect(coordinator.sent(ApiKeys.OffsetCommit)).toHaveLength(0); // the message in hand first
    finish();
    await revoking;
    expect(coordinator.sent(ApiKeys.OffsetCommit)[0].partitions).toEqual([{ topic: 't', partition: 0, offset: 7 }, { topic: 't', partition: 1, offset: 3 }]);
    expect(events).toEqual(['assigned 0,1', 'releasing 2', 'revoked 0,1 commits=1']);
    expect(assigned.at(-1)).toEqual([]);
    expect(handler.ownedList()).toEqual([]);
  });

  it('cooperative: keeps everything through the join, then revokes only what moved and asks to rejoin', async () => {
    const { coordinator, committer, handler, assigned, events } = setup();
    await handler.assigned(tps(0, 1, 2), 'cooperative');
    committer.markConsumed('t', 2, 9);
    await handler.beforeJoin('cooperative');
    expect(handler.ownedList()).toHaveLength(3);
    expect(coordinator.sent(ApiKeys.OffsetCommit)).toHaveLength(1); // progress committed before the join
    committer.markConsumed('t', 2, 11);
    expect(await handler.assigned(tps(0, 1), 'cooperative')).toBe(true);
    expect(coordinator.sent(ApiKeys.OffsetCommit).at(-1)!.partitions).toEqual([{ topic: 't', partition: 2, offset: 11 }]);
    expect(assigned.at(-1)).toEqual([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]); // kept ones keep their positions
    expect(events).toEqual(['assigned 0,1,2', 'releasing 1', 'revoked 2 commits=2']);
    // The second round changes nothing for this member: no rejoin.
    expect(await handler.assigned(tps(0, 1), 'cooperative')).toBe(false);
  });

  it('lost: drops everything without committing', async () => {
    const { coordinator, committer, handler, assigned, events } = setup();
    await handler.assigned(tps(0, 1), 'eager');
    committer.markConsumed('t', 0, 5);
    await handler.lost(errorFromCode(Errors.ILLEGAL_GENERATION.code, undefined) as RillError);
    expect(coordinator.sent(ApiKeys.OffsetCommit)).toHaveLength(0);
    expect(assigned.at(-1)).toEqual([]);
    expect(events).toEqual(['assigned 0,1', 'releasing 2', 'lost 0,1']);
  });

  it('a refused revocation commit does not stop the rebalance', async () => {
    const { coordinator, committer, handler } = setup();
    coordinator.on(ApiKeys.OffsetCommit, (r) => ({ errorCode: 0, partitions: r.partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode: Errors.PARTITION_NOT_ASSIGNED.code })) }));
    await handler.assigned(tps(0), 'eager');
    committer.markConsumed('t', 0, 5);
    await handler.beforeJoin('eager');
    expect(handler.ownedList()).toEqual([]);
  });
});
