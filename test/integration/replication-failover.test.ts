// The test that matters for replication (issue 8): three real node processes, a topic of 6
// partitions with replication factor 3 and min.insync.replicas=2, and an idempotent acks=all
// producer (the Rill client, as an application uses it) writing sequence-numbered messages to
// every partition while the test SIGKILLs a partition's leader, restarts it, waits until it is
// back in every ISR, and repeats — six rounds, one of them on the active controller's node.
// Afterwards every partition is read from the beginning through its leader: every acknowledged
// message is there exactly once, in order, and the only values missing are ones never
// acknowledged. Then a rolling restart (SIGTERM, one node at a time) with the producer running
// sees no error the client did not retry. Group offsets committed before the first kill stay
// readable through every round (the internal topic has three copies too).

import { afterEach, describe, expect, it } from 'vitest';
import { coordinatorPartition, OFFSETS_TOPIC } from '../../src/broker/groups/coordinator-partition.js';
import { Rill } from '../../src/client/index.js';
import { ApiKeys, type DescribeTopicsResponse, type MetadataResponse } from '../../src/protocol/index.js';
import { decodeRecordBatches } from '../../src/storage/index.js';
import { TestClient } from '../helpers/protocol-client.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { killBroker, stopBroker } from './fixtures/broker-process.js';
import { collectStderr, rillCli, spawnNode, waitForExit } from './fixtures/child.js';
import { gossipAddress, startNode, statusOf, type NodeProcess } from './fixtures/cluster-process.js';
import { expectEveryAckedOnceInOrder, startSequencedTraffic } from './fixtures/sequenced-traffic.js';

const tempDir = tempDirs();
/** offsets.topic.num.partitions (default). */
const OFFSETS_PARTITIONS = 8;
const running: NodeProcess[] = [];
const clients: Rill[] = [];
const TOPIC = 'ledger';
const PARTITIONS = 6;
/** Short ISR lag, fast follower long polls and preferred elections each second: rounds stay short. */
const REPLICATION_ARGS = [
  '--replica-lag-time-max-ms', '1500', '--replica-fetch-wait-max-ms', '100', '--leader-imbalance-check-interval-ms', '1000',
  ...(process.env.RILL_TEST_DEBUG === undefined ? [] : ['--log-level', 'debug']),
];

const everyNode: NodeProcess[] = [];
afterEach(async (ctx) => {
  // On failure, what the nodes said about leadership and ISRs (their logs are otherwise dropped).
  if (ctx.task.result?.state === 'fail') {
    for (const n of everyNode) {
      const lines = n.logs.filter((l) => (l.level as number) >= 40 || /leadership|ISR|leading|following|controller|replica|fetch|truncat|fenced/.test(String(l.msg)));
      console.error(`--- node ${n.id} (pid ${n.child.pid})\n${lines.slice(-60).map((l) => JSON.stringify(l)).join('\n')}`);
      if (isAlive(n)) {
        const c = await TestClient.connect(n.port).catch(() => null);
        if (c !== null) {
          console.error(`describe by node ${n.id}`, JSON.stringify((await c.request(ApiKeys.DescribeTopics, { topics: [TOPIC] }).catch((e) => ({ header: String(e) }))).header));
          c.close();
        }
      }
    }
  }
  everyNode.length = 0;
  for (const rill of clients.splice(0)) await rill.close().catch(() => undefined);
  for (const node of running.splice(0)) if (node.child.exitCode === null && node.child.signalCode === null) await killBroker(node);
});

async function node(id: number, seeds: NodeProcess[], restartOf?: NodeProcess): Promise<NodeProcess> {
  const ports = restartOf === undefined ? {} : { gossip: restartOf.gossipPort, raft: restartOf.raftPort };
  const started = await startNode(id, restartOf?.dataDir ?? tempDir(), seeds.map(gossipAddress), ports, REPLICATION_ARGS);
  running.push(started);
  everyNode.push(started);
  return started;
}

/** One group id per __consumer_offsets partition. */
function groupsCovering(partitions: number): string[] {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < partitions; i++) if (!byPartition.has(coordinatorPartition(`readers-${i}`, partitions))) byPartition.set(coordinatorPartition(`readers-${i}`, partitions), `readers-${i}`);
  return [...byPartition.values()];
}

function isAlive(n: NodeProcess): boolean {
  return n.child.exitCode === null && n.child.signalCode === null;
}

async function metadataOf(n: NodeProcess): Promise<MetadataResponse> {
  const client = await TestClient.connect(n.port);
  try {
    return (await client.request(ApiKeys.Metadata, { topics: [TOPIC] })).header as MetadataResponse;
  } finally {
    client.close();
  }
}

