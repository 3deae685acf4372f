// Helpers shared by the storage benchmarks: options, batches, temporary directories, page-cache
// eviction, counting I/O, machine info and table output. Benchmark code only; not part of Rill.

import { spawnSync } from 'node:child_process';
import fs, { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, constants as fsConstants } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeRecordBatch } from '../src/storage/batch-encoder.js';
import { constants as nativeConstants, hasHardwareCrc32c, nativeIo, type FileIo } from '../src/native/index.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
/** Rates are printed in MB/s with MB = 10^6 bytes (as dd and fio print them). */
export const MB = 1e6;

// --- options -------------------------------------------------------------------------------------

export interface BenchOptions {
  /** Smaller sizes and shorter runs, for a sanity check. `--quick` or BENCH_QUICK=1. */
  quick: boolean;
}

export function parseOptions(argv: readonly string[] = process.argv.slice(2)): BenchOptions {
  const env = process.env.BENCH_QUICK;
  const quick = argv.includes('--quick') || (env !== undefined && env !== '' && env !== '0' && env !== 'false');
  for (const arg of argv) {
    if (arg !== '--quick') throw new Error(`unknown argument ${arg} (only --quick is understood)`);
  }
  return { quick };
}

// --- timing --------------------------------------------------------------------------------------

export const now = (): number => performance.now();

/** Full garbage collection if the process runs with --expose-gc (npm run bench:log does). */
export function collectGarbage(): void {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// --- batches -------------------------------------------------------------------------------------

export interface TestBatch {
  bytes: Uint8Array;
  records: number;
}

/** One RecordBatch v2 of `records` records, each a `valueBytes`-byte value and no key. */
export function makeBatch(records: number, valueBytes: number): TestBatch {
  const value = new Uint8Array(valueBytes);
  for (let i = 0; i < valueBytes; i++) value[i] = 0x61 + (i % 26); // not all zeros, not random
  const bytes = encodeRecordBatch({
    records: Array.from({ length: records }, () => ({ value })),
    timestamp: Date.now(),
  });
  return { bytes, records };
}

// --- files ---------------------------------------------------------------------------------------

/** A fresh directory under os.tmpdir() (the same ext4 disk as the repo on the bench machine). */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

/** Segment files of a partition directory (.log, .index, .timeindex), sorted. */
export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => /^\d{20}\.(log|index|timeindex)$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/**
 * Drops the files' pages from the page cache: fdatasync first (dirty pages cannot be dropped),
 * then posix_fadvise(POSIX_FADV_DONTNEED) over the whole file. Needs no root, unlike drop_caches.
 */
export function evictFromPageCache(paths: readonly string[]): void {
  for (const path of paths) {
    const fd = nativeIo.open(path, fsConstants.O_RDONLY);
    try {
      nativeIo.fdatasync(fd);
      nativeIo.fadvise(fd, 0, 0, nativeConstants.POSIX_FADV_DONTNEED);
    } finally {
      nativeIo.close(fd);
    }
  }
}

/**
 * Bytes of the files resident in the page cache, from util-linux `fincore`; null if it is not
 * installed or fails. Used to check that the eviction really evicted.
 */
export function residentBytes(paths: readonly string[]): number | null {
  if (paths.length === 0) return 0;
  const result = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', ...paths], { encoding: 'utf8' });
  if (result.status !== 0 || typeof result.stdout !== 'string') return null;
  let total = 0;
  for (const line of result.stdout.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const n = Number(trimmed);
    if (!Number.isFinite(n)) return null;
    total += n;
  }
  return total;
}

export function fileSizes(paths: readonly string[]): number {
  let total = 0;
  for (const path of paths) total += fs.statSync(path).size;
  return total;
}

// --- counting I/O --------------------------------------------------------------------------------

export interface FdatasyncCounts {
  /** fdatasyncAsync calls (thread pool), by file kind. */
  asyncLog: number;
  asyncIndex: number;
  asyncOther: number;
  /** fdatasync calls on the event loop through FileIo (open, close, truncation). */
  syncCalls: number;
}

export interface CountingIo {
  io: FileIo;
  counts: FdatasyncCounts;
  reset(): void;
  /** All fdatasync calls made through the FileIo (async + sync). */
  total(): number;
}

/** nativeIo with its fdatasync calls counted (and sorted by the kind of file they hit). */
export function countingIo(): CountingIo {
  const paths = new Map<number, string>();
  const counts: FdatasyncCounts = { asyncLog: 0, asyncIndex: 0, asyncOther: 0, syncCalls: 0 };
  const kind = (fd: number): 'log' | 'index' | 'other' => {
    const path = paths.get(fd) ?? '';
    if (path.endsWith('.log')) return 'log';
    if (path.endsWith('.index') || path.endsWith('.timeindex')) return 'index';
    return 'other';
  };
  const io: FileIo = {
    ...nativeIo,
    open: (path, flags, mode) => {
      const fd = nativeIo.open(path, flags, mode);
      paths.set(fd, path);
      return fd;
    },
    fdatasync: (fd) => {
      counts.syncCalls++;
      nativeIo.fdatasync(fd);
    },
    fdatasyncAsync: (fd) => {
      const k = kind(fd);
      if (k === 'log') counts.asyncLog++;
      else if (k === 'index') counts.asyncIndex++;
      else counts.asyncOther++;
      return nativeIo.fdatasyncAsync(fd);
    },
  };
  return {
    io,
    counts,
    reset() {
      counts.asyncLog = counts.asyncIndex = counts.asyncOther = counts.syncCalls = 0;
    },
    total() {
      return counts.asyncLog + counts.asyncIndex + counts.asyncOther + counts.syncCalls;
    },
  };
}

/**
 * Counts fs.fdatasyncSync calls (the checkpoint file uses node:fs, not FileIo) until stop() is
 * called. Works on ESM named imports through syncBuiltinESMExports.
 */
export function countNodeFdatasync(): { count(): number; stop(): void } {
  const original = fs.fdatasyncSync;
  let count = 0;
  fs.fdatasyncSync = (fd: number): void => {
    count++;
    original(fd);
  };
  syncBuiltinESMExports();
  return {
    count: () => count,
    stop() {
      fs.fdatasyncSync = original;
      syncBuiltinESMExports();
    },
  };
}

// --- machine -------------------------------------------------------------------------------------

function cpuTimes(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
  return { idle, total: fields.reduce((sum, n) => sum + n, 0) };
}

/**
 * Share of all CPUs busy over the next `sampleMs` (from /proc/stat; this process idles meanwhile),
 * or null where /proc/stat is missing. Taken before and after the run to see whether something
 * else was competing for the 2 cores.
 */
export function cpuBusyFraction(sampleMs: number): number | null {
  try {
    const a = cpuTimes();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, sampleMs);
    const b = cpuTimes();
    return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : null;
  } catch {
    return null;
  }
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  node: string;
  hardwareCrc32c: boolean;
  platform: string;
  kernel: string;
  memoryGiB: number;
  tmpdir: string;
  tmpdirFilesystem: string | null;
}

