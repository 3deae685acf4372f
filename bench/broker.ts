// Broker benchmark over the binary protocol: npm run bench:broker [-- --quick] [-- --tsx] [-- --cpu-prof]
//
// Every test starts a real broker process as `npm start` runs it (src/ compiled with
// tsconfig.build.json into a temporary directory, `node <dir>/cli/main.js start --port 0 ...`, bound
// to 127.0.0.1, a fresh temporary data directory, the default number of workers unless said otherwise) and kills it by pid (SIGKILL) at the end. This
// process is the client, through bench/broker-client.ts (pipelined requests on one connection):
//
//   1. produce 1,000,000 messages of 100 bytes to one topic of 8 partitions, acks=1, the default
//      flush mode (async): batches of 1,000 records (RecordBatch v2, encodeRecordBatch), encoded
//      before the clock starts, sent round-robin over the partitions with 64 requests in flight;
//      time from the first send to the last acknowledgement. Median of 5 rounds, a fresh broker
//      each, after one untimed warm-up round (so that round 1 does not measure a cold client);
//   2. catch-up consume of the same messages: one fetch loop per partition (8 fetches in flight),
//      1 MiB per fetch, every batch decoded with decodeRecordBatches and every record counted; and,
//      for comparison, the same read walking only the batch headers (what the broker can serve
//      when the client does not decode). Run after the produce's dirty pages were written back;
//   3. the produce of (1) with --log-flush-mode sync (acknowledged after the covering fdatasync);
//   4. end-to-end latency at 10,000 messages/s for 10 s after 1 s of warm-up: every 1 ms the
//      producer sends the records the schedule says are due (normally 10; after a late timer more,
//      in requests of at most 10), round-robin over 8 partitions, each record's value starting
//      with its send time (performance.now(), float64); a consumer long-polls all 8 partitions in
//      one Fetch (maxWaitMs 100, minBytes 1) and records now - sendTime per record.
//      Percentiles come from hdr-histogram-js (samples recorded in microseconds, 3 significant
//      digits); the p99 of each 1-second window is reported too;
//   5. the broker's memory from /proc/<pid>/status (VmHWM = peak RSS, VmRSS, RssAnon, RssFile)
//      after (1); with 1,000 partitions (125 topics x 8) idle and then under a light load (10,000
//      messages/s in batches of 10 spread round-robin over all 1,000 partitions); and what a
//      partition costs once its log passes 1 MiB (16 partitions brought to 1.2 MiB each);
//   6. the produce of (1) with --workers 1 and --workers 2, interleaved rounds;
//   7. (context) a sustained produce of 5,000,000 messages on one broker, which runs long enough
//      to overlap the broker's periodic fdatasync (flush.interval.ms = 1 s).
// Between tests the benchmark waits until the kernel has written back dirty pages (Dirty +
// Writeback in /proc/meminfo below 32 MiB), so one test's writeback does not land on the next.
// Also measured, to judge the figures: the broker's CPU time per thread (/proc/<pid>/task), the
// client's, and the rest of the machine's (/proc/stat: kernel threads, other processes; a warning
// when it is high), the bytes the broker dirtied for the disk (/proc/<pid>/io write_bytes), how
// fast this machine faults in fresh memory and what a plain Node socket moves over loopback.
//
// --quick: 200,000 messages, 1 round, 3 s of latency traffic; --tsx: brokers run the TypeScript
// sources under tsx, as the integration tests do (tsx alone adds ~45 MiB of RSS); --cpu-prof: brokers
// run with --cpu-prof (profiles of every thread kept in a temporary directory) and are stopped
// with SIGTERM so that the profiles get written; --only=SECTION,...: run only some of produce, sync,
// latency, partitions, growth, workers, sustained (numbered 1+2+5a, 3, 4, 5b, 5c, 6, 7 above);
// --broker-node-args="--trace-gc --require ./x.cjs": extra Node options for every broker process;
// --broker-output=FILE: append what brokers print besides their JSON log (a --trace-gc trace, say)
// and their stderr to FILE.
// MB = 10^6 bytes; MB/s counts record-set bytes (RecordBatch v2 as sent and stored).
// Prints a table to stdout (progress goes to stderr) and writes bench/results/broker.json.

import { spawn, type ChildProcess } from 'node:child_process';
import { build as buildHistogram } from 'hdr-histogram-js';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fetchRecordSets } from '../src/protocol/index.js';
import * as sourceStorage from '../src/storage/index.js';
import {
  KiB,
  MiB,
  cpuBusyFraction,
  fmtInt,
  fmtMs,
  fmtSize,
  machineInfo,
  mbps,
  median,
  now,
  parseOptions,
  passMiss,
  printTable,
  progress,
  removeDir,
  writeJson,
  type TableRow,
} from './bench-util.js';
import { BenchConnection, createTopics, type FetchAnswer } from './broker-client.js';
import {
  buildCompiled,
  cpuBetween,
  diskUsage,
  isAlive,
  killBroker,
  busiestProcesses,
  machineBusySeconds,
  processCpu,
  memoryOf,
  startBroker,
  stopBroker,
  threadCpu,
  writeBytesOf,
  type BrokerProcess,
  type CpuSplit,
  type MemorySample,
} from './broker-process.js';

// --- options and settings ---------------------------------------------------------------------

const argv = process.argv.slice(2);
const COMPILED = !argv.includes('--tsx');
const CPU_PROF = argv.includes('--cpu-prof');
const SECTIONS = ['produce', 'sync', 'latency', 'partitions', 'growth', 'workers', 'sustained'] as const;
type Section = (typeof SECTIONS)[number];
/** --only=latency,sync: run just these sections (default: all). */
const onlyArg = argv.find((a) => a.startsWith('--only='));
const ONLY = onlyArg === undefined ? null : new Set(onlyArg.slice('--only='.length).split(','));
for (const name of ONLY ?? []) if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`--only: unknown section ${name} (sections: ${SECTIONS.join(', ')})`);
const runs = (section: Section): boolean => ONLY === null || ONLY.has(section);
/** --broker-node-args="...": Node options for the brokers, split on spaces (diagnosis: tracing, preloads). */
const nodeArgsArg = argv.find((a) => a.startsWith('--broker-node-args='));
const BROKER_NODE_ARGS = nodeArgsArg === undefined ? [] : nodeArgsArg.slice('--broker-node-args='.length).split(' ').filter((a) => a !== '');
/** --broker-output=FILE: the brokers' non-JSON output and stderr, appended to FILE. */
const outputArg = argv.find((a) => a.startsWith('--broker-output='));
const BROKER_OUTPUT = outputArg === undefined ? undefined : outputArg.slice('--broker-output='.length);
const QUICK = parseOptions(argv.filter((a) => a !== '--tsx' && a !== '--cpu-prof' && a !== onlyArg && a !== nodeArgsArg && a !== outputArg)).quick;

const VALUE_BYTES = 100;
const MESSAGES = QUICK ? 200_000 : 1_000_000;
const RECORDS_PER_BATCH = 1000;
const PARTITIONS = 8;
/** Produce requests in flight on the connection (~7 MB of record sets). */
const PRODUCE_WINDOW = 64;
const ROUNDS = QUICK ? 1 : 5;
const SYNC_ROUNDS = QUICK ? 1 : 3;
const WORKER_ROUNDS = QUICK ? 1 : 3;
const SUSTAINED_MESSAGES = QUICK ? 1_000_000 : 5_000_000;
/** Fetch maxBytes per partition and per request in the catch-up consume (Kafka's max.partition.fetch.bytes). */
const FETCH_BYTES = MiB;

const E2E_RATE = 10_000;
const E2E_MAX_BATCH = 10;
const E2E_TICK_MS = 1;
const E2E_WARMUP_MS = 1000;
const E2E_SECONDS = QUICK ? 3 : 10;
const E2E_MAX_WAIT_MS = 100;

/** Messages of the untimed warm-up round (client code JIT-compiled before anything counts). */
const WARMUP_MESSAGES = QUICK ? 50_000 : 200_000;

/** Partitions brought just past 1 MiB each, to see what a partition costs once its log grows. */
const GROWTH_PARTITIONS = 16;
const GROWTH_BYTES_PER_PARTITION = 1.2 * MiB;
const GROWTH_SETTLE_MS = 3000;

const MANY_TOPICS = 125;
const MANY_TOPIC_PARTITIONS = 8;
const TOPICS_PER_CREATE = 25;
const MANY_IDLE_SECONDS = 3;
const LIGHT_RATE = 10_000;
const LIGHT_BATCH = 10;
const LIGHT_SECONDS = QUICK ? 3 : 10;

