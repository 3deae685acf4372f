// `rill cluster up --nodes N` (and `npm run cluster`): a local cluster of N real node processes on
// 127.0.0.1, for trying things out. Main thread of the launcher; each node is its own process.
//
// Node i (1..N) listens on base+i-1 (binary), base+79+i (HTTP) and base+39+i (gossip UDP, Raft
// TCP on the same number), keeps its data under <data-dir>/node-<i> and its log in rill.log there.
// Every node gets every node's gossip address as seeds and the first three ids as controller
// voters. SIGINT or SIGTERM stops every node (as SIGTERM); the launcher exits once all have.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import { action } from './fail.js';
import { parsePositiveInt } from './option-parsers.js';

interface Node {
  id: number;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export function clusterUpCommand(): Command {
  const command = new Command('up')
    .description('start a local cluster of N nodes on 127.0.0.1 (stops them all on Ctrl-C)')
    .addOption(new Option('-n, --nodes <n>', 'number of nodes').argParser(parsePositiveInt).default(3))
    .addOption(new Option('--data-dir <dir>', 'root of the nodes\' data dirs (node-<id> under it)').default('./data'))
    .addOption(new Option('--base-port <port>', 'binary port of node 1; HTTP is +80, gossip/Raft +40').argParser(parsePositiveInt).default(9400))
    .addOption(new Option('--workers <n>', 'partition-owner threads per node').argParser(parsePositiveInt).default(1))
    .addOption(new Option('--log-level <level>', 'log level of the nodes').default('info'));
  command.action(
    action(async (options: { nodes: number; dataDir: string; basePort: number; workers: number; logLevel: string }) => {
      const ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
      const port = (id: number) => options.basePort + id - 1;
      const httpPort = (id: number) => options.basePort + 79 + id;
      const gossipPort = (id: number) => options.basePort + 39 + id;
      const seeds = ids.map((id) => `127.0.0.1:${gossipPort(id)}`).join(',');
      const voters = ids.slice(0, 3).join(',');
      const nodes: Node[] = [];
      let stopping = false;
      const stopAll = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(`\n${signal}: stopping ${nodes.length} node(s)...\n`);
        // SIGTERM whatever came in: on a terminal's Ctrl-C the nodes (same process group) got a
        // SIGINT of their own already, and one signal of each kind stops a node cleanly once.
        for (const n of nodes) n.child.kill('SIGTERM');
      };
      process.on('SIGINT', () => stopAll('SIGINT'));
      process.on('SIGTERM', () => stopAll('SIGTERM'));
      const started: Promise<void>[] = [];
      for (const id of ids) {
        const dataDir = resolve(options.dataDir, `node-${id}`);
        mkdirSync(dataDir, { recursive: true });
        const log = createWriteStream(join(dataDir, 'rill.log'), { flags: 'a' });
        const args = [
          ...process.execArgv,
          process.argv[1],
          'start',
          '--node-id', String(id),
          '--data-dir', dataDir,
          '--host', '127.0.0.1',
          '--port', String(port(id)),
          '--http-port', String(httpPort(id)),
          '--cluster-port', String(gossipPort(id)),
          '--seeds', seeds,
          '--controller-voters', voters,
          '--workers', String(options.workers),
          '--log-level', options.logLevel,
        ];
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stderr!.pipe(log, { end: false });
        const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
        nodes.push({ id, child, exited });
        started.push(
          new Promise<void>((ready) => {
            const lines = createInterface({ input: child.stdout! });
            lines.on('line', (line) => {
              log.write(line + '\n');
              if (line.includes('"msg":"broker started"')) ready();
            });
            void exited.then(() => ready());
          }),
        );
      }
      await Promise.all(started);
      if (!stopping) {
        process.stdout.write(`Started ${ids.length} node(s) of cluster 'rill' (controller voters ${voters}):\n`);
        for (const id of ids) {
          process.stdout.write(`  node ${id}: binary 127.0.0.1:${port(id)}  http http://127.0.0.1:${httpPort(id)}  gossip/raft ${gossipPort(id)}  data ${resolve(options.dataDir, `node-${id}`)} (log: rill.log)\n`);
        }
        process.stdout.write(`\nTry:  rill cluster status --brokers 127.0.0.1:${port(1)}\n      rill topics create orders --partitions 12 --brokers 127.0.0.1:${port(1)}\nCtrl-C stops them all.\n`);
      }
      const codes = await Promise.all(nodes.map(async (n) => ({ id: n.id, code: await n.exited })));
      const failed = codes.filter((c) => c.code !== 0);
      for (const c of failed) process.stderr.write(`node ${c.id} exited with ${c.code ?? 'a signal'} (see its rill.log)\n`);
      process.exitCode = failed.length === 0 ? 0 : 1;
    }),
  );
  return command;
}
