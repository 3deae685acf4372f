// Main thread -> worker throughput: the SPSC ring (src/threads) against worker.postMessage.
// npm run bench:ring [-- --quick]  (or BENCH_QUICK=1)
//
// For 128-byte and 16 KiB entries, the main thread sends N entries to one worker, which counts
// them and reads their first byte:
//   ring          tryWrite() copies each entry into a SharedArrayBuffer ring; when it is full the
//                 main thread awaits waitForSpace(); the worker runs RingConsumer.consume(), which
//                 sleeps (Atomics.waitAsync) whenever it has caught up.
//   postMessage   worker.postMessage(bytes): structured clone copies each entry.
//   pm+transfer   each entry copied into a fresh ArrayBuffer that is then transferred: what the
//                 main thread would have to do with socket bytes it does not own.
// The clock runs from the first send until the main thread receives the worker's "done" (sent
// once it has consumed all N entries), so it includes the time the worker takes to catch up,
// not only the time the main thread spends sending. postMessage has no backpressure: its
// messages queue without bound in the worker's port, which the ring exists to avoid; the figures
// compare throughput only. Each figure is the median of ROUNDS runs, interleaved so that drift
// on the machine hits every method alike; MB = 10^6 bytes.
// Prints a table to stdout (progress to stderr) and writes bench/results/ring-vs-postmessage.json.
//
// The same file is the worker: started from a bootstrap that registers tsx, it takes the
// `isMainThread === false` branch and imports nothing but the ring.

import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, type MessagePort } from 'node:worker_threads';
import { RingConsumer, RingProducer, Ring } from '../src/threads/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [128, 16 * KiB] as const;
/** Ring size for the benchmark: room for 64 entries of 16 KiB, 8k of 128 bytes. */
const RING_BYTES = 1 * MiB;
const METHODS = ['ring', 'postMessage', 'pm+transfer'] as const;
/** Above this share of CPU busy in the idle samples, warn that the figures may be low. */
const BUSY_WARNING = 0.15;
type Method = (typeof METHODS)[number];

/** Commands main -> worker on the control port. */
type Control =
  | { op: 'ring'; ring: SharedArrayBuffer; count: number }
  | { op: 'messages'; count: number };
/** Reports worker -> main. */
type Report =
  | { op: 'ready' }
  | { op: 'done'; entries: number; bytes: number; firstBytes: number; batches: number; waits: number };

// --- worker --------------------------------------------------------------------------------------

function runWorker(port: MessagePort): void {
  let expecting: { count: number; entries: number; bytes: number; firstBytes: number } | null = null;
  port.on('message', (message: Control | Uint8Array) => {
    if (message instanceof Uint8Array) {
      // A data message of the postMessage methods.
      const state = expecting!;
      state.entries++;
      state.bytes += message.length;
      state.firstBytes += message[0];
      if (state.entries === state.count) {
        port.postMessage({ op: 'done', entries: state.entries, bytes: state.bytes, firstBytes: state.firstBytes, batches: 0, waits: 0 } satisfies Report);
        expecting = null;
      }
      return;
    }
    if (message.op === 'messages') {
      expecting = { count: message.count, entries: 0, bytes: 0, firstBytes: 0 };
      port.postMessage({ op: 'ready' } satisfies Report);
      return;
    }
    const consumer = new RingConsumer(message.ring);
    const count = message.count;
    let entries = 0;
    let bytes = 0;
    let firstBytes = 0;
    const done = new AbortController();
    port.postMessage({ op: 'ready' } satisfies Report);
    // The port listener keeps this thread alive while consume() sleeps (waitAsync does not).
    consumer
      .consume((entry) => {
        bytes += entry.length;
        firstBytes += entry[0];
        if (++entries === count) done.abort();
      }, done.signal)
      .then(() => {
        const stats = consumer.stats;
        port.postMessage({ op: 'done', entries, bytes, firstBytes, batches: stats.batches, waits: stats.waits } satisfies Report);
      });
  });
}

// --- main ----------------------------------------------------------------------------------------