/** Dirty + Writeback (system-wide) below which the disk is considered quiet between tests. */
const QUIET_DIRTY_BYTES = 32 * MiB;
const QUIET_MAX_MS = 30_000;
/** No single test may take longer than this (a hung broker fails the test, not the run). */
const TEST_TIMEOUT_MS = 240_000;

const TARGET_PRODUCE = 1_200_000;
const TARGET_CONSUME = 2_000_000;
const TARGET_SYNC = 230_000;
const TARGET_P99_MS = 0.9;
const TARGET_P999_MS = 3;
const TARGET_RSS_PRODUCE = 150 * MiB;
const TARGET_RSS_MANY = 300 * MiB;
const BUSY_WARNING = 0.15;
/** Above this share of one core used by others during a measurement, warn. */
const OTHER_CPU_WARNING = 0.5;

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const resultsPath = join(benchDir, 'results', 'broker.json');

const warnings: string[] = [];
function warn(message: string): void {
  warnings.push(message);
  progress(`WARNING: ${message}`);
}

let compiled: { cli: string; dir: string } | null = null;
/**
 * The record codec of the benchmark's own client: by default the build the broker runs (compiled
 * with tsc, as `npm install` builds it and an application runs it), with --tsx these sources
 * under tsx, whose transpiled modules decoded ~10% slower here (3.50 against 3.91 M records/s
 * with no broker; the catch-up row 1.85 against 1.96 M msgs/s, 2026-12-04).
 */
let storage: typeof sourceStorage = sourceStorage;
const profileDir = CPU_PROF ? mkdtempSync(join(os.tmpdir(), 'rill-bench-broker-prof-')) : null;

async function launch(flags: string[] = []): Promise<BrokerProcess> {
  const broker = await startBroker({
    flags,
    compiledCli: compiled?.cli,
    nodeArgs: [...BROKER_NODE_ARGS, ...(profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`])],
    outputFile: BROKER_OUTPUT,
  });
  progress(`broker pid ${broker.pid} on port ${broker.port}, ${String(broker.started.workers)} workers${flags.length > 0 ? `, ${flags.join(' ')}` : ''}`);
  return broker;
}

/** Ends a broker: SIGKILL by pid, or SIGTERM when profiling (profiles are written on a clean exit). */
async function finish(broker: BrokerProcess): Promise<void> {
  if (!isAlive(broker)) {
    warn(`broker pid ${broker.pid} had exited by itself (code ${broker.child.exitCode}, signal ${broker.child.signalCode}): ${broker.output().slice(-500)}`);
  }
  if (profileDir !== null && isAlive(broker)) await stopBroker(broker);
  else await killBroker(broker);
}

function withTimeout<T>(work: Promise<T>, what: string, ms = TEST_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// --- machine yardsticks ---------------------------------------------------------------------------

function dirtyBytes(): number {
  const info = readFileSync('/proc/meminfo', 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(info)?.[1] ?? 0) * KiB;
  return kb('Dirty') + kb('Writeback');
}

/** Waits until the kernel has written back the dirty pages (system-wide); returns the ms waited. */
async function quiesce(): Promise<number> {
  const t0 = now();
  while (dirtyBytes() > QUIET_DIRTY_BYTES && now() - t0 < QUIET_MAX_MS) await sleep(50);
  const left = dirtyBytes();
  if (left > QUIET_DIRTY_BYTES) warn(`${fmtSize(left)} still dirty or under writeback after waiting ${QUIET_MAX_MS / 1000} s`);
  return now() - t0;
}

/** A snapshot to tell, after a measurement, how much CPU the rest of the machine used and who. */
interface MachineSnapshot {
  busy: number;
  processes: ReturnType<typeof processCpu>;
}

function machineSnapshot(): MachineSnapshot {
  return { busy: machineBusySeconds(), processes: processCpu() };
}

/**
 * CPU the rest of the machine used since `before` (kernel threads such as jbd2 and the writeback
 * workers, interrupts, other processes); warns, naming the busiest, when it was more than
 * OTHER_CPU_WARNING of a core.
 */
function otherCpu(what: string, before: MachineSnapshot, broker: BrokerProcess, brokerCpu: CpuSplit, clientSeconds: number, wallMs: number): number {
  const other = Math.max(0, machineBusySeconds() - before.busy - brokerCpu.total - clientSeconds);
  // /proc/stat counts in 10 ms ticks: short measurements need an absolute floor too.
  if (other > 0.1 && other / (wallMs / 1000) > OTHER_CPU_WARNING) {
    const busiest = busiestProcesses(before.processes, processCpu(), [broker.pid, process.pid])
      .map((p) => `${p.name} (pid ${p.pid}) ${p.seconds.toFixed(2)} s`)
      .join(', ');
    warn(`${what}: the rest of the machine used ${other.toFixed(2)} s of CPU in ${(wallMs / 1000).toFixed(2)} s (${((other / wallMs) * 100000).toFixed(0)}% of a core); busiest: ${busiest || 'none visible (interrupts)'}`);
  }
  return other;
}

/** Child process that faults in fresh anonymous memory: MB/s of first touch, as this VM gives it. */
function firstTouchMBps(): Promise<number[]> {
  const code = `
    const { performance } = require('node:perf_hooks');
    const out = [];
    for (let i = 0; i < 3; i++) { const t = performance.now(); let b = Buffer.alloc(256 * 1024 * 1024, 1); out.push(256 * 1048576 / 1e6 / ((performance.now() - t) / 1000)); b = null; }
    console.log(JSON.stringify(out));`;
  return runChild(['-e', code]).then((text) => JSON.parse(text) as number[]);
}

function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited with ${code}: ${out}`))));
  });
}

/**
 * Starts `server` (JS that listens on 127.0.0.1 and prints its port) in a child process and
 * connects to it; the caller kills the child when done.
 */
async function connectToChildServer(server: string): Promise<{ child: ChildProcess; socket: Socket }> {
  const child = spawn(process.execPath, ['-e', server], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
      child.once('error', reject);
    });
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return { child, socket };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/**
 * The floor under any cross-process latency here: a plain Node echo server in another process,
 * pinged with 1,200 bytes every 1 ms over 127.0.0.1 (noDelay), round trips measured for
 * `seconds`. No broker, no work: what two wake-ups of idle processes on this VM cost.
 */
async function echoRoundTrips(seconds: number): Promise<Percentiles> {
  const echo = `
    const net = require('node:net');
    const server = net.createServer((c) => { c.setNoDelay(true); c.on('data', (d) => c.write(d)); });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const { child, socket } = await connectToChildServer(echo);
  try {
    const ping = Buffer.alloc(1200, 7);
    const samples: number[] = [];
    let received = 0;
    let answered: () => void = () => undefined;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= ping.length) {
        received -= ping.length;
        answered();
      }
    });
    const end = now() + seconds * 1000;
    while (now() < end) {
      await sleep(1);
      const t0 = now();
      const back = new Promise<void>((resolve) => (answered = resolve));
      socket.write(ping);
      await back;
      samples.push(now() - t0);
    }
    socket.destroy();
    return percentiles(Float64Array.from(samples));
  } finally {
    child.kill('SIGKILL');
  }
}

/** MB/s a plain Node socket moves over 127.0.0.1 to a Node sink in another process (110 KB writes). */
async function loopbackMBps(): Promise<number[]> {
  const total = 110_000_000;
  const sink = `
    const net = require('node:net');
    const server = net.createServer((c) => { let n = 0; c.on('data', (d) => { n += d.length; if (n >= ${total}) { n -= ${total}; c.write('x'); } }); });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const { child, socket } = await connectToChildServer(sink);
  try {
    const chunk = Buffer.alloc(110_000, 7);
    const rates: number[] = [];
    for (let round = 0; round < 3; round++) {
      const t0 = now();
      const done = new Promise<void>((resolve) => socket.once('data', () => resolve()));
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
      await done;
      rates.push(mbps(total, now() - t0));
    }
    socket.destroy();
    return rates;
  } finally {
    child.kill('SIGKILL');
  }
}

// --- batches ----------------------------------------------------------------------------------------

/** A value of VALUE_BYTES: recognisable text after an 8-byte slot (sequence number or send time). */
function valueTemplate(): Uint8Array {
  const value = new Uint8Array(VALUE_BYTES);
  for (let i = 0; i < VALUE_BYTES; i++) value[i] = 0x61 + (i % 26);
  return value;
}

interface Prepared {
  batches: Uint8Array[];
  records: number;
  bytes: number;
  encodeMs: number;
}

