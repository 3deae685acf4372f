// A real broker process for the broker benchmark: spawned as the integration tests spawn it
// (`node --import tsx src/cli/main.ts start --port 0 ...`, bound to 127.0.0.1, a fresh data
// directory), killed by pid with SIGKILL at the end; plus what the benchmark reads about it from
// /proc: memory (VmHWM, VmRSS and its parts) and CPU time per thread. Benchmark code only.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, lstatSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeDir } from './bench-util.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repoRoot, 'src', 'cli', 'main.ts');

export interface BrokerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** The HTTP API's bound port (started on an ephemeral one). */
  httpPort: number;
  dataDir: string;
  /** The JSON log line 'broker started' (workers, port, ...). */
  started: Record<string, unknown>;
  /** Lines of stderr and non-JSON stdout so far (for failure messages). */
  output(): string;
}

const running = new Set<BrokerProcess>();

// A benchmark that dies half-way must not leave brokers behind.
process.once('exit', () => {
  for (const broker of running) {
    try {
      process.kill(broker.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface StartOptions {
  /** Extra flags for `rill start` (e.g. ['--workers', '1', '--log-flush-mode', 'sync']). */
  flags?: string[];
  /** Node options for the broker process, before the script (e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']). */
  nodeArgs?: string[];
  /** Run this compiled cli/main.js (see buildCompiled) instead of the TypeScript sources under tsx. */
  compiledCli?: string;
  /** Append the broker's stderr and non-JSON stdout lines (e.g. a --trace-gc trace) to this file. */
  outputFile?: string;
}

/** Starts a broker on a fresh temporary data directory; resolves once it listens. */
export async function startBroker(options: StartOptions = {}): Promise<BrokerProcess> {
  const dataDir = makeTempDir('rill-bench-broker-');
  const script = options.compiledCli === undefined ? ['--import', 'tsx', cli] : [options.compiledCli];
  const args = [...(options.nodeArgs ?? []), ...script, 'start', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--log-level', 'info', ...(options.flags ?? [])];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('RILL_')) delete env[name]; // only our flags count
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env });
  let text = '';
  const keep = (line: string) => {
    if (options.outputFile !== undefined) appendFileSync(options.outputFile, line + '\n');
    text += line + '\n';
    if (text.length > 64 * 1024) text = text.slice(-32 * 1024);
  };
  createInterface({ input: child.stderr! }).on('line', keep);
  const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        keep(line);
        return;
      }
      if (typeof entry.level === 'number' && entry.level >= 40) keep(line); // warnings and errors
      if (entry.msg === 'broker started') resolve(entry);
    });
    child.once('exit', (code, signal) => reject(new Error(`broker exited (code ${code}, signal ${signal}) before listening:\n${text}`)));
    child.once('error', reject);
  });
  const broker: BrokerProcess = { child, pid: child.pid!, port: started.port as number, httpPort: started.httpPort as number, dataDir, started, output: () => text };
  running.add(broker);
  return broker;
}

/** SIGKILL by pid, wait for the exit, remove the data directory. */
export async function killBroker(broker: BrokerProcess): Promise<void> {
  const exited =
    broker.child.exitCode !== null || broker.child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => broker.child.once('exit', () => resolve()));
  try {
    process.kill(broker.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await exited;
  running.delete(broker);
  removeDir(broker.dataDir);
}

/** SIGTERM by pid and wait (a clean shutdown: profiles are written on a clean exit). */
export async function stopBroker(broker: BrokerProcess, timeoutMs = 60_000): Promise<void> {
  const exited = new Promise<void>((resolve) => broker.child.once('exit', () => resolve()));
  process.kill(broker.pid, 'SIGTERM');
  const timer = setTimeout(() => process.kill(broker.pid, 'SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
  running.delete(broker);
  removeDir(broker.dataDir);
}

export function isAlive(broker: BrokerProcess): boolean {
  return broker.child.exitCode === null && broker.child.signalCode === null;
}

/**
 * Compiles src/ with tsconfig.build.json into a temporary directory (beside links to native/ and
 * node_modules/, so the addon and the dependencies resolve as from dist/) and returns the path of
 * its cli/main.js. Leaves the repository untouched. The caller removes the directory.
 */
export function buildCompiled(): { cli: string; dir: string } {
  const dir = makeTempDir('rill-bench-compiled-');
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(dir, 'dist'), '--declaration', 'false', '--sourceMap', 'false'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    removeDir(dir);
    throw new Error(`tsc failed (status ${result.status}): ${(result.stdout + result.stderr).slice(0, 2000)}`);
  }
  symlinkSync(join(repoRoot, 'native'), join(dir, 'native'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
  const compiled = join(dir, 'dist', 'cli', 'main.js');
  if (!existsSync(compiled)) {
    removeDir(dir);
    throw new Error(`tsc produced no ${compiled}`);
  }
  return { cli: compiled, dir };
}

/** Bytes allocated on disk (st_blocks) by the files under `dir`, and their apparent size. */
export function diskUsage(dir: string): { allocated: number; size: number; files: number } {
  const total = { allocated: 0, size: 0, files: 0 };
  const walk = (path: string) => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return; // deleted meanwhile
    }
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) walk(join(path, name));
    } else if (stat.isFile()) {
      total.allocated += stat.blocks * 512;
      total.size += stat.size;
      total.files++;
    }
  };
  walk(dir);
  return total;
}

