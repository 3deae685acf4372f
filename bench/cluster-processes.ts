// Real-process cluster figures: N `rill start` processes on 127.0.0.1 with the default gossip
// timings (500 ms periods), for N = 3 and 5:
//   - convergence: from the last node's 'broker started' until every node sees N alive members,
//     a controller, and N registered unfenced brokers in its applied metadata (also from spawn);
//   - detection: from SIGKILL of a node that is not the controller until every survivor's gossip
//     holds it dead, and until its metadata has it fenced.
// Usage: npm run bench:cluster-processes. Writes bench/results/cluster-processes.json.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { peerRequest } from '../src/broker/peer-request.js';
import { ApiKeys, type ClusterStatusResponse } from '../src/protocol/index.js';
import { fmtMs, machineInfo, makeTempDir, now, printTable, progress, removeDir, writeJson, type TableRow } from './bench-util.js';

const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

interface Node {
  id: number;
  child: ChildProcess;
  port: number;
  gossipPort: number;
  startedAt: number;
}

function startNode(id: number, dataDir: string, seeds: string[]): Promise<Node> {
  const args = ['--import', 'tsx', cli, 'start', '--node-id', String(id), '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--cluster-port', '0', '--controller-port', '0', '--controller-voters', '1,2,3', '--workers', '1', '--log-level', 'info'];
  if (seeds.length > 0) args.push('--seeds', seeds.join(','));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.includes('"msg":"broker started"')) return;
      const entry = JSON.parse(line) as { port: number; gossipPort: number };
      resolve({ id, child, port: entry.port, gossipPort: entry.gossipPort, startedAt: now() });
    });
    child.once('exit', (code) => reject(new Error(`node ${id} exited with ${code} before starting`)));
  });
}

function status(node: Node): Promise<ClusterStatusResponse> {
  return peerRequest({ host: '127.0.0.1', port: node.port }, ApiKeys.ClusterStatus, {}, { timeoutMs: 5000, maxFrameBytes: 16 << 20 });
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = now();
  for (;;) {
    if (await check().catch(() => false)) return now();
    if (now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function run(n: number): Promise<{ convergenceMs: number; fromSpawnMs: number; deadMs: number; fencedMs: number }> {
  const dirs = Array.from({ length: n }, () => makeTempDir('rill-bench-cluster-'));
  const spawnAt = now();
  const first = await startNode(1, dirs[0], []);
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => startNode(i + 2, dirs[i + 1], [`127.0.0.1:${first.gossipPort}`])));
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
    victim.child.kill('SIGKILL');
    let deadAt = 0;
    const fencedAt = await until(async () => {
      const all = await Promise.all(survivors.map(status));
      if (deadAt === 0 && all.every((s) => s.members.find((m) => m.id === victim.id)?.state === 'dead')) deadAt = now();
      return deadAt > 0 && all.every((s) => s.brokers.find((b) => b.id === victim.id)?.fenced === true);
    }, 60_000, 'detection');
    return { convergenceMs: formed - lastStarted, fromSpawnMs: formed - spawnAt, deadMs: deadAt - killedAt, fencedMs: fencedAt - killedAt };
  } finally {
    for (const x of nodes) x.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
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
