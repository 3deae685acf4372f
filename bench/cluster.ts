// Cluster foundation figures: gossip convergence and failure detection, gossip bandwidth, and
// metadata operations per second through the Raft controller. Benchmark code only.
//
//   convergence      N SWIM members on real UDP sockets on 127.0.0.1, default timings: time from
//                    starting them (all seeded with the first) until every member holds all N alive
//   detection        simulated network and virtual time (default timings, 1-10 ms latency): time
//                    from killing a member until every other member holds it DEAD; median and max
//                    over seeds (real time for this is seconds per run, all spent waiting)
//   bandwidth        gossip bytes sent per member per second in steady state (virtual time, 5 members)
//   metadata ops/s   3 RaftServers in this process with real fsync'd FileRaftStorage in temp dirs;
//                    frames between them pass through the event loop (no TCP transport yet);
//                    create-topic commands (1 partition, RF 3) through the leader, 1 and 64 in flight
//
// Usage: npm run bench:cluster [-- --quick]. Writes bench/results/cluster.json.

import { MemoryNetwork } from '../src/cluster/memory-network.js';
import { memoryGossipTransport } from '../src/cluster/gossip/gossip-transport.js';
import { MemberState } from '../src/cluster/gossip/messages.js';
import { Swim } from '../src/cluster/gossip/swim.js';
import { UdpTransport } from '../src/cluster/gossip/udp-transport.js';
import { MetadataController } from '../src/cluster/metadata/controller.js';
import { MetadataState, type MetadataResult } from '../src/cluster/metadata/metadata-state.js';
import { systemClock } from '../src/cluster/clock.js';
import { seededRandom, systemRandom } from '../src/cluster/random.js';
import { RaftServer } from '../src/cluster/raft/raft-server.js';
import { FileRaftStorage } from '../src/cluster/raft/raft-storage.js';
import type { RaftTransport } from '../src/cluster/raft/raft-transport.js';
import { VirtualClock } from '../src/cluster/virtual-clock.js';
import { fmtInt, fmtMs, machineInfo, makeTempDir, median, now, parseOptions, printTable, progress, removeDir, writeJson, type TableRow } from './bench-util.js';

const options = parseOptions();
const DETECTION_SEEDS = options.quick ? 5 : 25;
const OPS = options.quick ? 300 : 2000;

const self = (id: number) => ({ host: '127.0.0.1', ports: { broker: 9092 + id }, rack: null, load: { partitions: 0 } });

async function convergenceUdp(n: number): Promise<{ ms: number; bytesPerMemberPerSec: number }> {
  const transports = await Promise.all(Array.from({ length: n }, () => UdpTransport.bind('127.0.0.1', 0)));
  const seed = transports[0].address;
  const members = transports.map((transport, i) => new Swim({ id: i + 1, clusterId: 'bench', self: self(i + 1), seeds: [seed], transport, clock: systemClock(), random: systemRandom() }));
  const start = now();
  members.forEach((m) => m.start());
  while (!members.every((m) => m.aliveMembers().length === n)) await new Promise((r) => setTimeout(r, 1));
  const ms = now() - start;
  // A few seconds of steady state for real-socket bandwidth.
  const before = members.map((m) => m.stats.bytesSent);
  const steadyStart = now();
  await new Promise((r) => setTimeout(r, options.quick ? 1000 : 3000));
  const seconds = (now() - steadyStart) / 1000;
  const bytes = members.reduce((sum, m, i) => sum + m.stats.bytesSent - before[i], 0);
  members.forEach((m) => m.stop());
  return { ms, bytesPerMemberPerSec: bytes / n / seconds };
}

function detectionSim(n: number, seed: number): { ms: number; bytesPerMemberPerSec: number } {
  const clock = new VirtualClock();
  const network = new MemoryNetwork(clock, seededRandom(seed), { minDelayMs: 1, maxDelayMs: 10 });
  const address = (id: number) => `m${id}:7946`;
  const members = Array.from({ length: n }, (_, i) => new Swim({ id: i + 1, clusterId: 'bench', self: self(i + 1), seeds: [address(1)], transport: memoryGossipTransport(network, address(i + 1)), clock, random: seededRandom(seed * 100 + i) }));
  members.forEach((m) => m.start());
  clock.runUntilTrue(() => members.every((m) => m.aliveMembers().length === n), 60_000, 10);
  const steady = 20_000;
  const sentBefore = network.stats.bytesSent;
  clock.runFor(steady);
  const bytesPerMemberPerSec = (network.stats.bytesSent - sentBefore) / n / (steady / 1000);
  const victim = members[n - 1];
  victim.stop();
  const ms = clock.runUntilTrue(() => members.slice(0, -1).every((m) => m.member(victim.id)?.state === MemberState.DEAD), 120_000, 10);
  if (ms === null) throw new Error(`seed ${seed}: killed member not detected`);
  members.forEach((m) => m.stop());
  return { ms, bytesPerMemberPerSec };
}