/** `messages` records in batches of RECORDS_PER_BATCH, each value carrying its sequence number. */
function prepareBatches(messages: number): Prepared {
  const template = valueTemplate();
  const t0 = now();
  const batches: Uint8Array[] = [];
  let bytes = 0;
  for (let first = 0; first < messages; first += RECORDS_PER_BATCH) {
    const count = Math.min(RECORDS_PER_BATCH, messages - first);
    const values = new Uint8Array(count * VALUE_BYTES);
    const view = new DataView(values.buffer);
    const records = new Array<{ value: Uint8Array }>(count);
    for (let i = 0; i < count; i++) {
      values.set(template, i * VALUE_BYTES);
      view.setFloat64(i * VALUE_BYTES, first + i);
      records[i] = { value: values.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES) };
    }
    const batch = storage.encodeRecordBatch({ records });
    batches.push(batch);
    bytes += batch.length;
  }
  return { batches, records: messages, bytes, encodeMs: now() - t0 };
}

/** Records/s decodeRecordBatches gets through in this process with no broker involved (3 passes). */
function decodeRates(prepared: Prepared): number[] {
  const rates: number[] = [];
  for (let pass = 0; pass < 3; pass++) {
    const t0 = now();
    let records = 0;
    for (const batch of prepared.batches) for (const decoded of storage.decodeRecordBatches(batch)) records += decoded.records.length;
    rates.push(records / ((now() - t0) / 1000));
  }
  return rates;
}

// --- produce ------------------------------------------------------------------------------------------

interface ProduceRun {
  messages: number;
  bytes: number;
  requests: number;
  ms: number;
  msgsPerSec: number;
  mbps: number;
  /** ms from the start at which each further 1,000,000 messages were acknowledged (sustained run). */
  milestones: number[];
  broker: CpuSplit;
  clientCpuSeconds: number;
  otherCpuSeconds: number;
  /** Bytes the broker dirtied for the disk during the run (write_bytes). */
  diskWriteBytes: number;
  memory: MemorySample;
}

/**
 * Sends `passes` x all batches, batch i to partition i % PARTITIONS, keeping PRODUCE_WINDOW
 * requests in flight; checks every answer and that each partition's offsets come out contiguous.
 */
async function produce(broker: BrokerProcess, connection: BenchConnection, topic: string, prepared: Prepared, passes = 1): Promise<ProduceRun> {
  const { batches } = prepared;
  const total = batches.length * passes;
  const recordsOf = (i: number) => (i % batches.length === batches.length - 1 ? prepared.records - (batches.length - 1) * RECORDS_PER_BATCH : RECORDS_PER_BATCH);
  const nextOffset = new Array<number>(PARTITIONS).fill(0);
  const milestones: number[] = [];
  let acked = 0;
  let ackedRecords = 0;
  const machine0 = machineSnapshot();
  const cpu0 = threadCpu(broker.pid);
  const client0 = process.cpuUsage();
  const written0 = writeBytesOf(broker.pid);
  const t0 = now();
  await new Promise<void>((resolve, reject) => {
    let next = 0;
    let failed = false;
    const pump = () => {
      while (!failed && connection.inFlight < PRODUCE_WINDOW && next < total) {
        const i = next++;
        const partition = i % PARTITIONS;
        const records = recordsOf(i % batches.length);
        connection.produce({ topic, partition, acks: 1, timeoutMs: 30_000 }, batches[i % batches.length]).then(
          (answer) => {
            if (answer.header.baseOffset !== nextOffset[partition]) {
              failed = true;
              reject(new Error(`${topic}-${partition}: batch acknowledged at offset ${answer.header.baseOffset}, expected ${nextOffset[partition]}`));
              return;
            }
            nextOffset[partition] += records;
            acked++;
            const before = ackedRecords;
            ackedRecords += records;
            if (Math.floor(ackedRecords / 1_000_000) > Math.floor(before / 1_000_000)) milestones.push(now() - t0);
            if (acked === total) resolve();
            else pump();
          },
          (error: Error) => {
            failed = true;
            reject(error);
          },
        );
      }
    };
    pump();
  });
  const ms = now() - t0;
  const broker1 = cpuBetween(broker.pid, cpu0, threadCpu(broker.pid));
  const client = process.cpuUsage(client0);
  const memory = memoryOf(broker.pid);
  const messages = prepared.records * passes;
  const bytes = prepared.bytes * passes;
  const clientCpuSeconds = (client.user + client.system) / 1e6;
  const otherCpuSeconds = otherCpu(`produce to ${topic} (${fmtInt(messages)} messages)`, machine0, broker, broker1, clientCpuSeconds, ms);
  return {
    messages,
    bytes,
    requests: total,
    ms,
    msgsPerSec: messages / (ms / 1000),
    mbps: mbps(bytes, ms),
    milestones,
    broker: broker1,
    clientCpuSeconds,
    otherCpuSeconds,
    diskWriteBytes: writeBytesOf(broker.pid) - written0,
    memory,
  };
}

// --- consume ------------------------------------------------------------------------------------------

type ConsumeMode = 'decode' | 'headers';

interface ConsumeRun {
  mode: ConsumeMode;
  messages: number;
  bytes: number;
  fetches: number;
  ms: number;
  msgsPerSec: number;
  mbps: number;
  broker: CpuSplit;
  clientCpuSeconds: number;
  otherCpuSeconds: number;
}

/** Counts the records of a record set by walking the batch headers only; checks their offsets. */
function countByHeaders(set: Uint8Array, from: number, where: string): { records: number; next: number } {
  const view = new DataView(set.buffer, set.byteOffset, set.byteLength);
  let pos = 0;
  let records = 0;
  let next = from;
  while (pos + 61 <= set.length) {
    const size = 12 + view.getInt32(pos + 8);
    if (pos + size > set.length) break; // a trailing partial batch: ignored, as clients do
    const baseOffset = Number(view.getBigInt64(pos));
    if (baseOffset !== next) throw new Error(`${where}: batch at offset ${baseOffset}, expected ${next}`);
    records += view.getInt32(pos + 57);
    next = baseOffset + view.getInt32(pos + 23) + 1;
    pos += size;
  }
  return { records, next };
}

/** Decodes a record set and counts its records from `from` on; checks that offsets are contiguous. */
function countByDecoding(set: Uint8Array, from: number, where: string): { records: number; next: number } {
  let records = 0;
  let next = from;
  for (const batch of storage.decodeRecordBatches(set)) {
    for (const record of batch.records) {
      if (record.offset < next) continue;
      if (record.offset !== next) throw new Error(`${where}: record at offset ${record.offset}, expected ${next}`);
      if (record.value === null || record.value.length !== VALUE_BYTES) throw new Error(`${where}: record ${record.offset} has a value of ${record.value?.length} bytes`);
      records++;
      next++;
    }
  }
  return { records, next };
}

/** Reads every partition from offset 0 to `ends[p]`, one fetch loop per partition. */
async function consume(broker: BrokerProcess, connection: BenchConnection, topic: string, ends: number[], mode: ConsumeMode): Promise<ConsumeRun> {
  let messages = 0;
  let bytes = 0;
  let fetches = 0;
  const machine0 = machineSnapshot();
  const cpu0 = threadCpu(broker.pid);
  const client0 = process.cpuUsage();
  const count = mode === 'decode' ? countByDecoding : countByHeaders;
  const t0 = now();
  await Promise.all(
    ends.map(async (end, partition) => {
      let offset = 0;
      while (offset < end) {
        const answer: FetchAnswer = await connection.fetch({
          partitions: [{ topic, partition, offset, maxBytes: FETCH_BYTES }],
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: FETCH_BYTES,
        });
        fetches++;
        const [p] = answer.header.partitions;
        if (p.errorCode !== 0) throw new Error(`fetch ${topic}-${partition}@${offset}: error ${p.errorCode}`);
        const [set] = fetchRecordSets(answer.header, answer.body);
        if (set.length === 0) throw new Error(`fetch ${topic}-${partition}@${offset} returned nothing below the log end ${end}`);
        bytes += set.length;
        const counted = count(set, offset, `${topic}-${partition}`);
        messages += counted.records;
        offset = counted.next;
      }
    }),
  );
  const ms = now() - t0;
  const client = process.cpuUsage(client0);
  const brokerCpu = cpuBetween(broker.pid, cpu0, threadCpu(broker.pid));
  const clientCpuSeconds = (client.user + client.system) / 1e6;
  const otherCpuSeconds = otherCpu(`consume (${mode})`, machine0, broker, brokerCpu, clientCpuSeconds, ms);
  return {
    mode,
    messages,
    bytes,
    fetches,
    ms,
    msgsPerSec: messages / (ms / 1000),
    mbps: mbps(bytes, ms),
    broker: brokerCpu,
    clientCpuSeconds,
    otherCpuSeconds,
  };
}

