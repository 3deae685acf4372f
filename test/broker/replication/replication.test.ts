// Replication on its own: the ISR tracker's arithmetic, acks=all waiters, and brokers in process
// (PartitionHost + ReplicaManager each, in-memory leader links, one MetadataState as controller)
// replicating, refusing acks=all without enough in-sync replicas, and failing over — with every
// acknowledged message present exactly once, in order.

import { afterEach, describe, expect, it } from 'vitest';
import { Errors, RillError } from '../../../src/errors.js';
import { IsrTracker } from '../../../src/broker/replication/isr-tracker.js';
import { AckWaiters } from '../../../src/broker/replication/ack-waiters.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../../src/storage/index.js';
import type { PartitionHost } from '../../../src/broker/partition-host.js';
import { tempDirs } from '../../helpers/temp-dir.js';
import { waitFor } from '../../helpers/wait-for.js';
import { ReplicationCluster } from './replication-cluster.js';

const tempDir = tempDirs();
const clusters: ReplicationCluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stopAll();
});

async function cluster(ids: number[], options: ConstructorParameters<typeof ReplicationCluster>[2] = {}): Promise<ReplicationCluster> {
  const c = new ReplicationCluster(tempDir(), ids, options);
  clusters.push(c);
  for (const id of ids) await c.start(id);
  return c;
}

const message = (seq: number, tag = '') => encodeRecordBatch({ records: [{ key: `k${seq}`, value: `m-${seq}${tag}` }] });
const idempotent = (seq: number) => encodeRecordBatch({ producerId: 77, producerEpoch: 0, baseSequence: seq, records: [{ key: `k${seq}`, value: `m-${seq}` }] });

/** Every value of the partition a consumer sees (below the high watermark), in order. */
function consume(host: PartitionHost, topic: string, partition: number): string[] {
  const values: string[] = [];
  for (let offset = 0; ; ) {
    const slice = host.fetch(topic, partition, offset, 1 << 20);
    if (slice.records.length === 0) return values;
    for (const b of decodeRecordBatches(slice.records)) for (const r of b.records) if (r.offset >= offset) values.push(Buffer.from(r.value!).toString());
    offset = slice.nextOffset;
  }
}

function codeOf(error: unknown): number | undefined {
  return error instanceof RillError ? error.code : undefined;
}

describe('IsrTracker', () => {
  it('high watermark = minimum log end over the ISR; never moves back', () => {
    const t = new IsrTracker({ self: 1, replicas: [1, 2, 3], isr: [1, 2, 3], epochStartOffset: 0, highWatermark: 0, now: 0 });
    expect(t.updateHighWatermark(10)).toBe(false); // followers' ends unknown yet
    t.onFollowerFetch(2, 10, 10, 1);
    t.onFollowerFetch(3, 4, 10, 1);
    expect(t.updateHighWatermark(10)).toBe(true);
    expect(t.highWatermark).toBe(4);
    t.setIsr([1, 2]);
    t.updateHighWatermark(12);
    expect(t.highWatermark).toBe(10);
    t.onFollowerFetch(2, 5, 12, 2); // a follower that truncated does not move the HW back
    t.updateHighWatermark(12);
    expect(t.highWatermark).toBe(10);
  });

  it('counts a follower caught up when it fetches the log end, or the end as of its previous fetch', () => {
    const t = new IsrTracker({ self: 1, replicas: [1, 2, 3], isr: [1, 2, 3], epochStartOffset: 0, highWatermark: 0, now: 0 });
    t.onFollowerFetch(2, 100, 100, 1000);
    t.onFollowerFetch(3, 50, 100, 1000);
    t.onFollowerFetch(3, 100, 130, 1500); // reached the end as of its fetch at 1000
    expect(t.follower(2)!.lastCaughtUpMs).toBe(1000);
    expect(t.follower(3)!.lastCaughtUpMs).toBe(1000);
    expect(t.shrinkCandidates(1000 + 30_001, 30_000)).toEqual([2, 3]);
    expect(t.shrinkCandidates(1000 + 29_999, 30_000)).toEqual([]);
  });

  it('lets a replica rejoin once it reaches the high watermark and the epoch start; counts a pending joiner', () => {
    const t = new IsrTracker({ self: 1, replicas: [1, 2, 3], isr: [1, 2], epochStartOffset: 20, highWatermark: 0, now: 0 });
    t.onFollowerFetch(2, 30, 30, 1);
    t.updateHighWatermark(30);
    t.onFollowerFetch(3, 15, 30, 1);
    expect(t.expandCandidates()).toEqual([]);
    t.onFollowerFetch(3, 30, 30, 2);
    expect(t.expandCandidates()).toEqual([3]);
    t.propose([1, 2, 3]);
    t.onFollowerFetch(3, 30, 40, 3);
    t.onFollowerFetch(2, 40, 40, 3);
    t.updateHighWatermark(40);
    expect(t.highWatermark).toBe(30); // 3, joining, already counts
  });
});

