// Consumer groups from the client's side, against real broker processes and real member processes
// (test/integration/fixtures/group-member.ts): a 3-member group sharing a 12-partition topic
// exactly once; a member SIGKILLed mid-stream (its partitions move, nothing is missed, duplicates
// only from its uncommitted window); a broker SIGKILLed and restarted (consumption resumes at the
// commits); two groups each receiving everything; and the error paths (a member dropped by the
// coordinator rejoins, a commit for an unowned partition, a bad groupId).

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Errors, RillError } from '../../src/errors.js';
import { ApiKeys } from '../../src/protocol/index.js';
import { Connection } from '../../src/client/connection.js';
import { silentLogger } from '../../src/client/logger.js';
import { Rill, type GroupConsumer } from '../../src/client/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { killBroker, startBroker, type BrokerProcess } from './fixtures/broker-process.js';
import { killMember, startMember, stopMember, type MemberProcess } from './fixtures/group-members.js';

const tempDir = tempDirs();
const brokers: BrokerProcess[] = [];
const members: MemberProcess[] = [];
const clients: Rill[] = [];

/** Short sessions and a short initial delay keep the file's run time modest. */
const BROKER_FLAGS = ['--workers', '2', '--group-min-session-timeout-ms', '1000', '--group-initial-rebalance-delay-ms', '300'];
const SESSION_MS = 2_000;

afterEach(async () => {
  for (const member of members.splice(0)) await killMember(member);
  for (const rill of clients.splice(0)) await rill.close().catch(() => undefined);
  for (const broker of brokers.splice(0)) if (broker.child.exitCode === null && broker.child.signalCode === null) await killBroker(broker);
});

async function broker(dataDir = tempDir()): Promise<BrokerProcess> {
  const started = await startBroker(dataDir, BROKER_FLAGS);
  brokers.push(started);
  return started;
}

/** One broker for the tests that do not restart it (each uses its own topics and groups): starting one costs seconds on 2 cores. */
let shared: Promise<BrokerProcess> | null = null;
function sharedBroker(): Promise<BrokerProcess> {
  shared ??= startBroker(tempDir(), BROKER_FLAGS);
  return shared;
}
afterAll(async () => {
  if (shared !== null) await killBroker(await shared);
});

function client(port: number): Rill {
  const rill = new Rill({ brokers: [`127.0.0.1:${port}`], clientId: 'groups-test' });
  clients.push(rill);
  return rill;
}

function member(name: string, port: number, options: Record<string, unknown>): MemberProcess {
  const started = startMember(name, { port, sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 200, ...options });
  members.push(started);
  return started;
}

async function createTopic(rill: Rill, topic: string, numPartitions: number): Promise<void> {
  const admin = rill.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
}

/** Produces `count` keyed messages (key k-(i % 997), value i); resolves with each partition's end offset. */
async function produce(rill: Rill, topic: string, count: number, from = 0): Promise<Map<number, number>> {
  const producer = rill.producer({ lingerMs: 2 });
  await producer.connect();
  const sends = [];
  for (let i = from; i < from + count; i += 1000) {
    const n = Math.min(1000, from + count - i);
    sends.push(producer.send({ topic, messages: Array.from({ length: n }, (_, j) => ({ key: `k-${(i + j) % 997}`, value: String(i + j) })) }));
  }
  const results = (await Promise.all(sends)).flat();
  await producer.disconnect();
  expect(results.every((r) => r.errorCode === 0)).toBe(true);
  const admin = rill.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high] as const));
  await admin.disconnect();
  return ends;
}

/** Waits until the members own every one of `partitions` partitions between them, none twice, all in one generation. */
async function waitForStableGroup(group: MemberProcess[], partitions: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    () => {
      const all = group.flatMap((m) => m.assignment);
      const generations = new Set(group.map((m) => m.generation));
      return all.length === partitions && new Set(all).size === partitions && generations.size === 1 && group.every((m) => m.assignment.length > 0);
    },
    { timeoutMs, what: `${group.length} members sharing ${partitions} partitions in one generation (${group.map((m) => `${m.name}: gen ${m.generation} [${m.assignment.join(' ')}]`).join('; ')})` },
  );
}