// --- memory ---------------------------------------------------------------------------------------

/** From /proc/<pid>/status, in bytes. */
export interface MemorySample {
  /** Peak resident set size since the process started. */
  vmHWM: number;
  vmRSS: number;
  rssAnon: number;
  /** File pages mapped and resident: the segments and indexes the broker has mapped, code. */
  rssFile: number;
  rssShmem: number;
  threads: number;
}

export function memoryOf(pid: number): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return match === null ? NaN : Number(match[1]) * 1024;
  };
  const threads = /^Threads:\s+(\d+)/m.exec(status);
  return {
    vmHWM: kb('VmHWM'),
    vmRSS: kb('VmRSS'),
    rssAnon: kb('RssAnon'),
    rssFile: kb('RssFile'),
    rssShmem: kb('RssShmem'),
    threads: threads === null ? NaN : Number(threads[1]),
  };
}

/** Bytes the process caused to be written to storage (/proc/<pid>/io write_bytes, counted when pages are dirtied). */
export function writeBytesOf(pid: number): number {
  try {
    const match = /^write_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return match === null ? NaN : Number(match[1]);
  } catch {
    return NaN;
  }
}

// --- CPU per thread -------------------------------------------------------------------------------

const TICKS_PER_SECOND = 100; // USER_HZ; getconf CLK_TCK is 100 on Linux x86-64

export interface ThreadTimes {
  /** CPU seconds in user mode. */
  user: number;
  /** CPU seconds in the kernel (system calls, page faults). */
  system: number;
}

/** CPU seconds of each thread of `pid`, by thread id. */
export function threadCpu(pid: number): Map<number, ThreadTimes> {
  const result = new Map<number, ThreadTimes>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return result;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start at state, field 3.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const utime = Number(fields[11]);
      const stime = Number(fields[12]);
      result.set(Number(tid), { user: utime / TICKS_PER_SECOND, system: stime / TICKS_PER_SECOND });
    } catch {
      // the thread ended
    }
  }
  return result;
}

/** CPU seconds the whole machine spent busy (all CPUs, all processes, from /proc/stat). */
export function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice: busy = all but idle and iowait
  // (guest time is already counted in user).
  const busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + (fields[7] ?? 0);
  return busy / TICKS_PER_SECOND;
}

/** CPU seconds (user + system) of every process on the machine, with its name (kernel threads too). */
export function processCpu(): Map<number, { name: string; seconds: number }> {
  const result = new Map<number, { name: string; seconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      result.set(Number(entry), { name: stat.slice(open + 1, close), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND });
    } catch {
      // the process ended
    }
  }
  return result;
}

/** The processes (other than `exclude`) that used the most CPU between two processCpu() samples. */
export function busiestProcesses(before: Map<number, { name: string; seconds: number }>, after: Map<number, { name: string; seconds: number }>, exclude: number[], count = 3): { pid: number; name: string; seconds: number }[] {
  const used: { pid: number; name: string; seconds: number }[] = [];
  for (const [pid, { name, seconds }] of after) {
    if (exclude.includes(pid)) continue;
    const delta = seconds - (before.get(pid)?.seconds ?? 0);
    if (delta > 0) used.push({ pid, name, seconds: delta });
  }
  return used.sort((a, b) => b.seconds - a.seconds).slice(0, count);
}

export interface CpuSplit {
  /** CPU seconds of the broker's main thread (the network front), and of it in the kernel. */
  main: number;
  mainSystem: number;
  /** CPU seconds of the busiest other threads (owner workers, GC helpers, the thread pool). */
  top: number[];
  /** CPU seconds of all threads, and of them in the kernel. */
  total: number;
  system: number;
}

/** CPU used by the broker between two threadCpu() samples. */
export function cpuBetween(pid: number, before: Map<number, ThreadTimes>, after: Map<number, ThreadTimes>): CpuSplit {
  const split: CpuSplit = { main: 0, mainSystem: 0, top: [], total: 0, system: 0 };
  const others: number[] = [];
  for (const [tid, times] of after) {
    const earlier = before.get(tid) ?? { user: 0, system: 0 };
    const system = times.system - earlier.system;
    const used = times.user - earlier.user + system;
    split.total += used;
    split.system += system;
    if (tid === pid) {
      split.main = used;
      split.mainSystem = system;
    } else others.push(used);
  }
  others.sort((a, b) => b - a);
  split.top = others.slice(0, 3);
  return split;
}