/** Frames between in-process Raft servers, delivered on a later turn of the event loop. */
function directTransports(ids: number[]): Map<number, RaftTransport> {
  const handlers = new Map<number, (frame: Uint8Array) => void>();
  const closed = new Set<number>();
  return new Map(
    ids.map((id) => [
      id,
      {
        send: (to, frame) => {
          const copy = frame.slice();
          setImmediate(() => {
            if (!closed.has(to) && !closed.has(id)) handlers.get(to)?.(copy);
          });
        },
        listen: (h) => void handlers.set(id, h),
        close: () => void closed.add(id),
      } satisfies RaftTransport,
    ]),
  );
}

async function metadataOps(inFlight: number): Promise<{ opsPerSec: number; p50Ms: number }> {
  const ids = [1, 2, 3];
  const dirs = ids.map(() => makeTempDir('rill-bench-raft-'));
  const transports = directTransports(ids);
  const nodes = ids.map((id, i) => {
    const state = new MetadataState();
    const raft = new RaftServer<MetadataResult>({ id, voters: ids, clusterId: 'bench', storage: new FileRaftStorage(dirs[i]), transport: transports.get(id)!, stateMachine: state, clock: systemClock(), random: systemRandom() });
    return { raft, controller: new MetadataController(raft, state) };
  });
  while (!nodes.some((n) => n.raft.isLeader)) await new Promise((r) => setTimeout(r, 10));
  const leader = nodes.find((n) => n.raft.isLeader)!.controller;
  for (const id of ids) await leader.submit({ type: 'register-broker', id, host: '127.0.0.1', ports: { broker: 9092 }, rack: null });
  let next = 0;
  const latencies: number[] = [];
  const start = now();
  const worker = async () => {
    while (next < OPS) {
      const i = next++;
      const t0 = now();
      const result = await leader.submit({ type: 'create-topic', name: `t${inFlight}-${i}`, partitions: 1, replicationFactor: 3 });
      if (!result.ok) throw new Error(result.message);
      latencies.push(now() - t0);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (now() - start) / 1000;
  nodes.forEach((n) => n.raft.stop());
  dirs.forEach(removeDir);
  return { opsPerSec: OPS / seconds, p50Ms: median(latencies) };
}

const rows: TableRow[] = [];
const results: Record<string, unknown> = { machine: machineInfo(), quick: options.quick };
for (const n of [3, 5]) {
  progress(`gossip convergence, ${n} members on UDP`);
  const udp = await convergenceUdp(n);
  rows.push({ name: `gossip: ${n} members converge (UDP, 127.0.0.1)`, result: fmtMs(udp.ms), detail: 'join through one seed, 500 ms periods' });
  progress(`failure detection, ${n} members, ${DETECTION_SEEDS} seeds (virtual time)`);
  const runs = Array.from({ length: DETECTION_SEEDS }, (_, s) => detectionSim(n, s + 1));
  const times = runs.map((r) => r.ms);
  rows.push({ name: `gossip: ${n} members detect a killed one (sim)`, result: `median ${fmtMs(median(times))}`, detail: `max ${fmtMs(Math.max(...times))} over ${DETECTION_SEEDS} seeds` });
  const bw = median(runs.map((r) => r.bytesPerMemberPerSec));
  rows.push({ name: `gossip: bandwidth per member, ${n} members`, result: `${fmtInt(bw)} B/s (sim)`, detail: `${fmtInt(udp.bytesPerMemberPerSec)} B/s measured on UDP` });
  results[`gossip${n}`] = { convergenceUdpMs: udp.ms, detectionMedianMs: median(times), detectionMaxMs: Math.max(...times), bandwidthSimBytesPerSec: bw, bandwidthUdpBytesPerSec: udp.bytesPerMemberPerSec };
}
for (const inFlight of [1, 64]) {
  progress(`metadata ops through the controller, ${inFlight} in flight`);
  const r = await metadataOps(inFlight);
  rows.push({ name: `metadata: create-topic via 3-voter Raft, ${inFlight} in flight`, result: `${fmtInt(r.opsPerSec)} ops/s`, detail: `p50 ${fmtMs(r.p50Ms)}, fsync'd on every voter` });
  results[`metadataOps${inFlight}`] = r;
}
printTable('Cluster foundation', rows);
writeJson(new URL('./results/cluster.json', import.meta.url).pathname, results);
