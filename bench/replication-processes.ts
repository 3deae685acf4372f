// Replication figures with real processes: 3 `rill start` nodes (src/ compiled with tsc, run as
// `npm start` runs it; one owner worker each, as the three share the 2-core machine) and the Rill
// client's producer in this process.
//   1. Produce: a topic of 3 partitions (one preferred leader per node) for each of RF=1 acks=1,
//      RF=3 acks=1 and RF=3 acks=all with min.insync.replicas=2. SENDERS loops each call send()
//      with 100 messages of 100 B (one partition per loop, round robin), default batching
//      (batchBytes 16 KiB, lingerMs 5): msgs/s and MB/s of values, and the latency of each send()
//      (about one produce request) in an HDR histogram: p50, p99, max.
//   2. Catch-up: a topic of 1 partition, RF 3, min.insync.replicas=2. One follower (not the
//      controller's node) is SIGKILLed; once it is fenced, CATCH_UP_MESSAGES are produced with
//      acks=all to the two others; then it restarts on its data and ports. Measured: from its
//      'broker started' (and from spawning it) until DescribeTopics through the leader shows it
//      back in the ISR with no produce running, i.e. its log end reached the leader's.
// Usage: npm run bench:replication-processes [-- --quick]. Writes bench/results/replication-processes.json.

import os from 'node:os';
import { build } from 'hdr-histogram-js';
import { Rill, type Producer } from '../src/client/index.js';
import { MB, fmtInt, fmtMs, machineInfo, makeTempDir, now, parseOptions, printTable, progress, removeDir, writeJson, type TableRow } from './bench-util.js';
import { buildCompiled } from './broker-process.js';
import { clusterStatus, gossipAddress, killNode, startNode, until, type NodeProcess } from './cluster-node-process.js';

const { quick } = parseOptions();
const VALUE_BYTES = 100;
const MESSAGES_PER_SEND = 100;
const SENDERS = 16;
const PARTITIONS = 3;
const PRODUCE_MESSAGES = quick ? 60_000 : 1_500_000;
const WARMUP_MESSAGES = quick ? 10_000 : 100_000;
const CATCH_UP_MESSAGES = quick ? 100_000 : 1_000_000;

interface ProduceFigures {
  setup: string;
  messages: number;
  seconds: number;
  msgsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const value = Buffer.alloc(VALUE_BYTES, 'x');
const batchOf = (partition: number) => Array.from({ length: MESSAGES_PER_SEND }, () => ({ value, partition }));

/** `messages` in send() calls of MESSAGES_PER_SEND, SENDERS at a time; send latencies in µs. */
async function produce(producer: Producer, topic: string, partitions: number, messages: number): Promise<{ seconds: number; latency: ReturnType<typeof build> }> {
  const latency = build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  let sends = Math.ceil(messages / MESSAGES_PER_SEND);
  const start = now();
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, sender) => {
      const messagesOf = batchOf(sender % partitions);
      while (sends > 0) {
        sends--;
        const t0 = now();
        await producer.send({ topic, messages: messagesOf });
        latency.recordValue(Math.max(1, Math.round((now() - t0) * 1000)));
      }
    }),
  );
  return { seconds: (now() - start) / 1000, latency };
}

async function describe(rill: Rill, topic: string) {
  const admin = rill.admin();
  await admin.connect();
  try {
    return (await admin.describeTopics({ topics: [topic] }))[0];
  } finally {
    await admin.disconnect();
  }
}

async function createTopic(rill: Rill, topic: string, partitions: number, replicationFactor: number, minInsync: number): Promise<void> {
  const admin = rill.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor, configs: { 'min.insync.replicas': String(minInsync) } }] });
  await admin.disconnect();
  await until(async () => {
    const d = await describe(rill, topic);
    return d.partitions.length === partitions && d.partitions.every((p) => p.leader > 0 && p.isr?.length === replicationFactor);
  }, 60_000, `${topic} led and in sync`, 100);
}

async function produceSetup(rill: Rill, setup: string, topic: string, rf: number, acks: 1 | -1): Promise<ProduceFigures> {
  progress(`${setup}: ${fmtInt(PRODUCE_MESSAGES)} messages`);
  await createTopic(rill, topic, PARTITIONS, rf, rf === 1 ? 1 : 2);
  const leaders = (await describe(rill, topic)).partitions.map((p) => p.leader);
  const producer = rill.producer({ acks });
  await producer.connect();
  await produce(producer, topic, PARTITIONS, WARMUP_MESSAGES); // untimed: JIT, connections, segment pre-faults
  const { seconds, latency } = await produce(producer, topic, PARTITIONS, PRODUCE_MESSAGES);
  await producer.disconnect();
  const ms = (q: number) => latency.getValueAtPercentile(q) / 1000;
  progress(`${setup}: leaders ${leaders.join(',')}`);
  return { setup, messages: PRODUCE_MESSAGES, seconds, msgsPerSec: PRODUCE_MESSAGES / seconds, mbPerSec: (PRODUCE_MESSAGES * VALUE_BYTES) / MB / seconds, p50Ms: ms(50), p99Ms: ms(99), maxMs: latency.maxValue / 1000 };
}

