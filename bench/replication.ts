// Replication figures: produce throughput and latency with acks=all versus acks=1 on a partition
// replicated to two brokers, and a follower's catch-up rate after it missed N messages.
// Usage: npm run bench:replication [-- --quick]
//
// Both brokers run in this one process (each with its own owner worker threads, listener and TCP
// replica fetcher; the two network fronts share this main thread), wired by hand as the cluster
// wiring will do it: Broker.applyLeadership() and an AlterIsr handler over a local MetadataState.
// Same machine, loopback TCP: the figures show the cost of the replication protocol, not a network.

import { Broker } from '../src/broker/broker.js';
import { resolveBrokerConfig } from '../src/broker/config.js';
import { Connection } from '../src/client/connection.js';
import { silentLogger as clientSilent } from '../src/client/logger.js';
import { silentLogger } from '../src/logger.js';
import { MetadataState } from '../src/cluster/metadata/metadata-state.js';
import { isrOf } from '../src/cluster/metadata/leader-election.js';
import { ApiKeys, DEFAULT_MAX_FRAME_BYTES } from '../src/protocol/index.js';
import { MB, machineInfo, makeBatch, makeTempDir, now, parseOptions, removeDir, writeJson } from './bench-util.js';

const { quick } = parseOptions();
const RECORDS_PER_BATCH = 100;
const VALUE_BYTES = 100;
const IN_FLIGHT = 32;
const BATCHES = quick ? 300 : 3000;
const CATCH_UP_MESSAGES = quick ? 100_000 : 1_000_000;

const state = new MetadataState();
const live = new Map<number, Broker>();
const dirs: string[] = [];

async function startBroker(id: number): Promise<Broker> {
  const dir = makeTempDir(`rill-bench-repl-${id}-`);
  dirs.push(dir);
  return startBrokerAt(id, dir);
}

async function startBrokerAt(id: number, dir: string): Promise<Broker> {
  const { config } = resolveBrokerConfig({ flags: { 'data.dir': dir, port: 0, 'http.port': 0, workers: 1, 'node.id': id, 'log.level': 'warn' } });
  const broker = await Broker.start(config, silentLogger, { workerExecArgv: ['--import', 'tsx'] });
  broker.setAlterIsrHandler(async (request) => {
    const result = state.execute({ type: 'alter-isr', ...request });
    const isr = [...isrOf(state.topic(request.topic)!.partitions[request.partition])];
    await propagate();
    return result.ok ? { topic: request.topic, partition: 0, errorCode: 0, isr } : { topic: request.topic, partition: 0, errorCode: result.code, message: result.message, isr };
  });
  live.set(id, broker);
  return broker;
}

async function propagate(): Promise<void> {
  const addresses = Object.fromEntries([...live].map(([id, b]) => [id, { host: '127.0.0.1', port: b.port }]));
  for (const t of state.topics()) {
    const p = t.partitions[0];
    const m = { topic: t.name, partition: 0, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: isrOf(p), minInsyncReplicas: Number(t.configs['min.insync.replicas'] ?? 1) };
    for (const b of live.values()) await b.applyLeadership([m], addresses, Object.values(addresses)[0]);
  }
}

async function connect(broker: Broker): Promise<Connection> {
  return Connection.open({ host: '127.0.0.1', port: broker.port, clientId: 'bench', connectionTimeoutMs: 5000, requestTimeoutMs: 60_000, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, logger: clientSilent });
}

async function createTopic(name: string, replicas: number[], minInsync: number): Promise<void> {
  state.execute({ type: 'create-topic', name, partitions: 1, replicationFactor: replicas.length, configs: { 'min.insync.replicas': String(minInsync) } });
  for (const id of replicas) {
    const c = await connect(live.get(id)!);
    await c.request(ApiKeys.CreateTopics, { topics: [{ name, partitions: 1 }] });
    c.close();
  }
  await propagate();
}

