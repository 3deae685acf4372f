// Issue 8's network cut: one node is cut off from the other two — its gossip, its Raft traffic,
// its replica fetches and AlterIsr, both directions — while the Rill client's idempotent acks=all
// producer keeps writing sequence-numbered messages to a topic of 6 partitions, RF 3,
// min.insync.replicas=2. The node cut is the active controller's, which also leads partitions.
//
// Three full nodes run in this process, each started by Broker.start exactly as `rill start`
// starts one (its own owner worker, listeners, gossip, Raft), with one NodeIsolation table that
// every path between nodes obeys (src/cluster/node-isolation.ts). In-process because a cut needs
// no root (no network namespaces) and no proxy that cannot tell which node a connection is from.
// Client connections are not cut: the test asks the isolated node directly.
//
// While cut: the majority's gossip declares the node dead, a controller is elected on the
// majority, fences it and gives its partitions leaders from the ISR; the producer (following the
// majority's metadata) keeps being acknowledged. The isolated node cannot commit any metadata (its
// applied version stands still and it still believes it leads), and an acks=all produce to it is
// answered with a retriable error, never acknowledged. After the heal it rejoins, truncates its
// divergent suffix by leader epoch, catches up and is back in every ISR. Then every partition
// holds every acknowledged message exactly once, in order, with no gap, the probe produced to the
// isolated node is nowhere, and the three replicas' logs are identical below the high watermark.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { resolveBrokerConfig } from '../../src/broker/config.js';
import { NodeIsolation } from '../../src/cluster/index.js';
import { Rill } from '../../src/client/index.js';
import { Errors } from '../../src/errors.js';
import { ApiKeys, type ClusterStatusResponse, type DescribeTopicsResponse, type MetadataResponse } from '../../src/protocol/index.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/storage/index.js';
import { captureLogger, type CapturedLine } from '../helpers/capture-logger.js';
import { TestClient } from '../helpers/protocol-client.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { expectEveryAckedOnceInOrder, startSequencedTraffic } from './fixtures/sequenced-traffic.js';

const tempDir = tempDirs();
const TOPIC = 'ledger';
const PARTITIONS = 6;
const PROBE = 'probe-to-the-isolated-leader';

interface TestNode {
  id: number;
  dir: string;
  broker: Broker;
  logs: CapturedLine[];
}

const nodes: TestNode[] = [];
const clients: Rill[] = [];
const isolation = new NodeIsolation();
/** The producer's retries and metadata refreshes, printed if the test fails. */
const clientLog = captureLogger('debug');

afterEach(async (ctx) => {
  for (const n of nodes) isolation.heal(n.id);
  if (ctx.task.result?.state === 'fail') {
    for (const n of nodes) {
      const lines = n.logs.filter((l) => (l.level as number) >= 40 || /leadership|ISR|controller|membership|truncat|fenc/.test(String(l.msg)));
      console.error(`--- node ${n.id}\n${lines.slice(-50).map((l) => JSON.stringify(l)).join('\n')}`);
    }
    console.error(`--- producer\n${clientLog.lines.slice(-60).map((l) => JSON.stringify(l)).join('\n')}`);
  }
  for (const rill of clients.splice(0)) await rill.close().catch(() => undefined);
  for (const n of nodes.splice(0)) await n.broker.stop().catch(() => undefined);
});