// --- 1 + 2 + 5a: produce and consume rounds --------------------------------------------------------------

interface AsyncRound {
  idleMemory: MemorySample;
  produce: ProduceRun;
  quietBeforeProduceMs: number;
  quietBeforeConsumeMs: number;
  consume: Record<ConsumeMode, ConsumeRun>;
  consumeOrder: ConsumeMode[];
  memoryAfterConsume: MemorySample;
}

async function asyncRound(prepared: Prepared, round: number): Promise<AsyncRound> {
  const broker = await launch();
  try {
    const idleMemory = memoryOf(broker.pid);
    const connection = await BenchConnection.connect(broker.port);
    try {
      await createTopics(connection, [{ name: 'bench', partitions: PARTITIONS }]);
      const quietBeforeProduceMs = await quiesce();
      progress(`round ${round}: producing ${fmtInt(prepared.records)} messages`);
      const run = await withTimeout(produce(broker, connection, 'bench', prepared), 'produce');
      progress(`round ${round}: ${fmtInt(run.msgsPerSec)} msgs/s; waiting for writeback`);
      const quietBeforeConsumeMs = await quiesce();
      const ends = Array.from({ length: PARTITIONS }, (_, p) => Math.ceil((prepared.batches.length - p) / PARTITIONS) * RECORDS_PER_BATCH);
      // Which pass reads first alternates by round: the first maps the segments on the broker's main thread.
      const order: ConsumeMode[] = round % 2 === 1 ? ['decode', 'headers'] : ['headers', 'decode'];
      const consumed = {} as Record<ConsumeMode, ConsumeRun>;
      for (const mode of order) {
        progress(`round ${round}: consuming (${mode === 'decode' ? 'decoding every record' : 'batch headers only'})`);
        consumed[mode] = await withTimeout(consume(broker, connection, 'bench', ends, mode), 'consume');
        if (consumed[mode].messages !== prepared.records) throw new Error(`consumed ${consumed[mode].messages} messages, produced ${prepared.records}`);
      }
      return { idleMemory, produce: run, quietBeforeProduceMs, quietBeforeConsumeMs, consume: consumed, consumeOrder: order, memoryAfterConsume: memoryOf(broker.pid) };
    } finally {
      connection.close();
    }
  } finally {
    await finish(broker);
  }
}

// --- 3 and 6: produce-only runs on a broker with flags ----------------------------------------------------

interface FlaggedRun {
  flags: string[];
  workers: number;
  produce: ProduceRun;
}

async function produceOnly(prepared: Prepared, flags: string[], passes = 1): Promise<FlaggedRun> {
  const broker = await launch(flags);
  try {
    const connection = await BenchConnection.connect(broker.port);
    try {
      await createTopics(connection, [{ name: 'bench', partitions: PARTITIONS }]);
      await quiesce();
      const run = await withTimeout(produce(broker, connection, 'bench', prepared, passes), `produce with ${flags.join(' ') || 'defaults'}`);
      return { flags, workers: broker.started.workers as number, produce: run };
    } finally {
      connection.close();
    }
  } finally {
    await finish(broker);
  }
}

// --- 4: end-to-end latency ------------------------------------------------------------------------------

interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Percentiles of samples in milliseconds, through an HDR histogram (µs, 3 significant digits). */
function percentiles(samples: Float64Array): Percentiles {
  const n = samples.length;
  if (n === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  const histogram = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  try {
    for (let i = 0; i < n; i++) histogram.recordValue(Math.max(1, Math.round(samples[i] * 1000)));
    const at = (percentile: number) => histogram.getValueAtPercentile(percentile) / 1000;
    return { count: n, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: histogram.maxValue / 1000, mean: histogram.mean / 1000 };
  } finally {
    histogram.destroy();
  }
}

interface LatencyResult {
  rate: number;
  seconds: number;
  sent: number;
  received: number;
  produceRequests: number;
  fetches: number;
  emptyFetches: number;
  endToEnd: Percentiles;
  produceAck: Percentiles;
  /** How late this process's 1 ms timer fired: the client's own event-loop delay. */
  timerGap: Percentiles;
  /** p99 of each 1-second window of send times, in order. */
  p99PerSecond: number[];
  broker: CpuSplit;
  clientCpuSeconds: number;
  otherCpuSeconds: number;
  measuredMs: number;
}

async function endToEnd(): Promise<LatencyResult> {
  const broker = await launch();
  let producer: BenchConnection | null = null;
  let consumer: BenchConnection | null = null;
  try {
    producer = await BenchConnection.connect(broker.port);
    consumer = await BenchConnection.connect(broker.port);
    return await measureLatency(broker, producer, consumer);
  } finally {
    producer?.close();
    consumer?.close();
    await finish(broker);
  }
}

async function measureLatency(broker: BrokerProcess, producer: BenchConnection, consumer: BenchConnection): Promise<LatencyResult> {
  const topic = 'latency';
  await createTopics(producer, [{ name: topic, partitions: PARTITIONS }]);
  await quiesce();
  const capacity = Math.ceil(E2E_RATE * (E2E_SECONDS + 2));
  const latencies = new Float64Array(capacity);
  /** Which 1-second window (of send time, from measureFrom) each latency sample belongs to. */
  const windows = new Uint16Array(capacity);
  const acks = new Float64Array(capacity);
  const gaps = new Float64Array(Math.ceil(((E2E_WARMUP_MS + E2E_SECONDS * 1000) / E2E_TICK_MS) * 1.5));
  let nLatencies = 0;
  let nAcks = 0;
  let nGaps = 0;
  let sent = 0;
  let received = 0;
  let produceRequests = 0;
  let fetches = 0;
  let emptyFetches = 0;
  let failure: Error | null = null;
  const offsets = new Array<number>(PARTITIONS).fill(0);
  const t0 = now();
  const measureFrom = t0 + E2E_WARMUP_MS;
  const sendUntil = measureFrom + E2E_SECONDS * 1000;
  let consuming = true;

  const consumerLoop = (async () => {
    while (consuming && failure === null) {
      const answer = await consumer.fetch({
        partitions: offsets.map((offset, partition) => ({ topic, partition, offset, maxBytes: MiB })),
        maxWaitMs: E2E_MAX_WAIT_MS,
        minBytes: 1,
        maxBytes: PARTITIONS * MiB,
      });
      const arrived = now();
      fetches++;
      const sets = fetchRecordSets(answer.header, answer.body);
      let records = 0;
      sets.forEach((set, partition) => {
        if (answer.header.partitions[partition].errorCode !== 0) throw new Error(`fetch ${topic}-${partition}: error ${answer.header.partitions[partition].errorCode}`);
        for (const batch of storage.decodeRecordBatches(set)) {
          for (const record of batch.records) {
            if (record.offset < offsets[partition]) continue;
            const value = record.value!;
            const sentAt = new DataView(value.buffer, value.byteOffset, 8).getFloat64(0);
            if (sentAt >= measureFrom && nLatencies < capacity) {
              windows[nLatencies] = Math.floor((sentAt - measureFrom) / 1000);
              latencies[nLatencies++] = arrived - sentAt;
            }
            records++;
          }
          offsets[partition] = batch.baseOffset + batch.lastOffsetDelta + 1;
        }
      });
      if (records === 0) emptyFetches++;
      received += records;
    }
  })().catch((error: Error) => {
    failure ??= error;
  });

  const cpu0 = threadCpu(broker.pid);
  const client0 = process.cpuUsage();
  let cpuAtStart: ReturnType<typeof threadCpu> | null = null;
  let clientAtStart: NodeJS.CpuUsage | null = null;
  let machineAtStart = machineSnapshot();
  const value = valueTemplate();
  const view = new DataView(value.buffer);
  let partition = 0;
  let lastTick = now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const tick = now();
      if (tick >= measureFrom) {
        if (cpuAtStart === null) {
          machineAtStart = { busy: machineBusySeconds(), processes: machineAtStart.processes }; // one read, not a /proc walk, in the timed loop
          cpuAtStart = threadCpu(broker.pid);
          clientAtStart = process.cpuUsage();
        }
        if (nGaps < gaps.length) gaps[nGaps++] = tick - lastTick;
      }
      lastTick = tick;
      if (tick >= sendUntil || failure !== null) {
        clearInterval(timer);
        resolve();
        return;
      }
      // Everything the schedule says is due by now, in batches of at most E2E_MAX_BATCH.
      let due = Math.floor(((tick - t0) * E2E_RATE) / 1000) - sent;
      while (due > 0) {
        const count = Math.min(E2E_MAX_BATCH, due);
        const sentAt = now();
        view.setFloat64(0, sentAt); // encodeRecordBatch copies the value into the batch
        const batch = storage.encodeRecordBatch({ records: Array.from({ length: count }, () => ({ value })) });
        producer.produce({ topic, partition, acks: 1, timeoutMs: 30_000 }, batch).then(
          () => {
            if (sentAt >= measureFrom && nAcks < acks.length) acks[nAcks++] = now() - sentAt;
          },
          (error: Error) => {
            failure ??= error;
          },
        );
        produceRequests++;
        partition = (partition + 1) % PARTITIONS;
        sent += count;
        due -= count;
      }
    }, E2E_TICK_MS);
  });
  const measuredMs = now() - measureFrom;
  const brokerCpu = cpuBetween(broker.pid, cpuAtStart ?? cpu0, threadCpu(broker.pid));
  const client = process.cpuUsage(clientAtStart ?? client0);
  const clientCpuSeconds = (client.user + client.system) / 1e6;
  const otherCpuSeconds = otherCpu('end-to-end latency', machineAtStart, broker, brokerCpu, clientCpuSeconds, measuredMs);
  const deadline = now() + 10_000;
  while (received < sent && failure === null && now() < deadline) await sleep(10);
  consuming = false;
  await withTimeout(consumerLoop, 'the last long poll', 5_000);
  if (failure !== null) throw failure;
  if (received !== sent) throw new Error(`the consumer received ${received} of ${sent} messages`);
  const p99PerSecond: number[] = [];
  for (let second = 0; second < E2E_SECONDS; second++) {
    const inWindow: number[] = [];
    for (let i = 0; i < nLatencies; i++) if (windows[i] === second) inWindow.push(latencies[i]);
    p99PerSecond.push(percentiles(Float64Array.from(inWindow)).p99);
  }
  return {
    rate: E2E_RATE,
    seconds: E2E_SECONDS,
    sent,
    received,
    produceRequests,
    fetches,
    emptyFetches,
    endToEnd: percentiles(latencies.subarray(0, nLatencies)),
    produceAck: percentiles(acks.subarray(0, nAcks)),
    timerGap: percentiles(gaps.subarray(0, nGaps)),
    p99PerSecond,
    broker: brokerCpu,
    clientCpuSeconds,
    otherCpuSeconds,
    measuredMs,
  };
}