const handledCount = (group: MemberProcess[]) => group.reduce((sum, m) => sum + m.handled.length, 0);

describe('consumer groups (client)', () => {
  it('three members share a 12-partition topic: 100,000 keyed messages each processed exactly once, each partition by one member', async () => {
    const { port } = await sharedBroker();
    const rill = client(port);
    await createTopic(rill, 'orders', 12);
    const group = ['a', 'b', 'c'].map((name) => member(name, port, { groupId: 'billing', topics: ['orders'], assignor: 'range', bufferLines: true }));
    await waitForStableGroup(group, 12);
    const total = 100_000;
    const ends = await produce(rill, 'orders', total);
    await waitFor(() => handledCount(group) >= total, { timeoutMs: 90_000, what: `100,000 messages handled (${handledCount(group)} so far)` });

    const owner = new Map<number, string>();
    const partitionOfKey = new Map<string, number>();
    const seen = new Set<string>();
    for (const m of group) {
      for (const h of m.handled) {
        const id = `${h.partition}/${h.offset}`;
        expect(seen.has(id), `message ${id} processed twice`).toBe(false);
        seen.add(id);
        expect(owner.get(h.partition) ?? m.name, `partition ${h.partition} consumed by two members`).toBe(m.name);
        owner.set(h.partition, m.name);
        expect(partitionOfKey.get(h.key) ?? h.partition).toBe(h.partition);
        partitionOfKey.set(h.key, h.partition);
      }
      expect(m.assignment.every((tp) => owner.get(Number(tp.split(':')[1])) === undefined || owner.get(Number(tp.split(':')[1])) === m.name)).toBe(true);
    }
    expect(seen.size).toBe(total);
    expect(owner.size).toBe(12);
    for (const [partition, end] of ends) for (let o = 0; o < end; o++) expect(seen.has(`${partition}/${o}`)).toBe(true);

    // A clean stop commits everything: the group's offsets are the log end of every partition.
    await Promise.all(group.map(stopMember));
    for (const [partition, end] of ends) {
      const committedBy = group.find((m) => m.committed.has(`orders:${partition}`));
      expect(committedBy?.committed.get(`orders:${partition}`), `commit of orders-${partition}`).toBe(end);
    }
    members.splice(0);
  }, 150_000);

  it('SIGKILL of a member mid-stream: its partitions move within the session timeout, nothing is missed, duplicates only from its uncommitted window', async () => {
    const { port } = await sharedBroker();
    const rill = client(port);
    await createTopic(rill, 'events', 12);
    const group = ['a', 'b', 'c'].map((name) => member(name, port, { groupId: 'audit', topics: ['events'], assignor: 'roundrobin', delayMs: 1, autoCommitThreshold: 100, autoCommitIntervalMs: 300 }));
    await waitForStableGroup(group, 12);
    const total = 12_000;
    const ends = await produce(rill, 'events', total);
    const [victim, ...survivors] = group;
    await waitFor(() => victim.handled.length >= 800 && victim.committed.size > 0, { timeoutMs: 30_000, what: 'the victim to be mid-stream' });
    await killMember(victim);
    const owned = new Set(victim.assignment.map((tp) => Number(tp.split(':')[1])));
    const lastCommitted = new Map([...owned].map((p) => [p, victim.committed.get(`events:${p}`) ?? 0] as const));
    const lastHandled = new Map<number, number>();
    for (const h of victim.handled) lastHandled.set(h.partition, Math.max(lastHandled.get(h.partition) ?? -1, h.offset));
    const survivorCountAtKill = survivors.map((m) => m.handled.length);

    // Its partitions move to the survivors once the coordinator evicts it (session timeout).
    await waitForStableGroup(survivors, 12, SESSION_MS * 5);
    // Done when every message was handled by someone and the survivors have committed every
    // partition to its end: a new owner commits the end only after reading from the victim's last
    // commit, so the victim's uncommitted window has been re-read by then. (It may be empty: a
    // kill right after a commit leaves no duplicates to wait for.)
    const committedEnd = (partition: number) => Math.max(-1, ...survivors.map((m) => m.committed.get(`events:${partition}`) ?? -1));
    await waitFor(
      () => new Set(group.flatMap((m) => m.handled.map((h) => `${h.partition}/${h.offset}`))).size === total && [...ends].every(([partition, end]) => committedEnd(partition) === end),
      { timeoutMs: 60_000, what: 'every message handled by someone and committed to the end by the survivors' },
    );

    // Nothing missed.
    const times = new Map<string, number>();
    for (const m of group) for (const h of m.handled) times.set(`${h.partition}/${h.offset}`, (times.get(`${h.partition}/${h.offset}`) ?? 0) + 1);
    for (const [partition, end] of ends) for (let o = 0; o < end; o++) expect(times.get(`${partition}/${o}`), `events-${partition} offset ${o}`).toBeGreaterThanOrEqual(1);
    // Duplicates: exactly the victim's uncommitted window on the partitions it owned, re-read by
    // their new owner from the victim's last commit (one confirmed or, if its answer was lost
    // with the process, a later one), and nothing else twice.
    for (const [id, n] of times) {
      const [partition, offset] = id.split('/').map(Number);
      if (n === 1) continue;
      expect(n, `${id} handled ${n} times`).toBe(2);
      expect(owned.has(partition), `duplicate ${id} on a partition the victim did not own`).toBe(true);
      expect(offset).toBeGreaterThanOrEqual(lastCommitted.get(partition)!);
      expect(offset).toBeLessThanOrEqual(lastHandled.get(partition)!);
    }
    for (const partition of owned) {
      const after = survivors.flatMap((m, i) => m.handled.slice(survivorCountAtKill[i])).filter((h) => h.partition === partition);
      if (after.length === 0) continue; // the victim had finished it
      const resumedAt = Math.min(...after.map((h) => h.offset));
      expect(resumedAt).toBeGreaterThanOrEqual(lastCommitted.get(partition)!);
      expect(resumedAt).toBeLessThanOrEqual((lastHandled.get(partition) ?? -1) + 1);
      const duplicates = [...times].filter(([id, n]) => n === 2 && Number(id.split('/')[0]) === partition).map(([id]) => Number(id.split('/')[1]));
      const expected = victim.handled.filter((h) => h.partition === partition && h.offset >= resumedAt).map((h) => h.offset);
      expect(duplicates.sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    }
  }, 150_000);

  it('cooperative-sticky: a member joining takes partitions over without the others giving up the ones that stay, and nothing is processed twice', async () => {
    const { port } = await sharedBroker();
    const rill = client(port);
    await createTopic(rill, 'stream', 6);
    const first = member('first', port, { groupId: 'sticky', topics: ['stream'], assignor: 'cooperative-sticky', delayMs: 1 });
    await waitForStableGroup([first], 6);
    const total = 6_000;
    await produce(rill, 'stream', total);
    await waitFor(() => first.handled.length >= 1_000, { timeoutMs: 30_000, what: 'the first member mid-stream' });
    const second = member('second', port, { groupId: 'sticky', topics: ['stream'], assignor: 'cooperative-sticky', delayMs: 1 });
    await waitForStableGroup([first, second], 6);
    await waitFor(() => handledCount([first, second]) >= total, { timeoutMs: 60_000, what: `all ${total} messages (${handledCount([first, second])})` });
    const moved = new Set(second.assignment);
    expect(moved.size).toBe(3);
    // The first member gave up exactly the partitions that moved, once, and never the others.
    expect(first.revoked.flat().sort()).toEqual([...moved].sort());
    expect(first.lost).toEqual([]);
    const ids = [first, second].flatMap((m) => m.handled.map((h) => `${h.partition}/${h.offset}`));
    expect(new Set(ids).size).toBe(total);
    expect(ids.length).toBe(total);
  }, 90_000);

  it('a broker SIGKILLed and restarted on the same data dir: the group resumes from its committed offsets', async () => {
    const dataDir = tempDir();
    const first = await broker(dataDir);
    let rill = client(first.port);
    await createTopic(rill, 'ledger', 4);
    const ends = await produce(rill, 'ledger', 4_000);
    const before = member('before', first.port, { groupId: 'ledger-readers', topics: ['ledger'] });
    await waitFor(() => before.handled.length >= 4_000, { timeoutMs: 30_000, what: 'the first 4,000 messages' });
    await stopMember(before);
    for (const [partition, end] of ends) expect(before.committed.get(`ledger:${partition}`)).toBe(end);
    await rill.close();
    await killBroker(first);

    const second = await broker(dataDir);
    rill = client(second.port);
    await produce(rill, 'ledger', 2_000, 4_000);
    const after = member('after', second.port, { groupId: 'ledger-readers', topics: ['ledger'] });
    await waitFor(() => after.handled.length >= 2_000, { timeoutMs: 30_000, what: 'the 2,000 new messages' });
    await stopMember(after);
    // Exactly the new messages: each partition resumed at its commit, nothing before it again.
    expect(after.handled.length).toBe(2_000);
    for (const h of after.handled) expect(h.offset).toBeGreaterThanOrEqual(ends.get(h.partition)!);
    expect(new Set(after.handled.map((h) => `${h.partition}/${h.offset}`)).size).toBe(2_000);
  }, 90_000);

  it('two groups on the same topic each receive every message', async () => {
    const { port } = await sharedBroker();
    const rill = client(port);
    await createTopic(rill, 'news', 3);
    const a = member('a', port, { groupId: 'readers-a', topics: ['news'], mode: 'batch' });
    const b = member('b', port, { groupId: 'readers-b', topics: ['news'], mode: 'batch' });
    await waitForStableGroup([a], 3);
    await waitForStableGroup([b], 3);
    await produce(rill, 'news', 3_000);
    const count = (m: MemberProcess) => m.batches.reduce((sum, x) => sum + x.count, 0);
    await waitFor(() => count(a) >= 3_000 && count(b) >= 3_000, { timeoutMs: 30_000, what: 'both groups to read 3,000 messages' });
    for (const m of [a, b]) {
      const offsets = new Set<string>();
      for (const batch of m.batches) for (let o = batch.first; o <= batch.last; o++) offsets.add(`${batch.partition}/${o}`);
      expect(offsets.size).toBe(3_000);
      expect(count(m)).toBe(3_000);
    }
  }, 60_000);

  it('pause() holds a partition back while the others flow; resume() hands it over again, nothing lost or doubled', async () => {
    const { port } = await sharedBroker();
    const rill = client(port);
    await createTopic(rill, 'pausable', 2);
    const producer = rill.producer({ lingerMs: 1 });
    await producer.connect();
    const sendTo = async (partition: number, from: number) => {
      const results = await producer.send({ topic: 'pausable', messages: Array.from({ length: 50 }, (_, i) => ({ partition, value: `${partition}:${from + i}` })) });
      expect(results.every((r) => r.errorCode === 0)).toBe(true);
    };
    const consumer = rill.consumer({ groupId: 'pausers', sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 100, autoOffsetReset: 'earliest', maxWaitMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['pausable'] });
    const seen = [new Set<number>(), new Set<number>()];
    const pollInto = async (maxWaitMs: number) => {
      for (const { partition, message } of await consumer.poll({ maxRecords: 500, maxWaitMs })) {
        expect(seen[partition]!.has(message.offset)).toBe(false);
        seen[partition]!.add(message.offset);
      }
    };
    await sendTo(0, 0);
    await sendTo(1, 0);
    while (seen[0]!.size + seen[1]!.size < 100) await pollInto(2_000);

    consumer.pause([{ topic: 'pausable', partitions: [1] }]);
    expect(consumer.paused()).toEqual([{ topic: 'pausable', partitions: [1] }]);
    await sendTo(1, 50);
    await sendTo(0, 50);
    while (seen[0]!.size < 100) await pollInto(2_000);
    await pollInto(300); // one more round: partition 1's new messages stay held
    expect(seen[1]!.size).toBe(50);

    consumer.resume([{ topic: 'pausable', partitions: [1] }]);
    expect(consumer.paused()).toEqual([]);
    while (seen[1]!.size < 100) await pollInto(2_000);
    expect([...seen[1]!].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(seen[0]!.size).toBe(100);
    await producer.disconnect();
    await consumer.disconnect();
  }, 60_000);

  it('poll(): pulls batches of at most maxRecords, waits maxWaitMs when none are ready, and commits what was polled', async () => {
    const { port } = await sharedBroker();
    const rill = client(port);
    await createTopic(rill, 'pulled', 2);
    await produce(rill, 'pulled', 1_000);
    const consumer = rill.consumer({ groupId: 'pullers', sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 100, autoOffsetReset: 'earliest', maxWaitMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['pulled'] });
    const seen = new Set<string>();
    while (seen.size < 600) {
      const messages = await consumer.poll({ maxRecords: 100, maxWaitMs: 2_000 });
      expect(messages.length).toBeLessThanOrEqual(100);
      for (const { partition, message } of messages) seen.add(`${partition}/${message.offset}`);
    }
    await expect(consumer.run({ eachMessage: async () => undefined })).rejects.toMatchObject({ code: Errors.INVALID_REQUEST.code });
    await consumer.commitPolled();
    await consumer.disconnect();
    // The next member of the group starts after what the first one polled: no message twice, none missed.
    const next = client(port).consumer({ groupId: 'pullers', sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 100, autoOffsetReset: 'earliest', maxWaitMs: 100 });
    await next.connect();
    await next.subscribe({ topics: ['pulled'] });
    const rest: string[] = [];
    while (seen.size + rest.length < 1_000) for (const { partition, message } of await next.poll({ maxRecords: 500, maxWaitMs: 2_000 })) rest.push(`${partition}/${message.offset}`);
    expect(rest.filter((id) => seen.has(id))).toEqual([]);
    expect(new Set([...seen, ...rest]).size).toBe(1_000);
    expect(await next.poll({ maxRecords: 10, maxWaitMs: 200 })).toEqual([]);
    await next.disconnect();

    // Async iteration is poll() in a loop; it ends with stop().
    await produce(rill, 'pulled', 100);
    const iterating = client(port).consumer({ groupId: 'pullers', sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 100, autoOffsetReset: 'earliest', maxWaitMs: 100 });
    await iterating.connect();
    await iterating.subscribe({ topics: ['pulled'] });
    let iterated = 0;
    for await (const messages of iterating) {
      iterated += messages.length;
      if (iterated >= 100) void iterating.stop();
    }
    expect(iterated).toBe(100);
  }, 60_000);

  it('static membership: a member SIGKILLed and restarted with its groupInstanceId gets its partitions back without a rebalance', async () => {
    const { port } = await sharedBroker();
    const rill = client(port);
    await createTopic(rill, 'static', 4);
    const options = (id: string) => ({ groupId: 'statics', topics: ['static'], groupInstanceId: id, sessionTimeoutMs: 10_000 });
    const a = member('a', port, options('host-a'));
    const b = member('b', port, options('host-b'));
    await waitForStableGroup([a, b], 4);
    const generation = a.generation;
    // (Under load b may have joined after a's first generation: count a's revocations from here.)
    const revokedBefore = a.revoked.length;
    const before = [...b.assignment];
    await killMember(b);
    const again = member('b2', port, options('host-b'));
    await waitFor(() => again.assignment.length > 0, { timeoutMs: 20_000, what: 'the restarted member to get an assignment' });
    expect(again.assignment).toEqual(before);
    expect(again.generation).toBe(generation);
    await produce(rill, 'static', 400);
    await waitFor(() => a.handled.length + again.handled.length >= 400, { what: 'both members consuming' });
    // The other member never went through a rebalance.
    expect(a.generation).toBe(generation);
    expect(a.revoked.length).toBe(revokedBefore);
  }, 60_000);

  it('a pattern subscription picks up a topic created later', async () => {
    const { port } = await sharedBroker();
    const rill = client(port);
    await createTopic(rill, 'metrics-cpu', 1);
    await createTopic(rill, 'logs', 1);
    const consumer = rill.consumer({ groupId: 'metrics', sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 100, autoOffsetReset: 'earliest', metadataRefreshMs: 200, maxWaitMs: 100 });
    const topics = new Set<string>();
    await consumer.connect();
    await consumer.subscribe({ pattern: /^metrics-/ });
    await consumer.run({ eachMessage: async ({ topic }) => void topics.add(topic) });
    await waitFor(() => consumer.assignment().length === 1, { what: 'metrics-cpu assigned' });
    await createTopic(rill, 'metrics-disk', 2);
    await waitFor(() => consumer.assignment().length === 3, { what: 'metrics-disk assigned too', timeoutMs: 20_000 });
    await produce(rill, 'metrics-disk', 10);
    await produce(rill, 'logs', 10);
    await waitFor(() => topics.has('metrics-disk'), { what: 'a message of the new topic' });
    expect([...topics]).toEqual(['metrics-disk']);
  }, 60_000);

  it('a topic that grows: the group rebalances within metadataRefreshMs, the new partitions are assigned and their messages consumed', async () => {
    const { port } = await sharedBroker();
    const rill = client(port);
    await createTopic(rill, 'growing', 2);
    const seen = new Set<string>();
    const consumers = [0, 1].map(() => rill.consumer({ groupId: 'growers', sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 100, autoOffsetReset: 'earliest', metadataRefreshMs: 200, maxWaitMs: 100 }));
    for (const consumer of consumers) {
      await consumer.connect();
      await consumer.subscribe({ topics: ['growing'] });
      await consumer.run({ eachMessage: async ({ partition, message }) => void seen.add(`${partition}/${message.offset}`) });
    }
    const owned = () => consumers.flatMap((c) => c.assignment().map((tp) => tp.partition)).sort();
    await waitFor(() => owned().join() === '0,1', { what: `partitions 0 and 1 shared (${owned().join()})`, timeoutMs: 20_000 });
    const admin = rill.admin();
    await admin.connect();
    await admin.createPartitions([{ topic: 'growing', count: 4 }]);
    await admin.disconnect();
    await waitFor(() => owned().join() === '0,1,2,3' && consumers.every((c) => c.assignment().length === 2), { what: `four partitions shared (${owned().join()})`, timeoutMs: 20_000 });
    const ends = await produce(rill, 'growing', 400);
    expect(ends.get(2)! + ends.get(3)!).toBeGreaterThan(0);
    await waitFor(() => seen.size === 400, { what: `all 400 messages (${seen.size})`, timeoutMs: 20_000 });
  }, 60_000);

  describe('error paths', () => {
    async function joinedMember(port: number, topic: string, groupId: string): Promise<{ consumer: GroupConsumer; received: number[]; events: string[] }> {
      const rill = client(port);
      const consumer = rill.consumer({ groupId, sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 100, autoOffsetReset: 'earliest', maxWaitMs: 100 });
      const received: number[] = [];
      const events: string[] = [];
      consumer.on('partitions.lost', () => events.push('lost'));
      consumer.on('partitions.assigned', () => events.push('assigned'));
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      await consumer.run({ eachMessage: async ({ message }) => void received.push(Number(message.value!.toString())) });
      await waitFor(() => consumer.assignment().length > 0, { what: 'an assignment' });
      return { consumer, received, events };
    }

    it('a member the coordinator no longer knows (UNKNOWN_MEMBER_ID) loses its partitions, rejoins as a new member and goes on consuming', async () => {
      const { port } = await sharedBroker();
      const rill = client(port);
      await createTopic(rill, 'jobs', 2);
      const { consumer, received, events } = await joinedMember(port, 'jobs', 'workers');
      const { memberId } = consumer.memberInfo();
      // Remove the member behind its back, as an operator's LeaveGroup (or a session lost in a GC pause) would.
      const connection = await Connection.open({ host: '127.0.0.1', port, clientId: 'test', connectionTimeoutMs: 5_000, requestTimeoutMs: 5_000, maxFrameBytes: 1 << 20, logger: silentLogger });
      const left = await connection.request(ApiKeys.LeaveGroup, { groupId: 'workers', members: [{ memberId }] });
      connection.close();
      expect(left.header.members[0].errorCode).toBe(0);
      await waitFor(() => events.includes('lost') && consumer.memberInfo().memberId !== memberId && consumer.assignment().length === 2, { what: 'the member to rejoin with a new id' });
      await produce(rill, 'jobs', 100);
      await waitFor(() => received.length >= 100, { what: 'messages after the rejoin' });
      expect(new Set(received).size).toBe(100);
    }, 60_000);

    it('seek() on an owned partition re-reads from there (also before the committed offset); on another one it is refused', async () => {
      const { port } = await sharedBroker();
      const rill = client(port);
      await createTopic(rill, 'rewind', 1);
      await produce(rill, 'rewind', 50);
      const { consumer, received } = await joinedMember(port, 'rewind', 'rewinders');
      await waitFor(() => received.length >= 50, { what: '50 messages' });
      await consumer.commitConsumed();
      consumer.seek({ topic: 'rewind', partition: 0, offset: 'earliest' });
      await waitFor(() => received.length >= 100, { what: 'the 50 again' });
      expect(received.slice(50)).toEqual(received.slice(0, 50));
      consumer.seek({ topic: 'rewind', partition: 0, offset: 40 });
      await waitFor(() => received.length >= 110, { what: 'the last 10 again' });
      expect(received.slice(100)).toEqual(received.slice(40, 50));
      expect(() => consumer.seek({ topic: 'rewind', partition: 1, offset: 0 })).toThrow(expect.objectContaining({ code: Errors.PARTITION_NOT_ASSIGNED.code }));
    }, 60_000);

    it('a commit for a partition the member does not own is refused with PARTITION_NOT_ASSIGNED; a bad groupId with INVALID_GROUP_ID', async () => {
      const { port } = await sharedBroker();
      const rill = client(port);
      await createTopic(rill, 'mine', 1);
      await createTopic(rill, 'theirs', 1);
      const { consumer, received } = await joinedMember(port, 'mine', 'owners');
      const refused = await consumer.commitOffsets([{ topic: 'theirs', partition: 0, offset: 5 }]).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(RillError);
      expect((refused as RillError).code).toBe(Errors.PARTITION_NOT_ASSIGNED.code);
      expect((refused as RillError).message).toMatch(/theirs-0/);
      await expect(consumer.commitOffsets([{ topic: 'mine', partition: 0, offset: 0 }])).resolves.toBeUndefined();
      await expect(consumer.commitOffsets([{ topic: 'mine', partition: -1, offset: 0 }])).rejects.toMatchObject({ code: Errors.INVALID_REQUEST.code });

      for (const groupId of ['', 'g'.repeat(256), 42 as unknown as string]) {
        expect(() => rill.consumer({ groupId })).toThrow(expect.objectContaining({ code: Errors.INVALID_GROUP_ID.code }));
      }
      // The broker says the same to a client that skips the check.
      const connection = await Connection.open({ host: '127.0.0.1', port, clientId: 'test', connectionTimeoutMs: 5_000, requestTimeoutMs: 5_000, maxFrameBytes: 1 << 20, logger: silentLogger });
      const found = await connection.request(ApiKeys.FindCoordinator, { groupId: 'g'.repeat(256) }).catch((error: unknown) => error);
      connection.close();
      expect(found instanceof RillError ? found.code : (found as { header: { errorCode: number } }).header.errorCode).toBe(Errors.INVALID_GROUP_ID.code);
      // And the broker keeps serving the member.
      await produce(rill, 'mine', 10);
      await waitFor(() => received.length >= 10, { what: 'messages after the refused requests' });
      expect(consumer.assignment()).toEqual([{ topic: 'mine', partition: 0 }]);
    }, 60_000);
  });
});