function filesystemOf(path: string): string | null {
  try {
    let best: { mount: string; type: string; device: string } | null = null;
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [device, mount, type] = line.split(' ');
      if (mount === undefined || type === undefined) continue;
      const inside = path === mount || path.startsWith(mount.endsWith('/') ? mount : mount + '/');
      if (inside && (best === null || mount.length > best.mount.length)) best = { mount, type, device };
    }
    return best === null ? null : `${best.type} (${best.device} on ${best.mount})`;
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    hardwareCrc32c: hasHardwareCrc32c,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    memoryGiB: Math.round((os.totalmem() / GiB) * 10) / 10,
    tmpdir: os.tmpdir(),
    tmpdirFilesystem: filesystemOf(fs.realpathSync(os.tmpdir())),
  };
}

// --- formatting ----------------------------------------------------------------------------------

export function fmtMBps(bytes: number, ms: number): string {
  return `${(bytes / MB / (ms / 1000)).toFixed(1)} MB/s`;
}

export function mbps(bytes: number, ms: number): number {
  return bytes / MB / (ms / 1000);
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function fmtSize(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(2)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= KiB) return `${(bytes / KiB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export interface TableRow {
  name: string;
  result: string;
  detail?: string;
  target?: string;
}

/** Prints rows as an aligned plain-text table. */
export function printTable(title: string, rows: readonly TableRow[]): void {
  const headers = ['Measurement', 'Result', 'Target', 'Details'];
  const cells = rows.map((r) => [r.name, r.result, r.target ?? '', r.detail ?? '']);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((s, i) => (i === c.length - 1 ? s : s.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

export function passMiss(ok: boolean): 'PASS' | 'MISS' {
  return ok ? 'PASS' : 'MISS';
}

/** Progress to stderr so stdout holds only the report. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