const compiled = buildCompiled();
const dirs = [1, 2, 3].map(() => makeTempDir('rill-bench-repl-proc-'));
const nodes = new Map<number, NodeProcess>();
const loadBefore = os.loadavg();
const rill = () => new Rill({ brokers: [...nodes.values()].map((n) => `127.0.0.1:${n.port}`), clientId: 'bench-replication', retry: { retries: 100, initialRetryTimeMs: 50, maxRetryTimeMs: 500 } });
let client: Rill | null = null;
try {
  const first = await startNode(1, dirs[0], { compiledCli: compiled.cli });
  nodes.set(1, first);
  for (const n of await Promise.all([2, 3].map((id) => startNode(id, dirs[id - 1], { compiledCli: compiled.cli, seeds: [gossipAddress(first)] })))) nodes.set(n.id, n);
  await until(async () => {
    const s = await clusterStatus(first);
    return s.controllerId > 0 && s.brokers.filter((b) => !b.fenced).length === 3;
  }, 60_000, 'the cluster to form', 50);
  client = rill();

  // 1. Produce throughput and latency.
  const produceRows: ProduceFigures[] = [];
  produceRows.push(await produceSetup(client, 'RF=1 acks=1', 'rf1', 1, 1));
  produceRows.push(await produceSetup(client, 'RF=3 acks=1', 'rf3-acks1', 3, 1));
  produceRows.push(await produceSetup(client, 'RF=3 acks=all (min.insync.replicas=2)', 'rf3-acksall', 3, -1));

  // 2. Catch-up of a follower that was down for CATCH_UP_MESSAGES.
  const TOPIC = 'catchup';
  await createTopic(client, TOPIC, 1, 3, 2);
  const leaderId = (await describe(client, TOPIC)).partitions[0].leader;
  const controllerId = (await clusterStatus(first)).controllerId;
  const victimId = [1, 2, 3].find((id) => id !== leaderId && id !== controllerId) ?? [1, 2, 3].find((id) => id !== leaderId)!;
  const victim = nodes.get(victimId)!;
  const survivors = [...nodes.values()].filter((n) => n !== victim);
  progress(`catch-up: SIGKILL node ${victimId} (leader ${leaderId}, controller ${controllerId})`);
  await killNode(victim);
  await until(async () => (await clusterStatus(survivors[0])).brokers.find((b) => b.id === victimId)?.fenced === true, 60_000, `node ${victimId} fenced`, 50);
  await until(async () => !(await describe(client!, TOPIC)).partitions[0].isr!.includes(victimId), 60_000, `node ${victimId} out of the ISR`, 50);
  progress(`catch-up: ${fmtInt(CATCH_UP_MESSAGES)} messages to nodes ${survivors.map((n) => n.id).join(', ')}`);
  const filler = client.producer({ acks: -1 });
  await filler.connect();
  const fill = await produce(filler, TOPIC, 1, CATCH_UP_MESSAGES);
  await filler.disconnect();
  const leaderEnd = (await describe(client, TOPIC)).partitions[0].logEndOffset;
  const spawnedAt = now();
  const back = await startNode(victimId, victim.dir, { compiledCli: compiled.cli, seeds: survivors.map(gossipAddress), ports: { gossip: victim.gossipPort, raft: victim.raftPort } });
  nodes.set(victimId, back);
  const inSyncAt = await until(async () => (await describe(client!, TOPIC)).partitions[0].isr!.includes(victimId), 300_000, `node ${victimId} back in the ISR`, 20);
  const fromStarted = (inSyncAt - back.startedAt) / 1000;
  const catchUp = {
    messages: CATCH_UP_MESSAGES,
    leaderLogEnd: leaderEnd,
    fillMsgsPerSec: CATCH_UP_MESSAGES / fill.seconds,
    startMs: back.startedAt - spawnedAt,
    secondsFromStarted: fromStarted,
    secondsFromSpawn: (inSyncAt - spawnedAt) / 1000,
    msgsPerSec: CATCH_UP_MESSAGES / fromStarted,
    mbPerSec: (CATCH_UP_MESSAGES * VALUE_BYTES) / MB / fromStarted,
  };
  const loadAfter = os.loadavg();

  const rows: TableRow[] = produceRows.map((r) => ({
    name: r.setup,
    result: `${fmtInt(r.msgsPerSec)} msgs/s`,
    detail: `${r.mbPerSec.toFixed(1)} MB/s of values; send() p50 ${fmtMs(r.p50Ms)}, p99 ${fmtMs(r.p99Ms)}, max ${fmtMs(r.maxMs)}`,
  }));
  rows.push({
    name: `catch-up after ${fmtInt(CATCH_UP_MESSAGES)} messages down`,
    result: `${fmtInt(catchUp.msgsPerSec)} msgs/s`,
    detail: `back in the ISR ${catchUp.secondsFromStarted.toFixed(2)} s after 'broker started' (${catchUp.secondsFromSpawn.toFixed(2)} s from spawn); filled at ${fmtInt(catchUp.fillMsgsPerSec)} msgs/s acks=all on 2 nodes`,
  });
  printTable(`Replication, 3 real processes (compiled, 1 worker each), ${PARTITIONS} partitions, sends of ${MESSAGES_PER_SEND} x ${VALUE_BYTES} B, ${SENDERS} at a time`, rows);
  console.log(`load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  writeJson(new URL('./results/replication-processes.json', import.meta.url).pathname, {
    machine: machineInfo(),
    quick,
    loadBefore,
    loadAfter,
    settings: { valueBytes: VALUE_BYTES, messagesPerSend: MESSAGES_PER_SEND, senders: SENDERS, partitions: PARTITIONS, workersPerNode: 1 },
    produce: produceRows,
    catchUp,
  });
} finally {
  await client?.close().catch(() => undefined);
  await Promise.all([...nodes.values()].map(killNode));
  dirs.forEach(removeDir);
  removeDir(compiled.dir);
}
