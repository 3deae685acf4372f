// Real-process cluster figures: N `rill start` processes on 127.0.0.1 with the default gossip
// timings (500 ms periods), for N = 3 and 5:
//   - convergence: from the last node's 'broker started' until every node sees N alive members,
//     a controller, and N registered unfenced brokers in its applied metadata (also from spawn);
//   - detection: from SIGKILL of a node that is not the controller until every survivor's gossip
//     holds it dead, and until its metadata has it fenced.
// Usage: npm run bench:cluster-processes. Writes bench/results/cluster-processes.json.

import { clusterStatus as status, gossipAddress, killNode, startNode, until } from './cluster-node-process.js';
import { fmtMs, machineInfo, makeTempDir, now, printTable, progress, removeDir, writeJson, type TableRow } from './bench-util.js';

async function run(n: number): Promise<{ convergenceMs: number; fromSpawnMs: number; deadMs: number; fencedMs: number }> {
  const dirs = Array.from({ length: n }, () => makeTempDir('rill-bench-cluster-'));
  const spawnAt = now();
  const first = await startNode(1, dirs[0]);
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => startNode(i + 2, dirs[i + 1], { seeds: [gossipAddress(first)] })));
  const nodes = [first, ...rest];
  try {
    const lastStarted = Math.max(...nodes.map((x) => x.startedAt));
    const formed = await until(async () => {
      const all = await Promise.all(nodes.map(status));
      return all.every((s) => s.controllerId > 0 && s.members.filter((m) => m.state === 'alive').length === n && s.brokers.filter((b) => !b.fenced).length === n);
    }, 60_000, 'convergence');
    const controller = (await status(first)).controllerId;
    const victim = nodes.find((x) => x.id !== controller && x.id > 3) ?? nodes.find((x) => x.id !== controller)!;
    const survivors = nodes.filter((x) => x !== victim);
    const killedAt = now();
    void killNode(victim);
    let deadAt = 0;
    const fencedAt = await until(async () => {
      const all = await Promise.all(survivors.map(status));
      if (deadAt === 0 && all.every((s) => s.members.find((m) => m.id === victim.id)?.state === 'dead')) deadAt = now();
      return deadAt > 0 && all.every((s) => s.brokers.find((b) => b.id === victim.id)?.fenced === true);
    }, 60_000, 'detection');
    return { convergenceMs: formed - lastStarted, fromSpawnMs: formed - spawnAt, deadMs: deadAt - killedAt, fencedMs: fencedAt - killedAt };
  } finally {
    await Promise.all(nodes.map(killNode));
    dirs.forEach(removeDir);
  }
}

const rows: TableRow[] = [];
const results: Record<string, unknown> = { machine: machineInfo() };
for (const n of [3, 5]) {
  progress(`${n} real node processes`);
  const r = await run(n);
  rows.push({ name: `${n} processes converge`, result: fmtMs(r.convergenceMs), detail: `after the last 'broker started' (${fmtMs(r.fromSpawnMs)} from spawning the first, tsx start-up included)` });
  rows.push({ name: `${n} processes: a SIGKILLed node is dead`, result: fmtMs(r.deadMs), detail: `in every survivor's gossip; fenced in the metadata after ${fmtMs(r.fencedMs)}` });
  results[`nodes${n}`] = r;
}
printTable('Cluster of real processes (default gossip timings: 500 ms periods)', rows);
writeJson(new URL('./results/cluster-processes.json', import.meta.url).pathname, results);
