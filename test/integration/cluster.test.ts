// Three real node processes forming one cluster: topics placed over all of them, produce through
// one node and consume through another (the client follows leaders), a node SIGKILLed and
// restarted, a rebalance moving partitions that hold data onto the restarted node, the controller
// leader killed, and `rill cluster status`.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Errors } from '../../src/errors.js';
import { Rill } from '../../src/client/index.js';
import { ApiKeys, type ProduceResponse } from '../../src/protocol/index.js';
import { TestClient } from '../helpers/protocol-client.js';
import { batchOf } from '../helpers/records.js';
import { waitFor } from '../helpers/wait-for.js';
import { collectStderr, rillCli, spawnNode, waitForExit } from './fixtures/child.js';
import { killBroker } from './fixtures/broker-process.js';
import { clusterHarness } from './fixtures/cluster-harness.js';
import { leaderCounts, statusOf } from './fixtures/cluster-process.js';

const { node, client } = clusterHarness('cluster-test');

async function createTopic(rill: Rill, topic: string, partitions: number, replicationFactor = 1): Promise<void> {
  const admin = rill.admin();
  await admin.connect();
  // One copy each unless asked: this test is about placement and leaders (replication-failover.test.ts has copies).
  expect(await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor }] })).toBe(true);
  await admin.disconnect();
}

async function consumeAll(rill: Rill, topic: string, count: number): Promise<string[]> {
  const consumer = rill.consumer();
  await consumer.connect();
  consumer.assign([{ topic, offset: 'earliest' }]);
  const values: string[] = [];
  const deadline = Date.now() + 20_000;
  for await (const batch of consumer) {
    for (const m of batch.messages) values.push(Buffer.from(m.value!).toString());
    if (values.length >= count) break;
    if (Date.now() > deadline) throw new Error(`read ${values.length} of ${count} messages before the deadline`);
  }
  await consumer.disconnect();
  return values;
}