describe('AckWaiters', () => {
  it('releases waiters in offset order as the high watermark passes, times out, and is bounded', async () => {
    const w = new AckWaiters(2);
    const released: number[] = [];
    const a = w.wait(10, 10_000).then(() => released.push(10));
    const b = w.wait(5, 10_000).then(() => released.push(5));
    expect(() => w.checkRoom()).toThrowError(expect.objectContaining({ code: Errors.TOO_MANY_PENDING_ACKS.code }));
    w.advance(7);
    await b;
    expect(released).toEqual([5]);
    w.advance(10);
    await a;
    const late = w.wait(20, 1);
    await expect(late).rejects.toMatchObject({ code: Errors.REQUEST_TIMED_OUT.code });
    const failed = w.wait(30, 10_000);
    w.failAll(Errors.NOT_LEADER_OR_FOLLOWER, 'moved');
    await expect(failed).rejects.toMatchObject({ code: Errors.NOT_LEADER_OR_FOLLOWER.code });
    expect(w.size).toBe(0);
  });
});

describe('replication between in-process brokers', () => {
  it('replicates to every follower; acks=all answers once the ISR has it; consumers see only the high watermark', async () => {
    const c = await cluster([1, 2, 3]);
    await c.createTopic('t', 2, 3);
    for (let partition = 0; partition < 2; partition++) {
      const leader = c.leaderOf('t', partition);
      for (let i = 0; i < 50; i++) {
        const result = await leader.host.produce('t', partition, message(i), -1, 10_000);
        // Answered only when the high watermark passed it: a consumer of the leader sees it.
        expect(leader.host.fetch('t', partition, 0, 1 << 20).highWatermark).toBeGreaterThan(result!.lastOffset);
      }
      for (const broker of c.brokers.values()) {
        await waitFor(() => broker.host.logOf('t', partition).logEndOffset === 50, { what: `broker ${broker.id} to replicate t-${partition}` });
      }
      expect(consume(leader.host, 't', partition)).toEqual(Array.from({ length: 50 }, (_, i) => `m-${i}`));
    }
    // A follower rejects produces and never serves beyond its known high watermark.
    const follower = [...c.brokers.values()].find((b) => b.id !== c.leaderOf('t', 0).id)!;
    await expect(follower.host.produce('t', 0, message(99), 1)).rejects.toMatchObject({ code: Errors.NOT_LEADER_OR_FOLLOWER.code });
  });

  it('a restarted leader starts from its high-watermark checkpoint, not from 0, even before any follower fetches', async () => {
    const c = await cluster([1, 2, 3]);
    await c.createTopic('h', 1, 3);
    const leader = c.leaderOf('h', 0);
    for (let i = 0; i < 30; i++) await leader.host.produce('h', 0, message(i), -1, 10_000);
    await c.stopAll(); // a clean stop writes the checkpoints
    // Only the leader comes back: its followers cannot move its high watermark now.
    const restarted = await c.start(leader.id); // applies its leadership before it returns
    expect(consume(restarted.host, 'h', 0)).toEqual(Array.from({ length: 30 }, (_, i) => `m-${i}`));
  });

  it('a consumer at the high watermark long-polls until replication moves it, not until the log end', async () => {
    const c = await cluster([1, 2, 3]);
    await c.createTopic('hw', 1, 3);
    const leader = c.leaderOf('hw', 0);
    for (const id of [...c.brokers.keys()].filter((i) => i !== leader.id)) c.cut.add(`${id}->${leader.id}`);
    await leader.host.produce('hw', 0, message(0), 1);
    expect(leader.host.logOf('hw', 0).logEndOffset).toBe(1);
    expect(consume(leader.host, 'hw', 0)).toEqual([]);
    const polled = leader.host.waitForData('hw', 0, 0, 20_000);
    c.cut.clear();
    await polled;
    expect(consume(leader.host, 'hw', 0)).toEqual(['m-0']);
  });

  it('refuses acks=all with NOT_ENOUGH_REPLICAS once the ISR is below min.insync.replicas; acks=1 still appends', async () => {
    const c = await cluster([1, 2, 3], { lagTimeMaxMs: 150, minInsync: 2 });
    await c.createTopic('few', 1, 3);
    const leader = c.leaderOf('few', 0);
    await leader.host.produce('few', 0, message(0), -1, 10_000);
    for (const b of [...c.brokers.values()].filter((b) => b.id !== leader.id)) await c.kill(b.id);
    await waitFor(() => leader.manager.replica('few', 0)!.isr.length === 1, { what: 'the ISR to shrink to the leader' });
    const before = leader.host.logOf('few', 0).logEndOffset;
    let error: unknown;
    try {
      await leader.host.produce('few', 0, message(1), -1, 10_000);
    } catch (e) {
      error = e;
    }
    expect(codeOf(error)).toBe(Errors.NOT_ENOUGH_REPLICAS.code);
    expect(leader.host.logOf('few', 0).logEndOffset).toBe(before); // refused before appending
    expect(await leader.host.produce('few', 0, message(2), 1)).toMatchObject({ baseOffset: before });
    expect(leader.manager.underReplicatedCount).toBe(1);
  });

  it('fails a waiting acks=all produce with NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrinks, REQUEST_TIMED_OUT when it waits too long', async () => {
    const c = await cluster([1, 2, 3], { lagTimeMaxMs: 300, minInsync: 2 });
    await c.createTopic('shrink', 1, 3);
    const leader = c.leaderOf('shrink', 0);
    await leader.host.produce('shrink', 0, message(0), -1, 10_000);
    for (const id of [...c.brokers.keys()].filter((i) => i !== leader.id)) c.cut.add(`${id}->${leader.id}`);
    const timedOut = leader.host.produce('shrink', 0, message(1), -1, 20).catch((e: unknown) => e);
    expect(codeOf(await timedOut)).toBe(Errors.REQUEST_TIMED_OUT.code);
    const waiting = leader.host.produce('shrink', 0, message(2), -1, 60_000).catch((e: unknown) => e);
    expect(codeOf(await waiting)).toBe(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND.code);
    // Back in touch: the followers catch up and rejoin; acks=all works again.
    c.cut.clear();
    await waitFor(() => leader.manager.replica('shrink', 0)!.isr.length === 3, { what: 'the ISR to grow back' });
    await leader.host.produce('shrink', 0, message(3), -1, 10_000);
    expect(consume(leader.host, 'shrink', 0)).toEqual(['m-0', 'm-1', 'm-2', 'm-3']);
  });

  it('fails over: the follower leads in a bumped epoch, the old leader truncates its divergent tail and catches up; nothing acknowledged is lost', async () => {
    const c = await cluster([1, 2, 3], { minInsync: 2 });
    await c.createTopic('f', 1, 3);
    const acked: string[] = [];
    let seq = 0;
    const produce = async (timeoutMs = 10_000) => {
      const n = seq++;
      const leader = c.leaderOf('f', 0);
      await leader.host.produce('f', 0, idempotent(n), -1, timeoutMs);
      acked.push(`m-${n}`);
    };
    for (let i = 0; i < 30; i++) await produce();
    const first = c.leaderOf('f', 0);
    const epoch0 = c.state.topic('f')!.partitions[0].leaderEpoch;

    // The leader is cut off from its followers; what it appends now is never acknowledged.
    for (const id of [...c.brokers.keys()].filter((i) => i !== first.id)) c.cut.add(`${id}->${first.id}`);
    for (let i = 0; i < 5; i++) {
      const n = seq++;
      await expect(first.host.produce('f', 0, idempotent(n), -1, 20)).rejects.toMatchObject({ code: Errors.REQUEST_TIMED_OUT.code });
    }
    expect(first.host.logOf('f', 0).logEndOffset).toBe(35);
    await c.kill(first.id);
    c.cut.clear();

    const second = c.leaderOf('f', 0);
    expect(second.id).not.toBe(first.id);
    expect(c.state.topic('f')!.partitions[0].leaderEpoch).toBe(epoch0 + 1);
    await waitFor(() => second.manager.replica('f', 0)?.isLeader, { what: 'the new leader to take over' });
    // The producer retries its unacknowledged batches on the new leader: sequences continue, no duplicate.
    seq = 30;
    for (let i = 0; i < 20; i++) await produce();

    // The old leader restarts: follower now, truncates the 5 records the new leader never had.
    const back = await c.start(first.id);
    await waitFor(() => back.host.logOf('f', 0).logEndOffset === second.host.logOf('f', 0).logEndOffset && back.manager.replica('f', 0)?.highWatermark === 50, { what: 'the old leader to catch up' });
    await waitFor(() => second.manager.replica('f', 0)!.isr.length === 3, { what: 'the old leader to rejoin the ISR' });

    // Preferred leader election moves leadership back to the first replica once it is in sync.
    const preferred = c.state.topic('f')!.partitions[0].replicas[0];
    if (preferred !== second.id) {
      expect(c.execute({ type: 'elect-leader', topic: 'f', partition: 0, preferred: true })).toMatchObject({ ok: true });
      await waitFor(() => c.brokers.get(preferred)!.manager.replica('f', 0)?.isLeader, { what: 'the preferred replica to lead' });
    }
    for (let i = 0; i < 10; i++) await produce();

    for (const broker of c.brokers.values()) {
      await waitFor(() => broker.host.logOf('f', 0).logEndOffset === 60, { what: `broker ${broker.id} to hold everything` });
    }
    const leader = c.leaderOf('f', 0);
    await waitFor(() => consume(leader.host, 'f', 0).length === 60, { what: 'the high watermark to pass everything' });
    const seen = consume(leader.host, 'f', 0);
    expect(seen).toEqual(acked);
    expect(new Set(seen).size).toBe(seen.length);
    // Every replica holds the same records with the same epochs.
    const epochs = [...c.brokers.values()].map((b) => b.host.logOf('f', 0).epochEntries());
    expect(epochs[1]).toEqual(epochs[0]);
    expect(epochs[2]).toEqual(epochs[0]);
  });
});

describe('a replicated partition before its role is known', () => {
  it('refuses produce with NOT_LEADER_OR_FOLLOWER and shows consumers nothing until applyLeadership', async () => {
    const { PartitionHost } = await import('../../../src/broker/partition-host.js');
    const { resolveLogConfig } = await import('../../../src/storage/index.js');
    const host = new PartitionHost();
    await host.open({ topic: 'p', partition: 0, dir: tempDir(), config: resolveLogConfig({}), replicated: true });
    await expect(host.produce('p', 0, message(0), 1)).rejects.toMatchObject({ code: Errors.NOT_LEADER_OR_FOLLOWER.code });
    expect(host.fetch('p', 0, 0, 1024).highWatermark).toBe(0);
    await host.closeAll();
  });
});