// --- 5b: 1,000 partitions ----------------------------------------------------------------------------------

interface ManyPartitionsResult {
  topics: number;
  partitions: number;
  createMs: number;
  started: MemorySample;
  created: MemorySample;
  idle: MemorySample;
  loaded: MemorySample;
  load: { rate: number; seconds: number; sent: number; requests: number; ack: Percentiles; broker: CpuSplit };
  diskBytes: number;
}

async function manyPartitions(): Promise<ManyPartitionsResult> {
  const broker = await launch();
  let connection: BenchConnection | null = null;
  try {
    connection = await BenchConnection.connect(broker.port);
    return await loadManyPartitions(broker, connection);
  } finally {
    connection?.close();
    await finish(broker);
  }
}

async function loadManyPartitions(broker: BrokerProcess, connection: BenchConnection): Promise<ManyPartitionsResult> {
  const started = memoryOf(broker.pid);
  const names = Array.from({ length: MANY_TOPICS }, (_, i) => `topic-${String(i).padStart(3, '0')}`);
  const t0 = now();
  for (let i = 0; i < names.length; i += TOPICS_PER_CREATE) {
    await createTopics(connection, names.slice(i, i + TOPICS_PER_CREATE).map((name) => ({ name, partitions: MANY_TOPIC_PARTITIONS })));
  }
  const createMs = now() - t0;
  const created = memoryOf(broker.pid);
  progress(`${MANY_TOPICS * MANY_TOPIC_PARTITIONS} partitions created in ${fmtMs(createMs)}; idle for ${MANY_IDLE_SECONDS} s`);
  await quiesce();
  await sleep(MANY_IDLE_SECONDS * 1000);
  const idle = memoryOf(broker.pid);

  progress(`light load: ${fmtInt(LIGHT_RATE)} msgs/s over all partitions for ${LIGHT_SECONDS} s`);
  const total = MANY_TOPICS * MANY_TOPIC_PARTITIONS;
  const value = valueTemplate();
  const batch = storage.encodeRecordBatch({ records: Array.from({ length: LIGHT_BATCH }, () => ({ value })) });
  const acks = new Float64Array(Math.ceil((LIGHT_RATE / LIGHT_BATCH) * (LIGHT_SECONDS + 1)));
  let nAcks = 0;
  let sent = 0;
  let requests = 0;
  let next = 0;
  let failure: Error | null = null;
  const pending = new Set<Promise<unknown>>();
  const cpu0 = threadCpu(broker.pid);
  const written0 = writeBytesOf(broker.pid);
  const l0 = now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const tick = now();
      if (tick - l0 >= LIGHT_SECONDS * 1000 || failure !== null) {
        clearInterval(timer);
        resolve();
        return;
      }
      let due = Math.floor(((tick - l0) * LIGHT_RATE) / 1000) - sent;
      while (due > 0) {
        const p = next++ % total;
        const sentAt = now();
        const request = connection.produce({ topic: names[Math.floor(p / MANY_TOPIC_PARTITIONS)], partition: p % MANY_TOPIC_PARTITIONS, acks: 1, timeoutMs: 30_000 }, batch).then(
          () => {
            if (nAcks < acks.length) acks[nAcks++] = now() - sentAt;
          },
          (error: Error) => {
            failure ??= error;
          },
        );
        pending.add(request);
        void request.finally(() => pending.delete(request));
        requests++;
        sent += LIGHT_BATCH;
        due -= LIGHT_BATCH;
      }
    }, 2);
  });
  await withTimeout(Promise.all(pending), 'the last light-load acknowledgements', 30_000);
  if (failure !== null) throw failure;
  const brokerCpu = cpuBetween(broker.pid, cpu0, threadCpu(broker.pid));
  const loaded = memoryOf(broker.pid);
  return {
    topics: MANY_TOPICS,
    partitions: total,
    createMs,
    started,
    created,
    idle,
    loaded,
    load: { rate: LIGHT_RATE, seconds: LIGHT_SECONDS, sent, requests, ack: percentiles(acks.subarray(0, nAcks)), broker: brokerCpu },
    diskBytes: writeBytesOf(broker.pid) - written0,
  };
}

// --- 5c: partitions past 1 MiB --------------------------------------------------------------------------

interface GrowthResult {
  partitions: number;
  bytesPerPartition: number;
  ms: number;
  before: MemorySample;
  after: MemorySample;
  diskBefore: number;
  diskAfter: number;
  diskWriteBytes: number;
}

/**
 * Brings GROWTH_PARTITIONS partitions just past 1 MiB each (batches of 100 records, all partitions
 * in turn), waits GROWTH_SETTLE_MS, and measures memory and disk: what one partition costs once its
 * log has grown a little, which the light load above never reaches.
 */
async function growth(): Promise<GrowthResult> {
  const broker = await launch();
  let connection: BenchConnection | null = null;
  try {
    connection = await BenchConnection.connect(broker.port);
    await createTopics(connection, [{ name: 'growth', partitions: GROWTH_PARTITIONS }]);
    await quiesce();
    const value = valueTemplate();
    const batch = storage.encodeRecordBatch({ records: Array.from({ length: 100 }, () => ({ value })) });
    const rounds = Math.ceil(GROWTH_BYTES_PER_PARTITION / batch.length);
    const before = memoryOf(broker.pid);
    const diskBefore = diskUsage(broker.dataDir).allocated;
    const written0 = writeBytesOf(broker.pid);
    const t0 = now();
    for (let round = 0; round < rounds; round++) {
      const answers = [];
      for (let partition = 0; partition < GROWTH_PARTITIONS; partition++) answers.push(connection.produce({ topic: 'growth', partition, acks: 1, timeoutMs: 30_000 }, batch));
      await Promise.all(answers);
    }
    const ms = now() - t0;
    await sleep(GROWTH_SETTLE_MS);
    return {
      partitions: GROWTH_PARTITIONS,
      bytesPerPartition: rounds * batch.length,
      ms,
      before,
      after: memoryOf(broker.pid),
      diskBefore,
      diskAfter: diskUsage(broker.dataDir).allocated,
      diskWriteBytes: writeBytesOf(broker.pid) - written0,
    };
  } finally {
    connection?.close();
    await finish(broker);
  }
}

// --- main ----------------------------------------------------------------------------------------------