/** A node as `rill start` runs it: 1 worker, 50 ms gossip periods, a short ISR lag. */
async function startNode(id: number, seeds: string[]): Promise<TestNode> {
  const dir = tempDir();
  const { logger, lines: logs } = captureLogger('info');
  const { config } = resolveBrokerConfig({
    flags: {
      'data.dir': dir, host: '127.0.0.1', port: 0, 'http.port': 0, workers: 1, 'node.id': id,
      'cluster.port': 0, 'controller.port': 0, 'controller.voters': '1,2,3', seeds: seeds.join(','),
      'gossip.period.ms': 50, 'gossip.ack.timeout.ms': 20, 'gossip.suspicion.mult': 4,
      'replica.lag.time.max.ms': 1500, 'replica.fetch.wait.max.ms': 100, 'leader.imbalance.check.interval.ms': 1000,
      // The owner workers log to stdout: only errors (shutdown brings expected warnings), unless debugging.
      'log.level': process.env.RILL_TEST_DEBUG === undefined ? 'error' : 'info',
    },
  });
  const broker = await Broker.start(config, logger, { workerExecArgv: ['--import', 'tsx'], isolation });
  const node = { id, dir, broker, logs };
  nodes.push(node);
  return node;
}

async function ask<T>(n: TestNode, apiKey: typeof ApiKeys.ClusterStatus | typeof ApiKeys.Metadata | typeof ApiKeys.DescribeTopics, header: object): Promise<T> {
  const client = await TestClient.connect(n.broker.port);
  try {
    return (await client.request(apiKey, header as never)).header as T;
  } finally {
    client.close();
  }
}
const statusOf = (n: TestNode) => ask<ClusterStatusResponse>(n, ApiKeys.ClusterStatus, {});
const metadataOf = (n: TestNode) => ask<MetadataResponse>(n, ApiKeys.Metadata, { topics: [TOPIC] });

/** As `n` sees it: every partition led by one of `live`, with all three replicas in sync. */
async function fullyReplicated(n: TestNode, live: readonly number[]): Promise<boolean> {
  const partitions = (await metadataOf(n)).topics[0]?.partitions ?? [];
  return partitions.length === PARTITIONS && partitions.every((p) => live.includes(p.leader) && (p.isr?.length ?? 0) === 3);
}

