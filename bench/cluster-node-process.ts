// A real cluster node for the cluster benchmarks (cluster-processes, replication-failover,
// replication-processes): `rill start --node-id N` on 127.0.0.1 with ephemeral ports (or the ports
// of the node it restarts), controller voters 1,2,3 and one owner worker (three nodes share the
// 2-core machine); killed by pid. Plus the waiting and ClusterStatus polling they share.
// Benchmark code only.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { peerRequest } from '../src/broker/peer-request.js';
import { ApiKeys, type ClusterStatusResponse } from '../src/protocol/index.js';
import { now } from './bench-util.js';

const tsCli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

export interface NodeProcess {
  id: number;
  dir: string;
  child: ChildProcess;
  port: number;
  gossipPort: number;
  raftPort: number;
  /** now() when its 'broker started' line arrived. */
  startedAt: number;
}

export interface NodeStartOptions {
  /** Gossip addresses ("host:port") to join through; none for the first node. */
  seeds?: readonly string[];
  /** The gossip (UDP) and Raft (TCP) ports of the node being restarted: its peers know them. */
  ports?: { gossip: number; raft: number };
  /** Run this compiled cli/main.js (broker-process.ts buildCompiled) instead of src/ under tsx. */
  compiledCli?: string;
  /** More `rill start` flags. */
  flags?: readonly string[];
}

const running = new Set<ChildProcess>();

// A benchmark that dies half-way must not leave nodes behind.
process.once('exit', () => {
  for (const child of running) {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Starts node `id` on `dir`; resolves once it listens. Its stderr goes to this process's stderr. */
export function startNode(id: number, dir: string, options: NodeStartOptions = {}): Promise<NodeProcess> {
  const script = options.compiledCli === undefined ? ['--import', 'tsx', tsCli] : [options.compiledCli];
  const ports = options.ports ?? { gossip: 0, raft: 0 };
  const args = [...script, 'start', '--node-id', String(id), '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--http-port', '0',
    '--cluster-port', String(ports.gossip), '--controller-port', String(ports.raft), '--controller-voters', '1,2,3', '--workers', '1', '--log-level', 'info', ...(options.flags ?? [])];
  if (options.seeds !== undefined && options.seeds.length > 0) args.push('--seeds', options.seeds.join(','));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('RILL_')) delete env[name]; // only our flags count
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('"msg":"broker started"')) return;
      const e = JSON.parse(line) as { port: number; gossipPort: number; raftPort: number };
      resolve({ id, dir, child, port: e.port, gossipPort: e.gossipPort, raftPort: e.raftPort, startedAt: now() });
    });
    child.once('exit', (code, signal) => reject(new Error(`node ${id} exited (code ${code}, signal ${signal}) before starting`)));
  });
}

export function gossipAddress(node: NodeProcess): string {
  return `127.0.0.1:${node.gossipPort}`;
}

/** SIGKILL by pid; resolves when it has exited. */
export async function killNode(node: NodeProcess): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()));
  node.child.kill('SIGKILL');
  await exited;
}

export function clusterStatus(node: NodeProcess): Promise<ClusterStatusResponse> {
  return peerRequest({ host: '127.0.0.1', port: node.port }, ApiKeys.ClusterStatus, {}, { timeoutMs: 5000, maxFrameBytes: 16 << 20 });
}

/** Polls `check` (a failure counts as false) every `intervalMs` until it holds; returns now() then. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 10): Promise<number> {
  const start = now();
  for (;;) {
    if (await check().catch(() => false)) return now();
    if (now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