/** BATCHES produce requests, IN_FLIGHT at a time; returns messages/s and latency percentiles. */
async function produceRun(c: Connection, topic: string, acks: 1 | -1, batches: number): Promise<{ msgsPerSec: number; mbPerSec: number; p50: number; p99: number }> {
  const batch = makeBatch(RECORDS_PER_BATCH, VALUE_BYTES);
  const latencies: number[] = [];
  let sent = 0;
  const start = now();
  const worker = async () => {
    while (sent < batches) {
      sent++;
      const t0 = now();
      const r = await c.request(ApiKeys.Produce, { topic, partition: 0, acks, timeoutMs: 30_000 }, batch.bytes);
      if ((r.header as { errorCode: number }).errorCode !== 0) throw new Error(`produce failed: ${JSON.stringify(r.header)}`);
      latencies.push(now() - t0);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { msgsPerSec: (batches * RECORDS_PER_BATCH) / seconds, mbPerSec: (batches * batch.bytes.length) / seconds / MB, p50: pct(0.5), p99: pct(0.99) };
}

async function highWatermark(c: Connection, topic: string): Promise<number> {
  const r = await c.request(ApiKeys.Fetch, { partitions: [{ topic, partition: 0, offset: 0, maxBytes: 1 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 });
  return (r.header as { partitions: { highWatermark: number }[] }).partitions[0].highWatermark;
}

async function main(): Promise<void> {
  for (const id of [1, 2]) state.execute({ type: 'register-broker', id, host: '127.0.0.1', ports: {}, rack: null });
  await startBroker(1);
  await startBroker(2);
  const results: Record<string, unknown> = { machine: machineInfo(), quick, recordsPerBatch: RECORDS_PER_BATCH, valueBytes: VALUE_BYTES, inFlight: IN_FLIGHT };

  // 1. Throughput: RF=1 acks=1, RF=2 acks=1, RF=2 acks=all (min.insync.replicas=2), to the leader.
  const connections = new Map<number, Connection>();
  const toLeader = async (topic: string) => {
    const id = state.topic(topic)!.partitions[0].leader;
    let c = connections.get(id);
    if (c === undefined || !c.isOpen) connections.set(id, (c = await connect(live.get(id)!)));
    return c;
  };
  const rows: { name: string; msgsPerSec: number; mbPerSec: number; p50: number; p99: number }[] = [];
  await createTopic('rf1', [1], 1);
  await produceRun(await toLeader('rf1'), 'rf1', 1, Math.ceil(BATCHES / 10)); // warm-up
  rows.push({ name: 'RF=1 acks=1', ...(await produceRun(await toLeader('rf1'), 'rf1', 1, BATCHES)) });
  await createTopic('rf2', [1, 2], 2);
  await produceRun(await toLeader('rf2'), 'rf2', -1, Math.ceil(BATCHES / 10));
  rows.push({ name: 'RF=2 acks=1', ...(await produceRun(await toLeader('rf2'), 'rf2', 1, BATCHES)) });
  rows.push({ name: 'RF=2 acks=all', ...(await produceRun(await toLeader('rf2'), 'rf2', -1, BATCHES)) });
  results.produce = rows;

  // 2. Catch-up: the follower (broker 2) is down while CATCH_UP_MESSAGES are produced (acks=1,
  //    min.insync.replicas=1), then comes back and fetches them over ReplicaFetch.
  await createTopic('catchup', [1, 2], 1);
  const leaderId = state.topic('catchup')!.partitions[0].leader;
  const followerId = leaderId === 1 ? 2 : 1;
  const follower = live.get(followerId)!;
  live.delete(followerId);
  connections.get(followerId)?.close();
  await follower.stop();
  state.execute({ type: 'fence-broker', id: followerId });
  await propagate();
  await produceRun(await toLeader('catchup'), 'catchup', 1, Math.ceil(CATCH_UP_MESSAGES / RECORDS_PER_BATCH));
  const back = await startBrokerAt(followerId, dirs[followerId - 1]);
  state.execute({ type: 'unfence-broker', id: followerId });
  const c2 = await connect(back);
  const t0 = now();
  await propagate();
  while ((await highWatermark(c2, 'catchup')) < CATCH_UP_MESSAGES) await new Promise((r) => setTimeout(r, 20));
  const seconds = (now() - t0) / 1000;
  const bytes = CATCH_UP_MESSAGES * (VALUE_BYTES + 8) ; // record overhead approximated per record
  results.catchUp = { messages: CATCH_UP_MESSAGES, seconds, msgsPerSec: CATCH_UP_MESSAGES / seconds, approxMBPerSec: bytes / seconds / MB };

  console.log('\nProduce, 1 partition, batches of %d x %d B, %d in flight, loopback, both brokers in one process', RECORDS_PER_BATCH, VALUE_BYTES, IN_FLIGHT);
  console.log('| setup | msgs/s | MB/s | p50 ms | p99 ms |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${Math.round(r.msgsPerSec).toLocaleString('en-US')} | ${r.mbPerSec.toFixed(1)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`);
  const cu = results.catchUp as { messages: number; seconds: number; msgsPerSec: number };
  console.log(`\nFollower catch-up: ${cu.messages.toLocaleString('en-US')} messages in ${cu.seconds.toFixed(2)} s = ${Math.round(cu.msgsPerSec).toLocaleString('en-US')} msgs/s`);
  writeJson('bench/results/replication.json', results);
  for (const c of connections.values()) c.close();
  c2.close();
  for (const b of live.values()) await b.stop();
  for (const d of dirs) removeDir(d);
}

await main();