/** Every partition led by a live node and with all three replicas in sync, as `n` sees it. */
async function fullyReplicated(n: NodeProcess, live: readonly number[]): Promise<boolean> {
  const partitions = (await metadataOf(n)).topics[0]?.partitions ?? [];
  return partitions.length === PARTITIONS && partitions.every((p) => live.includes(p.leader) && (p.isr?.length ?? 0) === 3);
}

/** Reads a partition from offset 0 up to its high watermark through its leader. */
async function readPartition(n: NodeProcess, partition: number): Promise<string[]> {
  const leader = (await metadataOf(n)).topics[0].partitions[partition].leader;
  const address = (await metadataOf(n)).brokers.find((b) => b.nodeId === leader)!;
  const client = await TestClient.connect(address.port);
  try {
    const values: string[] = [];
    let offset = 0;
    for (;;) {
      const r = await client.request(ApiKeys.Fetch, { partitions: [{ topic: TOPIC, partition, offset, maxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
      const header = r.header as { partitions: { errorCode: number; highWatermark: number }[] };
      expect(header.partitions[0].errorCode).toBe(0);
      for (const batch of decodeRecordBatches(r.kind === 'response' ? r.body : new Uint8Array())) {
        batch.records.forEach((rec, i) => {
          if (batch.baseOffset + i >= offset) values.push(Buffer.from(rec.value!).toString());
        });
        offset = Math.max(offset, batch.baseOffset + batch.records.length);
      }
      if (offset >= header.partitions[0].highWatermark) return values;
    }
  } finally {
    client.close();
  }
}

function debugLogger(): any {
  const log = (level: string) => (a: unknown, b?: unknown) => console.error(level, typeof a === 'string' ? a : JSON.stringify(a), b ?? '');
  const l: any = { debug: () => {}, trace: () => {}, info: log('info'), warn: log('warn'), error: log('error') };
  l.child = () => l;
  return l;
}

describe('replication and failover across three node processes', () => {
  it('loses no acknowledged message through leader kills (the controller\'s node included) and a rolling restart', async () => {
    const n1 = await node(1, []);
    const [n2, n3] = await Promise.all([node(2, [n1]), node(3, [n1])]);
    const nodes = new Map<number, NodeProcess>([[1, n1], [2, n2], [3, n3]]);
    const live = () => [...nodes.values()].filter(isAlive);
    await waitFor(async () => {
      const s = await statusOf(n1);
      return s.controllerId > 0 && s.brokers.filter((b) => !b.fenced).length === 3;
    }, { timeoutMs: 20_000, what: 'the cluster to form' });

    const rill = new Rill({ brokers: [n1, n2, n3].map((n) => `127.0.0.1:${n.port}`), clientId: 'failover-test', ...(process.env.RILL_TEST_DEBUG === undefined ? {} : { logger: debugLogger() }), retry: { retries: 100, initialRetryTimeMs: 50, maxRetryTimeMs: 300 } });
    clients.push(rill);
    const admin = rill.admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }] })).toBe(true);
    await admin.disconnect();
    for (const n of live()) await waitFor(() => fullyReplicated(n, [1, 2, 3]), { timeoutMs: 20_000, what: `node ${n.id} to see ${TOPIC} fully replicated` });

    // Group offsets: __consumer_offsets has offsets.topic.replication.factor (3) copies, and one
    // group per partition of it, so every round's victim coordinates some of them.
    const offsetsTopic = (await statusOf(n1)).partitions.filter((p) => p.topic === OFFSETS_TOPIC);
    expect(offsetsTopic.map((p) => p.replicas.length)).toEqual(Array(OFFSETS_PARTITIONS).fill(3));
    const groups = groupsCovering(OFFSETS_PARTITIONS);
    const groupAdmin = rill.admin();
    await groupAdmin.connect();
    for (const [i, groupId] of groups.entries()) await groupAdmin.setOffsets({ groupId, topic: TOPIC, partitions: [{ partition: 0, offset: i + 1 }] });
    const committed = async () => Promise.all(groups.map(async (groupId) => (await groupAdmin.fetchOffsets({ groupId, topics: [TOPIC] })).find((p) => p.partition === 0)?.committedOffset));

    const traffic = startSequencedTraffic(rill, TOPIC, PARTITIONS, {
      retry: { retries: 100, initialRetryTimeMs: 50, maxRetryTimeMs: 300 },
      onFailure: (what, error) => process.env.RILL_TEST_DEBUG !== undefined && console.error(what, error),
    });
    await waitFor(() => traffic.acked.every((a) => a.length >= 20), { timeoutMs: 20_000, what: 'acknowledged messages on every partition' });

    const ROUNDS = 6;
    const victims: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const observer = live()[0];
      const meta = await metadataOf(observer);
      // Round 2 takes down the active controller's node; the others a partition's leader.
      const victimId = round === 2 ? (await statusOf(observer)).controllerId : meta.topics[0].partitions[round % PARTITIONS].leader;
      const victim = nodes.get(victimId)!;
      victims.push(victimId);
      const ackedBefore = traffic.acked.map((a) => a.length);
      await killBroker(victim);
      const survivors = live();
      const survivorIds = survivors.map((n) => n.id);
      // The controller fences the dead node and every partition it led gets a leader from the ISR...
      await waitFor(async () => {
        const partitions = (await metadataOf(survivors[0])).topics[0]?.partitions ?? [];
        return partitions.length === PARTITIONS && partitions.every((p) => survivorIds.includes(p.leader));
      }, { timeoutMs: 20_000, what: `round ${round}: new leaders after node ${victimId} was killed` });
      // ...and acks=all produces succeed again on every partition (two in-sync replicas remain).
      await waitFor(() => traffic.acked.every((a, p) => a.length >= ackedBefore[p] + 5), { timeoutMs: 20_000, what: `round ${round}: acknowledged produces on the new leaders` });
      // With the victim still down, its groups are coordinated by new leaders that loaded them.
      expect(await committed()).toEqual(groups.map((_, i) => i + 1));

      const back = await node(victimId, survivors, victim);
      nodes.set(victimId, back);
      await waitFor(() => fullyReplicated(back, [1, 2, 3]), { timeoutMs: 30_000, intervalMs: 50, what: `round ${round}: node ${victimId} back in every ISR` });
    }
    expect(new Set(victims).size).toBeGreaterThanOrEqual(2);

    // A rolling restart: each node in turn stops cleanly and comes back; the producer keeps going.
    const failuresBefore = traffic.failures.length;
    for (const id of [1, 2, 3]) {
      const old = nodes.get(id)!;
      const ackedBefore = traffic.total();
      expect((await stopBroker(old)).code).toBe(0);
      const back = await node(id, live(), old);
      nodes.set(id, back);
      await waitFor(() => fullyReplicated(back, [1, 2, 3]), { timeoutMs: 30_000, intervalMs: 50, what: `rolling restart: node ${id} back in every ISR` });
      await waitFor(() => traffic.total() > ackedBefore + 30, { timeoutMs: 20_000, what: `rolling restart: produces after node ${id} returned` });
    }
    await traffic.stop();
    expect(traffic.failures.slice(failuresBefore)).toEqual([]);
    expect(await committed()).toEqual(groups.map((_, i) => i + 1));
    await groupAdmin.disconnect();

    // Any node describes every partition (asking the leaders of the others): three replicas, all
    // in sync, the high watermark at the log end once the producer stopped.
    const reader = live()[0];
    await waitFor(async () => {
      const c = await TestClient.connect(reader.port);
      try {
        const d = (await c.request(ApiKeys.DescribeTopics, { topics: [TOPIC] })).header as DescribeTopicsResponse;
        return d.topics[0].partitions.every((p) => p.errorCode === 0 && p.replicas?.length === 3 && p.isr?.length === 3 && p.highWatermark === p.logEndOffset && p.logEndOffset > 0);
      } finally {
        c.close();
      }
    }, { what: 'DescribeTopics to show every partition replicated and committed' });
    const cliRun = spawnNode(rillCli, ['topics', 'describe', TOPIC, '--brokers', `127.0.0.1:${reader.port}`]);
    let described = '';
    cliRun.stdout!.on('data', (chunk: Buffer) => (described += chunk.toString()));
    const cliErr = collectStderr(cliRun);
    expect((await waitForExit(cliRun)).code, cliErr()).toBe(0);
    expect(described).toMatch(/PARTITION +LEADER +REPLICAS +ISR +LOG-START +LOG-END +HIGH-WATERMARK +SIZE\n/);
    expect(described.match(/^ {2}\d +[123] +[123],[123],[123] +[123],[123],[123] +0 +\d+ +\d+ /gm)).toHaveLength(PARTITIONS);
    expect(described).toMatch(/min\.insync\.replicas +2/);

    // Every acknowledged message exactly once, in order; nothing out of sequence or duplicated.
    for (let partition = 0; partition < PARTITIONS; partition++) expectEveryAckedOnceInOrder(await readPartition(reader, partition), traffic.acked[partition], partition);
  }, 180_000);
});
