// Failover time with real processes: 3 `rill start` nodes with the default gossip timings (500 ms
// periods, so a dead node is declared dead after its suspicion timeout), a topic of 1 partition
// with replication factor 3 and min.insync.replicas=2, and the Rill client's idempotent acks=all
// producer sending one message at a time. Each round SIGKILLs the partition's leader and measures
// the time until the first produce acknowledged after the kill (by the new leader, elected from
// the ISR), then restarts the node and waits until it is back in the ISR.
// Usage: npm run bench:replication-failover [-- --rounds N]. Writes bench/results/replication-failover.json.

import { peerRequest } from '../src/broker/peer-request.js';
import { Rill } from '../src/client/index.js';
import { ApiKeys, type MetadataResponse } from '../src/protocol/index.js';
import { fmtMs, machineInfo, makeTempDir, median, now, printTable, progress, removeDir, writeJson, type TableRow } from './bench-util.js';
import { gossipAddress, killNode, startNode, until, type NodeProcess as Node } from './cluster-node-process.js';

const TOPIC = 'failover';
const roundsArg = process.argv.indexOf('--rounds');
/** Acknowledgements this soon after the kill may be the old leader's last answers in flight. */
const OLD_LEADER_GRACE_MS = 20;
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;

async function metadata(node: Node): Promise<MetadataResponse> {
  return peerRequest({ host: '127.0.0.1', port: node.port }, ApiKeys.Metadata, { topics: [TOPIC] }, { timeoutMs: 5000, maxFrameBytes: 16 << 20 });
}

const dirs = [1, 2, 3].map(() => makeTempDir('rill-bench-failover-'));
const first = await startNode(1, dirs[0]);
const nodes = new Map<number, Node>([[1, first], ...(await Promise.all([2, 3].map((id) => startNode(id, dirs[id - 1], { seeds: [gossipAddress(first)] })))).map((n) => [n.id, n] as [number, Node])]);
const rill = new Rill({ brokers: [...nodes.values()].map((n) => `127.0.0.1:${n.port}`), clientId: 'bench-failover', retry: { retries: 1000, initialRetryTimeMs: 20, maxRetryTimeMs: 200 } });
const samples: number[] = [];
let stopping = false;
try {
  await until(async () => (await metadata(first)).brokers.length === 3, 60_000, 'the cluster to form');
  const admin = rill.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }] });
  await admin.disconnect();
  await until(async () => (await metadata(first)).topics[0]?.partitions[0]?.isr?.length === 3, 30_000, 'the topic in sync');
  const producer = rill.producer({ idempotent: true, acks: -1, lingerMs: 0, retry: { retries: 1000, initialRetryTimeMs: 20, maxRetryTimeMs: 200 } });
  await producer.connect();
  let killMark = 0;
  let firstAckAfterKill = 0;
  let acked = 0;
  const loop = (async () => {
    for (let n = 0; !stopping; n++) {
      try {
        await producer.send({ topic: TOPIC, messages: [{ value: `m${n}`, partition: 0 }] });
        const at = now();
        // An answer the old leader sent just before dying may arrive a moment after the kill.
        if (killMark > 0 && firstAckAfterKill === 0 && at - killMark > OLD_LEADER_GRACE_MS) firstAckAfterKill = at;
        acked++;
      } catch {
        // Outcome unknown; the next send goes on.
      }
    }
  })();
  await until(async () => acked >= 100, 30_000, 'first acknowledgements');
  for (let round = 0; round < ROUNDS; round++) {
    const live = [...nodes.values()];
    const leaderId = (await metadata(live[0])).topics[0].partitions[0].leader;
    const victim = nodes.get(leaderId)!;
    progress(`round ${round + 1}: SIGKILL node ${leaderId} (the leader)`);
    firstAckAfterKill = 0;
    killMark = now();
    void killNode(victim);
    await until(async () => firstAckAfterKill > 0 && (await metadata(live.find((n) => n !== victim)!)).topics[0].partitions[0].leader !== leaderId, 60_000, 'a produce acknowledged by the new leader');
    samples.push(firstAckAfterKill - killMark);
    killMark = 0;
    const back = await startNode(leaderId, victim.dir, { seeds: live.filter((n) => n !== victim).map(gossipAddress), ports: { gossip: victim.gossipPort, raft: victim.raftPort } });
    nodes.set(leaderId, back);
    await until(async () => (await metadata(back)).topics[0]?.partitions[0]?.isr?.length === 3, 60_000, 'the restarted node back in the ISR');
  }
  stopping = true;
  await loop;
  await producer.disconnect();
} finally {
  stopping = true;
  await rill.close().catch(() => undefined);
  await Promise.all([...nodes.values()].map(killNode));
  dirs.forEach(removeDir);
}
const rows: TableRow[] = [
  { name: 'failover: leader SIGKILLed -> first acks=all produce acknowledged after it', result: fmtMs(median(samples)), detail: `median of ${samples.length}; min ${fmtMs(Math.min(...samples))}, max ${fmtMs(Math.max(...samples))}` },
];
printTable('Replication failover, 3 real processes, default gossip timings (RF 3, min.insync.replicas 2)', rows);
writeJson(new URL('./results/replication-failover.json', import.meta.url).pathname, { machine: machineInfo(), samplesMs: samples });