describe('a cluster of three node processes', () => {
  it('places, serves, survives a killed node and a killed controller, and reports its status', async () => {
    const n1 = await node(1, []);
    const n2 = await node(2, [n1]);
    // Two of three voters elect a controller, which creates __consumer_offsets with the 2 copies
    // it can place; node 3 joins after.
    await waitFor(async () => {
      const offsets = (await statusOf(n1)).partitions.filter((p) => p.topic === '__consumer_offsets');
      return offsets.length === 8 && offsets.every((p) => p.replicas.length === 2);
    }, { timeoutMs: 20_000, what: '__consumer_offsets on the first two nodes' });
    const n3 = await node(3, [n1]);
    const nodes = [n1, n2, n3];

    // Formed: every node registered, a controller elected, __consumer_offsets created.
    await waitFor(async () => {
      const s = await statusOf(n1);
      return s.controllerId > 0 && s.brokers.filter((b) => !b.fenced).length === 3 && s.partitions.some((p) => p.topic === '__consumer_offsets');
    }, { timeoutMs: 20_000, what: 'the cluster to form' });
    // __consumer_offsets has offsets.topic.replication.factor (default 3) copies of each partition,
    // and its leaders are spread over the three nodes (8 partitions: 3, 3, 2): created with 2
    // copies, it grows to 3 once node 3 is live and spreads its leaders (internal-topic-growth.ts).
    await waitFor(async () => {
      const s = await statusOf(n1);
      const offsets = s.partitions.filter((p) => p.topic === '__consumer_offsets');
      return offsets.length === 8 && offsets.every((p) => p.replicas.length === 3) && [...leaderCounts(s, '__consumer_offsets').values()].sort().join() === '2,3,3';
    }, { timeoutMs: 20_000, what: '__consumer_offsets with 3 copies and its leaders spread' });

    // /metrics shows the membership and the dropped-frame counters.
    const metrics = await (await fetch(`http://127.0.0.1:${n1.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^rill_cluster_members\{state="alive"\} 3$/m);
    expect(metrics).toMatch(/^rill_cluster_dropped_frames\{channel="gossip",reason="foreignCluster"\} 0$/m);

    // A 12-partition topic created through node 3 lands 4 partitions on each node.
    const admin = client(n3).admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 12, replicationFactor: 1 }] })).toBe(true);
    // Bad requests get clear errors through any node, and the cluster carries on.
    expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] })).toBe(false);
    await expect(admin.createTopics({ topics: [{ topic: 'copies', numPartitions: 3, replicationFactor: 4 }] })).rejects.toMatchObject({ code: Errors.INVALID_REPLICATION_FACTOR.code });
    await expect(admin.createTopics({ topics: [{ topic: 'strict', numPartitions: 1, replicationFactor: 2, configs: { 'min.insync.replicas': '3' } }] })).rejects.toMatchObject({ code: Errors.INVALID_CONFIG.code });
    await expect(admin.createTopics({ topics: [{ topic: 'bad', numPartitions: 1, configs: { 'retention.ms': 'soon' } }] })).rejects.toMatchObject({ code: Errors.INVALID_CONFIG.code });
    // Growing a topic (forwarded to the controller) reaches every node with RF replicas per new partition.
    expect(await admin.createTopics({ topics: [{ topic: 'wide', numPartitions: 2, replicationFactor: 2 }] })).toBe(true);
    await admin.createPartitions([{ topic: 'wide', count: 4 }]);
    await expect(admin.createPartitions([{ topic: 'wide', count: 3 }])).rejects.toMatchObject({ code: Errors.INVALID_PARTITIONS.code });
    for (const n of nodes) {
      await waitFor(async () => {
        const wide = (await statusOf(n)).partitions.filter((p) => p.topic === 'wide');
        return wide.length === 4 && wide.every((p) => new Set(p.replicas).size === 2);
      }, { what: `node ${n.id} to apply the growth of wide` });
    }
    for (const n of nodes) {
      await waitFor(async () => {
        const counts = leaderCounts(await statusOf(n), 'orders');
        return counts.get(1) === 4 && counts.get(2) === 4 && counts.get(3) === 4;
      }, { what: `node ${n.id} to apply the placement of orders` });
    }

    // Produce through node 1 (keyed, so every partition gets some), consume through node 2.
    const producer = client(n1).producer({ lingerMs: 1 });
    await producer.connect();
    const sent = Array.from({ length: 120 }, (_, i) => `m${i}`);
    await producer.send({ topic: 'orders', messages: sent.map((value, i) => ({ key: `k${i}`, value })) });
    expect((await consumeAll(client(n2), 'orders', sent.length)).sort()).toEqual([...sent].sort());

    // A node that does not lead a partition says who does.
    const status = await statusOf(n2);
    const ledBy1 = status.partitions.find((p) => p.topic === 'orders' && p.leader === 1)!;
    const raw = await TestClient.connect(n2.port);
    const refused = (await raw.request(ApiKeys.Produce, { topic: 'orders', partition: ledBy1.partition, acks: 1, timeoutMs: 5000 }, batchOf(0, 1))).header as ProduceResponse;
    raw.close();
    expect(refused).toMatchObject({ errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code, leaderId: 1 });

    // `rill cluster status` from another node shows every member, the controller and the placement.
    const cliRun = spawnNode(rillCli, ['cluster', 'status', '--brokers', `127.0.0.1:${n2.port}`]);
    let out = '';
    cliRun.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const cliErr = collectStderr(cliRun);
    expect((await waitForExit(cliRun)).code, cliErr()).toBe(0);
    expect(out).toMatch(/Controller: node [123], term \d+; voters 1, 2, 3/);
    expect(out.match(/^[123] +alive /gm)).toHaveLength(3);
    expect(out).toMatch(/^orders +12 +1:4 2:4 3:4 +-$/m);

    // SIGKILL node 3: the others mark it dead, fence it, and its partitions go leaderless.
    await killBroker(n3);
    for (const n of [n1, n2]) {
      await waitFor(async () => {
        const s = await statusOf(n);
        return s.members.find((m) => m.id === 3)?.state === 'dead' && s.brokers.find((b) => b.id === 3)?.fenced === true && leaderCounts(s, 'orders').get(-1) === 4;
      }, { timeoutMs: 15_000, what: `node ${n.id} to see node 3 dead and fenced` });
    }
    // The survivors keep serving theirs: unkeyed messages go to partitions with a leader.
    const during = Array.from({ length: 30 }, (_, i) => `d${i}`);
    // (A client that learns the metadata now: batches already bound for node 3's partitions
    // would wait for it, as Kafka's do, since with one copy nobody else has those partitions.)
    const survivorsProducer = client(n1, n2).producer({ lingerMs: 1 });
    await survivorsProducer.connect();
    await survivorsProducer.send({ topic: 'orders', messages: during.map((value) => ({ value })) });

    // A topic created meanwhile lands on the live nodes only.
    await createTopic(client(n1, n2), 'later', 6);
    await createTopic(client(n1, n2), 'pairs', 2, 2);

    // Restarted, node 3 rejoins, catches up on the metadata and serves its partitions again.
    const n3b = await node(3, [n1, n2], n3);
    await waitFor(async () => {
      const [a, b] = await Promise.all([statusOf(n1), statusOf(n3b)]);
      return !a.brokers.find((x) => x.id === 3)!.fenced && leaderCounts(a, 'orders').get(3) === 4 && b.metadataVersion >= a.metadataVersion && leaderCounts(b, 'orders').get(3) === 4;
    }, { timeoutMs: 15_000, what: 'node 3 to rejoin and lead its partitions again' });
    const all = await consumeAll(client(n3b), 'orders', sent.length + during.length);
    expect(all.sort()).toEqual([...sent, ...during].sort());

    // `later` (one copy) and `pairs` (two) hold data: an idempotent acks=all producer writes
    // numbered messages to every partition.
    const laterProducer = client(n1, n2).producer({ lingerMs: 1, idempotent: true, acks: -1 });
    await laterProducer.connect();
    const perPartition = 20;
    const filled = [...Array.from({ length: 6 }, (_, partition) => ({ topic: 'later', partition })), { topic: 'pairs', partition: 0 }, { topic: 'pairs', partition: 1 }];
    for (const { topic, partition } of filled) {
      await laterProducer.send({ topic, messages: Array.from({ length: perPartition }, (_, i) => ({ partition, value: `${partition}:${i}` })) });
    }

    // `rill cluster rebalance --topics later,pairs --wait` gives node 3 its share, copying the
    // data: a new replica catches up from the leader (the single copy of a `later` partition),
    // then the final replicas are committed, and the old copies go.
    const rebalance = spawnNode(rillCli, ['cluster', 'rebalance', '--topics', 'later,pairs', '--wait', '--brokers', `127.0.0.1:${n2.port}`]);
    let moved = '';
    rebalance.stdout!.on('data', (chunk: Buffer) => (moved += chunk.toString()));
    const rebalanceErr = collectStderr(rebalance);
    expect((await waitForExit(rebalance)).code, rebalanceErr()).toBe(0);
    const ids = (list: string) => list.split(',').map(Number);
    const moves = [...moved.matchAll(/^Moving (later|pairs)-(\d+): replicas ([\d,]+) -> ([\d,]+)$/gm)].map((m) => ({ topic: m[1], partition: Number(m[2]), before: ids(m[3]), after: ids(m[4]) }));
    expect(moves.filter((m) => m.after.includes(3) && !m.before.includes(3)).length, moved).toBeGreaterThanOrEqual(2);
    expect(moves.some((m) => m.topic === 'pairs'), moved).toBe(true);
    expect(moved).toContain(`Done: moved ${moves.length} partition(s).`);
    await waitFor(async () => {
      const s = await statusOf(n3b);
      return moves.every((m) => s.partitions.find((p) => p.topic === m.topic && p.partition === m.partition)?.replicas.join() === m.after.join());
    }, { what: 'the final replicas on node 3' });
    // The removed copies are deleted from disk; the added ones are on node 3's.
    const byId = new Map([[1, n1], [2, n2], [3, n3b]]);
    const dirOf = (id: number, m: { topic: string; partition: number }) => join(byId.get(id)!.dataDir, 'topics', m.topic, String(m.partition));
    await waitFor(() => moves.every((m) => m.before.filter((r) => !m.after.includes(r)).every((r) => !existsSync(dirOf(r, m)))), { what: 'the old copies deleted' });
    for (const m of moves) for (const r of m.after) expect(existsSync(dirOf(r, m))).toBe(true);
    // Every acknowledged message is there exactly once and in order, read through node 3.
    for (const topic of ['later', 'pairs']) {
      const reader = client(n3b).consumer();
      await reader.connect();
      reader.assign([{ topic, offset: 'earliest' }]);
      const mine = filled.filter((f) => f.topic === topic);
      const read = new Map<number, string[]>();
      for await (const batch of reader) {
        for (const m of batch.messages) read.set(batch.partition, [...(read.get(batch.partition) ?? []), Buffer.from(m.value!).toString()]);
        if ([...read.values()].reduce((n, v) => n + v.length, 0) >= mine.length * perPartition) break;
      }
      await reader.disconnect();
      for (const { partition } of mine) expect(read.get(partition)).toEqual(Array.from({ length: perPartition }, (_, i) => `${partition}:${i}`));
    }
    // The producer keeps working against the new leaders; a second rebalance has nothing to do.
    await laterProducer.send({ topic: 'later', messages: moves.filter((m) => m.topic === 'later').map((m) => ({ partition: m.partition, value: 'after' })) });
    const again = spawnNode(rillCli, ['cluster', 'rebalance', '--topics', 'later,pairs', '--dry-run', '--brokers', `127.0.0.1:${n1.port}`]);
    let planned = '';
    again.stdout!.on('data', (chunk: Buffer) => (planned += chunk.toString()));
    expect((await waitForExit(again)).code).toBe(0);
    expect(planned).toMatch(/^nothing to move/m);

    // Kill the controller leader: another voter takes over and topics can still be created.
    const before = await statusOf(n1);
    const controller = [n1, n2, n3b].find((n) => n.id === before.controllerId)!;
    await killBroker(controller);
    const survivors = [n1, n2, n3b].filter((n) => n !== controller);
    const next = await waitFor(async () => {
      const s = await statusOf(survivors[0]);
      return s.controllerId > 0 && s.controllerId !== controller.id && s.controllerTerm > before.controllerTerm ? s : null;
    }, { timeoutMs: 15_000, what: 'a new controller' });
    expect(survivors.map((n) => n.id)).toContain(next.controllerId);
    const admin2 = client(...survivors).admin();
    await admin2.connect();
    // (While no controller is known, every topic is answered NOT_CONTROLLER and the admin retries.)
    expect(await admin2.createTopics({ topics: [{ topic: 'after-failover', numPartitions: 2 }] })).toBe(true);
    await waitFor(async () => (await statusOf(survivors[1])).partitions.filter((p) => p.topic === 'after-failover').length === 2, { what: 'the new topic everywhere' });
  }, 60_000);
});