/** A partition's values from offset 0 up to `highWatermark`, fetched from its leader `n`. */
async function readThroughLeader(n: TestNode, partition: number, highWatermark: number): Promise<string[]> {
  const client = await TestClient.connect(n.broker.port);
  try {
    const values: string[] = [];
    while (values.length < highWatermark) {
      const r = await client.request(ApiKeys.Fetch, { partitions: [{ topic: TOPIC, partition, offset: values.length, maxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
      expect((r.header as { partitions: { errorCode: number }[] }).partitions[0].errorCode).toBe(0);
      const before = values.length;
      for (const batch of decodeRecordBatches(r.kind === 'response' ? r.body : new Uint8Array())) {
        batch.records.forEach((rec, i) => {
          if (batch.baseOffset + i === values.length) values.push(Buffer.from(rec.value!).toString());
        });
      }
      expect(values.length, `partition ${partition}: a fetch at ${before} brought nothing`).toBeGreaterThan(before);
    }
    return values;
  } finally {
    client.close();
  }
}

/** A partition's records as one node's files hold them (read after a clean stop trimmed them). */
function recordsOnDisk(n: TestNode, partition: number): { offset: number; epoch: number; value: string }[] {
  const dir = join(n.dir, 'topics', TOPIC, String(partition));
  const out: { offset: number; epoch: number; value: string }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log')).sort()) {
    for (const batch of decodeRecordBatches(readFileSync(join(dir, file)))) {
      batch.records.forEach((r, i) => out.push({ offset: batch.baseOffset + i, epoch: batch.partitionLeaderEpoch, value: Buffer.from(r.value!).toString() }));
    }
  }
  return out;
}

describe('a network cut isolating one node', () => {
  it('loses nothing acknowledged: the isolated leader acknowledges nothing, the majority serves on, the node truncates and catches up after the heal', async () => {
    const n1 = await startNode(1, []);
    const self = (await statusOf(n1)).members.find((m) => m.id === 1)!;
    const seed = `127.0.0.1:${self.address.slice(self.address.lastIndexOf(':') + 1)}`;
    await Promise.all([startNode(2, [seed]), startNode(3, [seed])]);
    await waitFor(async () => {
      const s = await statusOf(n1);
      return s.controllerId > 0 && s.brokers.filter((b) => !b.fenced).length === 3;
    }, { timeoutMs: 20_000, what: 'the cluster to form' });

    const setup = new Rill({ brokers: [`127.0.0.1:${n1.broker.port}`], clientId: 'network-cut-admin' });
    clients.push(setup);
    const admin = setup.admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }] })).toBe(true);
    await admin.disconnect();
    for (const n of nodes) await waitFor(() => fullyReplicated(n, [1, 2, 3]), { timeoutMs: 20_000, what: `node ${n.id} to see ${TOPIC} fully replicated` });

    // The victim: the active controller's node, which leads partitions of its own too.
    const before = await statusOf(n1);
    const victim = nodes.find((n) => n.id === before.controllerId)!;
    const majority = nodes.filter((n) => n !== victim);
    const majorityIds = majority.map((n) => n.id);
    const led = before.partitions.filter((p) => p.topic === TOPIC && p.leader === victim.id);
    expect(led.length).toBeGreaterThan(0);

    // The producer bootstraps from the majority and so follows its metadata. A produce to the
    // isolated leader times out after 2 s and is retried (after a metadata refresh).
    const rill = new Rill({ brokers: majority.map((n) => `127.0.0.1:${n.broker.port}`), clientId: 'network-cut-test', logger: clientLog.logger, requestTimeoutMs: 2_000, retry: { retries: 100, initialRetryTimeMs: 50, maxRetryTimeMs: 300 } });
    clients.push(rill);
    const traffic = startSequencedTraffic(rill, TOPIC, PARTITIONS);
    await waitFor(() => traffic.acked.every((a) => a.length >= 20), { timeoutMs: 20_000, what: 'acknowledged messages on every partition' });

    const ackedBefore = traffic.acked.map((a) => a.length);
    isolation.isolate(victim.id);

    // The majority declares the node dead, elects a controller among itself, fences the node and
    // gives each of its partitions a leader from the ISR in a newer epoch.
    await waitFor(async () => {
      for (const m of majority) {
        const s = await statusOf(m);
        if (s.members.find((x) => x.id === victim.id)?.state !== 'dead' || !majorityIds.includes(s.controllerId)) return false;
        if (s.brokers.find((b) => b.id === victim.id)?.fenced !== true) return false;
        const partitions = s.partitions.filter((p) => p.topic === TOPIC);
        if (partitions.length !== PARTITIONS || !partitions.every((p) => majorityIds.includes(p.leader))) return false;
        if (!led.every((old) => partitions.find((p) => p.partition === old.partition)!.leaderEpoch > old.leaderEpoch)) return false;
      }
      return true;
    }, { timeoutMs: 20_000, what: `the majority to fence node ${victim.id} and elect new leaders` });
    // The majority keeps serving: acks=all produces are acknowledged on every partition, the
    // isolated node's former ones included.
    await waitFor(() => traffic.acked.every((a, p) => a.length >= ackedBefore[p] + 5), { timeoutMs: 20_000, what: 'acknowledged produces while the node is cut off' });

    // The isolated node commits nothing: it steps down as controller (check-quorum), its metadata
    // stands still and still names it leader of its partitions.
    const cutView = await waitFor(async () => {
      const s = await statusOf(victim);
      return s.raftRole !== 'leader' && s;
    }, { what: `node ${victim.id} to step down as controller` });
    for (const old of led) expect(cutView.partitions.find((p) => p.topic === TOPIC && p.partition === old.partition)).toMatchObject({ leader: victim.id, leaderEpoch: old.leaderEpoch });
    // An acks=all produce to it is appended (it believes it leads, and with no controller it
    // cannot shrink its ISR) and answered with a retriable error, never acknowledged.
    const localLogEnd = async () => (await ask<DescribeTopicsResponse>(victim, ApiKeys.DescribeTopics, { topics: [TOPIC], localOnly: true })).topics[0].partitions.find((p) => p.partition === led[0].partition)!.logEndOffset;
    const endBeforeProbe = await localLogEnd();
    const probe = await TestClient.connect(victim.broker.port);
    try {
      const answer = await probe.request(ApiKeys.Produce, { topic: TOPIC, partition: led[0].partition, acks: -1, timeoutMs: 1_000 }, encodeRecordBatch({ records: [{ value: PROBE }] }));
      const code = answer.kind === 'error-response' ? (answer as unknown as { errorCode: number }).errorCode : (answer.header as { errorCode: number }).errorCode;
      const refusals = [Errors.REQUEST_TIMED_OUT, Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND];
      expect(refusals.map((e) => e.code)).toContain(code);
      expect(refusals.every((e) => e.retriable)).toBe(true);
    } finally {
      probe.close();
    }
    // The probe is in the isolated leader's log, unacknowledged (the heal must truncate it).
    expect(await localLogEnd()).toBe(endBeforeProbe + 1);
    const stillCut = await statusOf(victim);
    expect(stillCut.metadataVersion).toBe(cutView.metadataVersion);
    expect((await statusOf(majority[0])).metadataVersion).toBeGreaterThan(cutView.metadataVersion);

    // Heal: the node rejoins, follows the new leaders (truncating by epoch) and is back in every ISR.
    isolation.heal(victim.id);
    for (const n of nodes) await waitFor(() => fullyReplicated(n, [1, 2, 3]), { timeoutMs: 30_000, intervalMs: 50, what: `node ${n.id} to see every replica back in sync after the heal` });
    const ackedAtHeal = traffic.acked.map((a) => a.length);
    await waitFor(() => traffic.acked.every((a, p) => a.length >= ackedAtHeal[p] + 5), { timeoutMs: 20_000, what: 'acknowledged produces after the heal' });
    await traffic.stop();
    expect(traffic.failures).toEqual([]);

    // Committed everywhere once the producer stopped: the high watermark at the log end.
    let described: DescribeTopicsResponse | undefined;
    await waitFor(async () => {
      described = await ask<DescribeTopicsResponse>(majority[0], ApiKeys.DescribeTopics, { topics: [TOPIC] });
      return described.topics[0].partitions.every((p) => p.errorCode === 0 && p.isr?.length === 3 && p.highWatermark === p.logEndOffset && p.logEndOffset > 0);
    }, { what: 'every partition committed up to its log end on all three replicas' });
    const highWatermarks = described!.topics[0].partitions.map((p) => p.highWatermark);
    const throughLeaders = await Promise.all(described!.topics[0].partitions.map((p) => readThroughLeader(nodes.find((n) => n.id === p.leader)!, p.partition, p.highWatermark)));

    // Every replica's log, read from its files after a clean stop: identical below the high
    // watermark (offsets, values and leader epochs); every acknowledged message once, in order,
    // no gap but for values never acknowledged; the probe nowhere.
    for (const n of nodes.splice(0)) {
      await n.broker.stop();
      nodes.push(n);
    }
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const [first, ...others] = nodes.map((n) => recordsOnDisk(n, partition).filter((r) => r.offset < highWatermarks[partition]));
      expect(first).toHaveLength(highWatermarks[partition]);
      for (const other of others) expect(other).toEqual(first);
      expect(throughLeaders[partition]).toEqual(first.map((r) => r.value));
      expect(first.map((r) => r.offset)).toEqual(first.map((_, i) => i));
      expect(first.some((r) => r.value === PROBE)).toBe(false);
      expectEveryAckedOnceInOrder(throughLeaders[partition], traffic.acked[partition], partition);
    }
    for (const n of nodes) for (let partition = 0; partition < PARTITIONS; partition++) expect(recordsOnDisk(n, partition).some((r) => r.value === PROBE)).toBe(false);
  }, 120_000);
});