/** The run with the median of `key` (rounds are odd, so a real run rather than an average). */
function medianBy<T>(runs: readonly T[], key: (run: T) => number): T {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1];
}

async function attempt<T>(name: string, work: () => Promise<T>): Promise<T | null> {
  try {
    return await work();
  } catch (error) {
    warn(`${name} FAILED: ${(error as Error)?.stack ?? String(error)}`);
    return null;
  }
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
const rate = (n: number) => `${fmtInt(n)} msgs/s`;
const secs = (s: number) => `${s.toFixed(2)} s`;
const range = (values: readonly number[], f: (v: number) => string) => (values.length > 1 ? `runs ${values.map(f).join(' / ')}` : '');
/** Detail text: the non-empty parts joined by '; '. */
const parts = (...texts: string[]) => texts.filter((t) => t !== '').join('; ');
const cpuText = (c: CpuSplit, client?: number, other?: number) =>
  `broker CPU ${secs(c.total)} (main thread ${secs(c.main)}, busiest other threads ${c.top.map((t) => t.toFixed(2)).join('/')} s; in the kernel ${secs(c.system)})` +
  (client === undefined ? '' : `, client CPU ${secs(client)}`) +
  (other === undefined ? '' : `, rest of the machine ${secs(other)}`);
const memText = (m: MemorySample) => `VmHWM ${mib(m.vmHWM)}, VmRSS ${mib(m.vmRSS)} (anon ${mib(m.rssAnon)}, file ${mib(m.rssFile)})`;

async function main(): Promise<void> {
  const startedAt = now();
  const machine = machineInfo();
  const busyBefore = cpuBusyFraction(1000);
  const loadBefore = os.loadavg();
  if (busyBefore !== null && busyBefore > BUSY_WARNING) {
    warn(`CPU ${(busyBefore * 100).toFixed(0)}% busy before the run started: other processes compete for the ${machine.cores} cores`);
  }
  progress(`${QUICK ? 'quick' : 'full'} run${COMPILED ? ', compiled brokers' : ''}${profileDir !== null ? `, CPU profiles in ${profileDir}` : ''}`);
  if (COMPILED) {
    progress('compiling src/ into a temporary directory');
    compiled = buildCompiled();
    storage = (await import(pathToFileURL(join(compiled.dir, 'dist', 'storage', 'index.js')).href)) as typeof sourceStorage;
  }

  try {
    progress('yardsticks: first touch of fresh memory, loopback TCP');
    const firstTouch = await attempt('first-touch yardstick', firstTouchMBps);
    const loopback = await attempt('loopback yardstick', loopbackMBps);

    progress(`encoding ${fmtInt(MESSAGES)} messages into batches of ${RECORDS_PER_BATCH}`);
    const prepared = prepareBatches(MESSAGES);
    const decoding = decodeRates(prepared);

    // Untimed: the client's produce, fetch and decode paths get JIT-compiled here, so that round 1
    // does not measure a cold client (the broker is fresh in every round anyway).
    progress(`warm-up round with ${fmtInt(WARMUP_MESSAGES)} messages (not counted)`);
    await attempt('warm-up round', () => asyncRound(prepareBatches(WARMUP_MESSAGES), 0));

    // 1, 2, 5a
    const rounds: AsyncRound[] = [];
    for (let round = 1; round <= (runs('produce') ? ROUNDS : 0); round++) {
      const result = await attempt(`produce/consume round ${round}`, () => asyncRound(prepared, round));
      if (result !== null) rounds.push(result);
    }

    // 3
    const syncRuns: FlaggedRun[] = [];
    for (let round = 1; round <= (runs('sync') ? SYNC_ROUNDS : 0); round++) {
      progress(`sync produce round ${round}/${SYNC_ROUNDS}`);
      const result = await attempt(`sync produce round ${round}`, () => produceOnly(prepared, ['--log-flush-mode', 'sync']));
      if (result !== null) syncRuns.push(result);
    }

    // 4
    progress(`end-to-end latency: ${fmtInt(E2E_RATE)} msgs/s for ${E2E_SECONDS} s after ${E2E_WARMUP_MS / 1000} s of warm-up`);
    const latency = runs('latency') ? await attempt('end-to-end latency', () => withTimeout(endToEnd(), 'end-to-end latency')) : null;
    const echo = runs('latency') ? await attempt('echo yardstick', () => echoRoundTrips(E2E_SECONDS)) : null;

    // 5b
    progress(`${MANY_TOPICS * MANY_TOPIC_PARTITIONS} partitions`);
    const many = runs('partitions') ? await attempt('1,000 partitions', () => withTimeout(manyPartitions(), '1,000 partitions')) : null;

    // 5c
    progress(`${GROWTH_PARTITIONS} partitions brought past 1 MiB each`);
    const grown = runs('growth') ? await attempt('partitions past 1 MiB', () => withTimeout(growth(), 'partitions past 1 MiB')) : null;

    // 6
    const workerRuns = new Map<number, FlaggedRun[]>([
      [1, []],
      [2, []],
    ]);
    for (let round = 1; round <= (runs('workers') ? WORKER_ROUNDS : 0); round++) {
      for (const workers of round % 2 === 1 ? [1, 2] : [2, 1]) {
        progress(`--workers ${workers}, round ${round}/${WORKER_ROUNDS}`);
        const result = await attempt(`--workers ${workers} round ${round}`, () => produceOnly(prepared, ['--workers', String(workers)]));
        if (result !== null) workerRuns.get(workers)!.push(result);
      }
    }

    // 7
    const passes = Math.round(SUSTAINED_MESSAGES / MESSAGES);
    progress(`sustained produce: ${fmtInt(passes * MESSAGES)} messages on one broker`);
    const sustained = runs('sustained') ? await attempt('sustained produce', () => produceOnly(prepared, [], passes)) : null;

    const busyAfter = cpuBusyFraction(1000);
    const loadAfter = os.loadavg();
    if (busyAfter !== null && busyAfter > BUSY_WARNING) warn(`CPU ${(busyAfter * 100).toFixed(0)}% busy right after the run`);
    const totalMs = now() - startedAt;

    // --- report ---
    const rows: TableRow[] = [];
    const targets: { name: string; value: number | null; threshold: number; status: 'PASS' | 'MISS' | 'n/a' }[] = [];
    const target = (name: string, value: number | null, threshold: number, ok: (v: number) => boolean, label: string): string => {
      const status = value === null || Number.isNaN(value) ? 'n/a' : passMiss(ok(value));
      targets.push({ name, value, threshold, status });
      return `${label}: ${status}`;
    };
    const failedRow = (name: string): TableRow => ({ name, result: 'FAILED', detail: 'see warnings below' });
    // A section left out with --only reports nothing rather than FAILED.
    const missing = (section: Section, ...names: string[]): TableRow[] => (runs(section) ? names.map(failedRow) : []);

    if (firstTouch !== null) {
      rows.push({ name: '0. Machine: first touch of fresh memory', result: `${median(firstTouch).toFixed(0)} MB/s`, detail: `256 MiB Buffer.alloc in a child process, 3 runs: ${firstTouch.map((v) => v.toFixed(0)).join(' / ')} MB/s (all kernel time: page faults)` });
    }
    if (echo !== null) {
      rows.push({
        name: '0. Machine: cross-process echo, 1 ping/ms',
        result: `p99 ${fmtMs(echo.p99)}`,
        detail: `a bare Node echo server in another process, 1,200 B every 1 ms over loopback for ${E2E_SECONDS} s (${fmtInt(echo.count)} round trips): p50 ${fmtMs(echo.p50)}, p99.9 ${fmtMs(echo.p999)}, max ${fmtMs(echo.max)}; the floor under 4.`,
      });
    }
    if (loopback !== null) {
      rows.push({ name: '0. Machine: Node socket over loopback', result: `${median(loopback).toFixed(0)} MB/s`, detail: `110 MB in 110 KB writes to a Node sink process, 3 runs: ${loopback.map((v) => v.toFixed(0)).join(' / ')} MB/s` });
    }
    rows.push({
      name: '0. Client: encodeRecordBatch (untimed prep)',
      result: rate(prepared.records / (prepared.encodeMs / 1000)),
      detail: `${fmtInt(prepared.records)} records into ${fmtInt(prepared.batches.length)} batches of ${RECORDS_PER_BATCH} (${fmtInt(prepared.batches[0].length)} B each) in ${fmtMs(prepared.encodeMs)}; done before the clock starts`,
    });

    rows.push({
      name: '0. Client: decodeRecordBatches, no broker',
      result: rate(median(decoding)),
      detail: `the ${fmtInt(prepared.records)} records decoded in this process from memory, 3 passes: ${decoding.map((v) => fmtInt(v)).join(' / ')} msgs/s: the ceiling of 2. for a single-threaded decoding client`,
    });

    const roundsNote = `median of ${rounds.length} round(s), fresh broker each`;
    if (rounds.length > 0) {
      const p = medianBy(rounds, (r) => r.produce.msgsPerSec).produce;
      const rates = rounds.map((r) => r.produce.msgsPerSec);
      rows.push({
        name: `1. Produce ${fmtInt(MESSAGES)} x ${VALUE_BYTES} B, acks=1, async flush`,
        result: `${rate(p.msgsPerSec)}, ${p.mbps.toFixed(1)} MB/s`,
        target: target('produce msgs/s (async, acks=1)', p.msgsPerSec, TARGET_PRODUCE, (v) => v >= TARGET_PRODUCE, `>= ${fmtInt(TARGET_PRODUCE)}/s`),
        detail: parts(
          roundsNote,
          range(rates, (v) => fmtInt(v)),
          `${fmtInt(p.requests)} requests of ${RECORDS_PER_BATCH} records, ${PRODUCE_WINDOW} in flight on 1 connection, ${fmtSize(p.bytes)} in ${fmtMs(p.ms)}`,
          cpuText(p.broker, p.clientCpuSeconds, p.otherCpuSeconds),
          `broker dirtied ${fmtSize(p.diskWriteBytes)} for the disk (${(p.diskWriteBytes / p.bytes).toFixed(1)}x the records)`,
        ),
      });
      const hwms = rounds.map((r) => r.produce.memory.vmHWM);
      const typical = medianBy(rounds, (r) => r.produce.memory.vmHWM).produce.memory;
      const idle = medianBy(rounds, (r) => r.idleMemory.vmRSS).idleMemory;
      rows.push({
        name: `5. Broker peak RSS, produce of ${fmtInt(MESSAGES)} (1.)`,
        result: `${mib(Math.max(...hwms))} VmHWM (max)`,
        target: target('broker VmHWM during the 1M produce (max of rounds)', Math.max(...hwms), TARGET_RSS_PRODUCE, (v) => v <= TARGET_RSS_PRODUCE, `<= ${mib(TARGET_RSS_PRODUCE)}`),
        detail: parts(range(hwms, mib), `median round, right after the produce: ${memText(typical)}`, `idle broker before it: ${memText(idle)}, ${idle.threads} threads`),
      });
      const decoded = rounds.map((r) => r.consume.decode);
      const c = medianBy(decoded, (r) => r.msgsPerSec);
      rows.push({
        name: '2. Catch-up consume, decoding every record',
        result: `${rate(c.msgsPerSec)}, ${c.mbps.toFixed(1)} MB/s`,
        target: target('catch-up consume msgs/s (decoded)', c.msgsPerSec, TARGET_CONSUME, (v) => v >= TARGET_CONSUME, `>= ${fmtInt(TARGET_CONSUME)}/s`),
        detail: parts(
          roundsNote,
          range(decoded.map((r) => r.msgsPerSec), (v) => fmtInt(v)),
          `${fmtInt(c.fetches)} fetches of <= ${fmtSize(FETCH_BYTES)}, one loop per partition (${PARTITIONS} in flight), ${fmtSize(c.bytes)} in ${fmtMs(c.ms)}`,
          cpuText(c.broker, c.clientCpuSeconds, c.otherCpuSeconds),
        ),
      });
      const headers = rounds.map((r) => r.consume.headers);
      const h = medianBy(headers, (r) => r.msgsPerSec);
      rows.push({
        name: '2. Catch-up consume, batch headers only',
        result: `${rate(h.msgsPerSec)}, ${h.mbps.toFixed(1)} MB/s`,
        detail: parts(
          'same fetches, records counted from the batch headers (no decoding): what the broker serves to a cheap client',
          range(headers.map((r) => r.msgsPerSec), (v) => fmtInt(v)),
          cpuText(h.broker, h.clientCpuSeconds, h.otherCpuSeconds),
          'the two passes alternate which reads first',
        ),
      });
    } else {
      rows.push(...missing('produce', '1. Produce', '2. Catch-up consume'));
    }

    if (syncRuns.length > 0) {
      const s = medianBy(syncRuns, (r) => r.produce.msgsPerSec).produce;
      rows.push({
        name: `3. Produce ${fmtInt(MESSAGES)}, acks=1, --log-flush-mode sync`,
        result: `${rate(s.msgsPerSec)}, ${s.mbps.toFixed(1)} MB/s`,
        target: target('sync produce msgs/s', s.msgsPerSec, TARGET_SYNC, (v) => v >= TARGET_SYNC, `>= ${fmtInt(TARGET_SYNC)}/s`),
        detail: parts(
          `median of ${syncRuns.length} round(s), fresh broker each`,
          range(syncRuns.map((r) => r.produce.msgsPerSec), (v) => fmtInt(v)),
          `${fmtMs(s.ms)}, same requests and window as 1.`,
          cpuText(s.broker, s.clientCpuSeconds, s.otherCpuSeconds),
          `dirtied ${fmtSize(s.diskWriteBytes)}`,
          `VmHWM ${mib(s.memory.vmHWM)}`,
        ),
      });
    } else rows.push(...missing('sync', '3. Sync produce'));

    if (latency !== null) {
      const e = latency.endToEnd;
      const ms3 = (v: number) => `${v.toFixed(3)} ms`;
      rows.push({
        name: `4. End-to-end latency at ${fmtInt(E2E_RATE)} msgs/s, p50`,
        result: ms3(e.p50),
        detail: `${fmtInt(e.count)} samples over ${(latency.measuredMs / 1000).toFixed(1)} s (after ${E2E_WARMUP_MS / 1000} s warm-up); p90 ${ms3(e.p90)}, mean ${ms3(e.mean)}, max ${ms3(e.max)}; percentiles from hdr-histogram-js`,
      });
      rows.push({
        name: '4. End-to-end latency, p99',
        result: ms3(e.p99),
        target: target('e2e latency p99 ms', e.p99, TARGET_P99_MS, (v) => v <= TARGET_P99_MS, `<= ${TARGET_P99_MS} ms`),
        detail: `producer: up to ${E2E_MAX_BATCH} records per request every ${E2E_TICK_MS} ms (${fmtInt(latency.produceRequests)} requests, round-robin over ${PARTITIONS} partitions); consumer: one long poll over all ${PARTITIONS} partitions (maxWaitMs ${E2E_MAX_WAIT_MS}, minBytes 1), ${fmtInt(latency.fetches)} fetches, ${fmtInt(latency.emptyFetches)} empty`,
      });
      rows.push({
        name: '4. End-to-end latency, p99.9',
        result: ms3(e.p999),
        target: target('e2e latency p99.9 ms', e.p999, TARGET_P999_MS, (v) => v <= TARGET_P999_MS, `<= ${TARGET_P999_MS} ms`),
        detail: `sent ${fmtInt(latency.sent)}, received ${fmtInt(latency.received)}; ${cpuText(latency.broker, latency.clientCpuSeconds, latency.otherCpuSeconds)} during the measured ${(latency.measuredMs / 1000).toFixed(1)} s`,
      });
      const a = latency.produceAck;
      const g = latency.timerGap;
      rows.push({
        name: '4. Produce ack latency (same run)',
        result: `p50 ${ms3(a.p50)}, p99 ${ms3(a.p99)}`,
        detail: `send to acks=1 answer: p99.9 ${ms3(a.p999)}, max ${ms3(a.max)}; the client's own ${E2E_TICK_MS} ms timer fired after p50 ${ms3(g.p50)}, p99 ${ms3(g.p99)}, max ${ms3(g.max)}`,
      });
      const perSecond = latency.p99PerSecond;
      rows.push({
        name: '4. End-to-end p99 of each 1 s window',
        result: `median ${ms3(median(perSecond))}, worst ${ms3(Math.max(...perSecond))}`,
        detail: `by send time, in order: ${perSecond.map((v) => v.toFixed(1)).join(' / ')} ms`,
      });
    } else rows.push(...missing('latency', '4. End-to-end latency'));

    if (many !== null) {
      rows.push({
        name: `5. Broker RSS, ${fmtInt(many.partitions)} partitions idle`,
        result: `${mib(many.idle.vmRSS)} VmRSS`,
        detail: `${many.topics} topics x ${MANY_TOPIC_PARTITIONS} created in ${fmtMs(many.createMs)}, then ${MANY_IDLE_SECONDS} s idle: ${memText(many.idle)}; before creating: ${memText(many.started)}`,
      });
      rows.push({
        name: `5. Broker peak RSS, ${fmtInt(many.partitions)} partitions, light load`,
        result: `${mib(many.loaded.vmHWM)} VmHWM`,
        target: target('broker VmHWM with 1,000 partitions under light load', many.loaded.vmHWM, TARGET_RSS_MANY, (v) => v <= TARGET_RSS_MANY, `<= ${mib(TARGET_RSS_MANY)}`),
        detail: `${fmtInt(many.load.rate)} msgs/s for ${many.load.seconds} s in batches of ${LIGHT_BATCH}, round-robin over every partition (${fmtInt(many.load.requests)} requests): ${memText(many.loaded)}; ack p50 ${many.load.ack.p50.toFixed(2)} ms, p99 ${many.load.ack.p99.toFixed(2)} ms; ${cpuText(many.load.broker)}; dirtied ${fmtSize(many.diskBytes)}`,
      });
    } else rows.push(...missing('partitions', '5. 1,000 partitions'));

    if (grown !== null) {
      const rssPer = (grown.after.vmRSS - grown.before.vmRSS) / grown.partitions;
      const diskPer = (grown.diskAfter - grown.diskBefore) / grown.partitions;
      rows.push({
        name: `5. Memory per partition past 1 MiB (${grown.partitions} partitions)`,
        result: `+${mib(rssPer)} VmRSS, +${mib(diskPer)} disk each`,
        detail: parts(
          `${grown.partitions} partitions written to ${fmtSize(grown.bytesPerPartition)} each in ${fmtMs(grown.ms)}, then ${GROWTH_SETTLE_MS / 1000} s idle`,
          `VmRSS ${mib(grown.before.vmRSS)} -> ${mib(grown.after.vmRSS)}, ${memText(grown.after)}`,
          `disk allocated ${fmtSize(grown.diskBefore)} -> ${fmtSize(grown.diskAfter)}`,
          `dirtied ${fmtSize(grown.diskWriteBytes)} for ${fmtSize(grown.bytesPerPartition * grown.partitions)} of records`,
          `at this rate 1,000 such partitions would take ~${fmtSize(rssPer * 1000)} of RSS and ~${fmtSize(diskPer * 1000)} of disk (extrapolated, not measured)`,
        ),
      });
    } else rows.push(...missing('growth', '5. Partitions past 1 MiB'));

    const w1 = workerRuns.get(1)!;
    const w2 = workerRuns.get(2)!;
    for (const [workers, runs] of [
      [1, w1],
      [2, w2],
    ] as const) {
      if (runs.length === 0) {
        rows.push(...missing('workers', `6. Produce, --workers ${workers}`));
        continue;
      }
      const r = medianBy(runs, (x) => x.produce.msgsPerSec).produce;
      rows.push({
        name: `6. Produce ${fmtInt(MESSAGES)}, --workers ${workers}`,
        result: `${rate(r.msgsPerSec)}, ${r.mbps.toFixed(1)} MB/s`,
        detail: parts(`median of ${runs.length} (rounds interleaved, fresh broker each)`, range(runs.map((x) => x.produce.msgsPerSec), (v) => fmtInt(v)), cpuText(r.broker, r.clientCpuSeconds, r.otherCpuSeconds)),
      });
    }
    if (w1.length > 0 && w2.length > 0) {
      const m1 = median(w1.map((r) => r.produce.msgsPerSec));
      const m2 = median(w2.map((r) => r.produce.msgsPerSec));
      rows.push({ name: '6. --workers 2 / --workers 1', result: `${(m2 / m1).toFixed(2)}x`, detail: `on ${machine.cores} cores shared with the client and the broker's main thread` });
    }

    if (sustained !== null) {
      const s = sustained.produce;
      const marks = s.milestones.map((ms, i) => (i === 0 ? ms : ms - s.milestones[i - 1]));
      rows.push({
        name: `7. Sustained produce, ${fmtInt(s.messages)} on one broker`,
        result: `${rate(s.msgsPerSec)}, ${s.mbps.toFixed(1)} MB/s`,
        detail: `${fmtSize(s.bytes)} in ${fmtMs(s.ms)}; each successive 1M messages took ${marks.map((m) => fmtMs(m)).join(', ')}; ${cpuText(s.broker, s.clientCpuSeconds, s.otherCpuSeconds)}; dirtied ${fmtSize(s.diskWriteBytes)} (${(s.diskWriteBytes / s.bytes).toFixed(1)}x); ${memText(s.memory)}`,
      });
    } else rows.push(...missing('sustained', '7. Sustained produce'));

    const pct = (f: number | null) => (f === null ? 'n/a' : `${(f * 100).toFixed(0)}%`);
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    console.log(`Rill broker benchmark: binary protocol, one broker process on 127.0.0.1, client in the benchmark process${QUICK ? ' (QUICK run: reduced sizes)' : ''}`);
    console.log(`CPU: ${machine.cpuModel} x ${machine.cores} cores | Node ${machine.node} | ${machine.platform}, kernel ${machine.kernel} | RAM ${machine.memoryGiB} GiB | data: ${machine.tmpdir} on ${machine.tmpdirFilesystem ?? 'unknown fs'}`);
    console.log(`Broker: ${COMPILED ? 'compiled JS (tsc into a temp dir), node dist/cli/main.js start' : 'node --import tsx src/cli/main.ts start'} --port 0 --host 127.0.0.1, fresh data dir per test, default workers (${machine.cores}) unless noted`);
    console.log(`Other load: CPU busy in a 1 s idle sample before/after ${pct(busyBefore)} / ${pct(busyAfter)} | load average before ${load(loadBefore)}, after ${load(loadAfter)}`);
    console.log(`Messages: ${VALUE_BYTES}-byte values, no key, ${RECORDS_PER_BATCH} per batch (${fmtInt(prepared.batches[0].length)} B) for throughput | MB = 10^6 bytes of record sets | total ${fmtMs(totalMs)}`);
    printTable('Results', rows);
    if (warnings.length > 0) {
      console.log('\nWarnings:');
      for (const w of warnings) console.log(`- ${w.split('\n')[0]}`);
    }

    writeJson(resultsPath, {
      benchmark: 'broker',
      date: new Date().toISOString(),
      quick: QUICK,
      compiled: COMPILED,
      machine,
      otherLoad: { cpuBusyBefore: busyBefore, cpuBusyAfter: busyAfter, loadavgBefore: loadBefore, loadavgAfter: loadAfter },
      settings: {
        valueBytes: VALUE_BYTES,
        messages: MESSAGES,
        recordsPerBatch: RECORDS_PER_BATCH,
        batchBytes: prepared.batches[0].length,
        partitions: PARTITIONS,
        produceWindow: PRODUCE_WINDOW,
        connections: 1,
        rounds: ROUNDS,
        syncRounds: SYNC_ROUNDS,
        workerRounds: WORKER_ROUNDS,
        fetchBytes: FETCH_BYTES,
        e2e: { rate: E2E_RATE, maxBatch: E2E_MAX_BATCH, tickMs: E2E_TICK_MS, warmupMs: E2E_WARMUP_MS, seconds: E2E_SECONDS, maxWaitMs: E2E_MAX_WAIT_MS, percentiles: 'hdr-histogram-js, microseconds, 3 significant digits' },
        manyPartitions: { topics: MANY_TOPICS, partitionsPerTopic: MANY_TOPIC_PARTITIONS, idleSeconds: MANY_IDLE_SECONDS, lightRate: LIGHT_RATE, lightBatch: LIGHT_BATCH, lightSeconds: LIGHT_SECONDS },
        sustainedMessages: passes * MESSAGES,
        warmupMessages: WARMUP_MESSAGES,
        growth: { partitions: GROWTH_PARTITIONS, bytesPerPartition: GROWTH_BYTES_PER_PARTITION, settleMs: GROWTH_SETTLE_MS },
        quietDirtyBytes: QUIET_DIRTY_BYTES,
        mbDefinition: 'MB = 1e6 bytes of record sets',
      },
      yardsticks: { firstTouchMBps: firstTouch, loopbackMBps: loopback, encode: { records: prepared.records, ms: prepared.encodeMs }, decodeMsgsPerSec: decoding },
      results: {
        rounds,
        sync: syncRuns,
        latency,
        manyPartitions: many,
        growth: grown,
        workers: { 1: w1, 2: w2 },
        sustained,
      },
      targets,
      warnings,
      totalMs,
    });
    progress(`results written to ${resultsPath}`);
  } finally {
    if (compiled !== null) removeDir(compiled.dir);
    if (profileDir !== null) progress(`CPU profiles of the brokers are in ${profileDir}`);
  }
}

await main();