/** An aligned plain-text table; numbers right-aligned. */
function printTable(title: string, headers: readonly string[], rows: readonly string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = headers.map((_, i) => rows.every((r) => /^[\d,.]+$/.test(r[i])));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

interface Run {
  method: Method;
  entryBytes: number;
  entries: number;
  ms: number;
  entriesPerSec: number;
  mbPerSec: number;
  /** Ring only: consumer batches and sleeps, producer full returns and waits. */
  consumerBatches?: number;
  consumerWaits?: number;
  producerFull?: number;
  producerWaits?: number;
}

function startWorker(): Worker {
  const self = new URL(import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(self)}); });`;
  return new Worker(bootstrap, { eval: true, execArgv: [] });
}

function nextReport(worker: Worker): Promise<Report> {
  return new Promise((resolve, reject) => {
    const onMessage = (report: Report) => done(null, report);
    const onError = (error: Error) => done(error);
    const onExit = (code: number) => done(new Error(`bench worker exited with code ${code}`));
    function done(error: Error | null, report?: Report) {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (error) reject(error);
      else resolve(report!);
    }
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

async function expectDone(worker: Worker, entries: number, entryBytes: number, fill: number): Promise<Extract<Report, { op: 'done' }>> {
  const report = await nextReport(worker);
  if (report.op !== 'done') throw new Error(`expected done, got ${report.op}`);
  if (report.entries !== entries || report.bytes !== entries * entryBytes || report.firstBytes !== entries * fill) {
    throw new Error(`worker consumed ${report.entries} entries / ${report.bytes} bytes, expected ${entries} / ${entries * entryBytes}`);
  }
  return report;
}

async function runOnce(worker: Worker, method: Method, entryBytes: number, entries: number, now: () => number): Promise<Run> {
  const fill = 0x5a;
  const source = new Uint8Array(entryBytes).fill(fill);
  let ms: number;
  const extra: Partial<Run> = {};
  if (method === 'ring') {
    const ring = Ring.create(RING_BYTES);
    worker.postMessage({ op: 'ring', ring, count: entries } satisfies Control);
    if ((await nextReport(worker)).op !== 'ready') throw new Error('worker not ready');
    const producer = new RingProducer(ring);
    const finished = expectDone(worker, entries, entryBytes, fill);
    const start = now();
    for (let sent = 0; sent < entries; ) {
      if (producer.tryWrite(source)) sent++;
      else await producer.waitForSpace(entryBytes);
    }
    const report = await finished;
    ms = now() - start;
    producer.close();
    const stats = producer.stats;
    Object.assign(extra, { consumerBatches: report.batches, consumerWaits: report.waits, producerFull: stats.full, producerWaits: stats.waits });
  } else {
    worker.postMessage({ op: 'messages', count: entries } satisfies Control);
    if ((await nextReport(worker)).op !== 'ready') throw new Error('worker not ready');
    const finished = expectDone(worker, entries, entryBytes, fill);
    const start = now();
    if (method === 'postMessage') {
      for (let i = 0; i < entries; i++) worker.postMessage(source);
    } else {
      for (let i = 0; i < entries; i++) {
        const copy = new Uint8Array(entryBytes);
        copy.set(source);
        worker.postMessage(copy, [copy.buffer]);
      }
    }
    await finished;
    ms = now() - start;
  }
  const bytes = entries * entryBytes;
  return { method, entryBytes, entries, ms, entriesPerSec: entries / (ms / 1000), mbPerSec: bytes / 1e6 / (ms / 1000), ...extra };
}

async function main(): Promise<void> {
  const util = await import('./bench-util.js');
  const { QUICK, ROUNDS, counts } = (() => {
    const quick = util.parseOptions().quick;
    // Sized for runs of roughly 0.3-1 s each on the 2-core bench machine.
    const counts: Record<Method, Record<number, number>> = {
      ring: { 128: quick ? 500_000 : 4_000_000, [16 * KiB]: quick ? 20_000 : 200_000 },
      postMessage: { 128: quick ? 50_000 : 400_000, [16 * KiB]: quick ? 10_000 : 60_000 },
      'pm+transfer': { 128: quick ? 50_000 : 400_000, [16 * KiB]: quick ? 10_000 : 60_000 },
    };
    return { QUICK: quick, ROUNDS: quick ? 1 : 5, counts };
  })();
  const machine = util.machineInfo();
  const busyBefore = util.cpuBusyFraction(1000);
  const worker = startWorker();
  try {
    util.progress(`${QUICK ? 'quick' : 'full'} run: ${ROUNDS} round(s), ring of ${util.fmtSize(RING_BYTES)}`);
    // Warm-up: JIT both sides for every method and size, not measured.
    for (const size of SIZES) for (const method of METHODS) await runOnce(worker, method, size, Math.ceil(counts[method][size] / 10), util.now);
    const runs = new Map<string, Run[]>();
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...METHODS.slice(round % METHODS.length), ...METHODS.slice(0, round % METHODS.length)];
      for (const size of SIZES) {
        for (const method of order) {
          const run = await runOnce(worker, method, size, counts[method][size], util.now);
          util.progress(`round ${round + 1}: ${method} ${util.fmtSize(size)}: ${util.fmtInt(run.entriesPerSec)} entries/s, ${run.mbPerSec.toFixed(0)} MB/s`);
          const key = `${method}/${size}`;
          runs.set(key, [...(runs.get(key) ?? []), run]);
        }
      }
    }
    const busyAfter = util.cpuBusyFraction(1000);
    const medianRun = (key: string): Run => {
      const list = runs.get(key)!;
      const ms = util.median(list.map((r) => r.ms));
      return list.reduce((best, r) => (Math.abs(r.ms - ms) < Math.abs(best.ms - ms) ? r : best));
    };
    /** The fastest round: what the machine does when nothing else gets in the way. */
    const bestRun = (key: string): Run => runs.get(key)!.reduce((best, r) => (r.ms < best.ms ? r : best));

    console.log(`Rill ring benchmark: main thread -> one worker${QUICK ? ' (QUICK run: reduced sizes)' : ''}`);
    console.log(`CPU: ${machine.cpuModel} x ${machine.cores} cores | Node ${machine.node} | ${machine.platform} | ring ${util.fmtSize(RING_BYTES)}`);
    const rows: string[][] = [];
    for (const size of SIZES) {
      const ring = medianRun(`ring/${size}`);
      for (const method of METHODS) {
        const run = medianRun(`${method}/${size}`);
        const detail =
          method === 'ring'
            ? `${util.fmtInt(run.entries)} entries in ${util.fmtMs(run.ms)}; ${util.fmtInt(run.entries / run.consumerBatches!)} entries/batch, ` +
              `consumer slept ${util.fmtInt(run.consumerWaits!)}x, producer found it full ${util.fmtInt(run.producerFull!)}x`
            : `${util.fmtInt(run.entries)} entries in ${util.fmtMs(run.ms)}; the ring moves ${(ring.entriesPerSec / run.entriesPerSec).toFixed(1)}x as many`;
        const best = bestRun(`${method}/${size}`);
        rows.push([
          method,
          size >= KiB ? `${size / KiB} KiB` : `${size} B`,
          util.fmtInt(run.entriesPerSec),
          util.fmtInt(run.mbPerSec),
          util.fmtInt(best.entriesPerSec),
          util.fmtInt(best.mbPerSec),
          detail,
        ]);
      }
    }
    printTable(
      `Results over ${ROUNDS} round(s): median and best round; the clock stops when the worker has consumed everything`,
      ['Method', 'Entry', 'Entries/s', 'MB/s', 'Best entries/s', 'Best MB/s', 'Details (median round)'],
      rows,
    );
    const pct = (busy: number | null) => (busy === null ? 'n/a' : `${(busy * 100).toFixed(0)}%`);
    console.log(`\nOther load: CPU ${pct(busyBefore)} busy in the second before the run, ${pct(busyAfter)} after; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const warnings: string[] = [];
    for (const [when, busy] of [['before', busyBefore], ['after', busyAfter]] as const) {
      if (busy !== null && busy > BUSY_WARNING) warnings.push(`CPU ${pct(busy)} busy ${when} the run: other processes competed for the ${machine.cores} cores`);
    }
    for (const w of warnings) console.log(`Warning: ${w}`);
    const resultsPath = fileURLToPath(new URL('./results/ring-vs-postmessage.json', import.meta.url));
    util.writeJson(resultsPath, {
      benchmark: 'ring-vs-postmessage',
      date: new Date().toISOString(),
      quick: QUICK,
      machine,
      otherLoad: { cpuBusyBefore: busyBefore, cpuBusyAfter: busyAfter, loadavg: os.loadavg() },
      settings: { ringBytes: RING_BYTES, sizes: SIZES, rounds: ROUNDS, counts, mbDefinition: 'MB = 1e6 bytes' },
      results: Object.fromEntries([...runs.keys()].map((key) => [key, { median: medianRun(key), best: bestRun(key), runs: runs.get(key) }])),
      warnings,
    });
    console.log(`\nJSON: ${resultsPath}`);
  } finally {
    await worker.terminate();
  }
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  runWorker(parentPort!);
}
