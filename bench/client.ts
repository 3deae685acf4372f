// Client benchmark: npm run bench:client [-- --quick] (also the second half of npm run bench).
//
// The Rill client (src/client) against a real broker process (`rill start`, 127.0.0.1, port 0, a
// fresh data directory, default workers, SIGKILLed at the end). Broker and client run compiled
// (src/ built with tsc into a temporary directory, as `npm install` builds it and applications run
// it); --tsx runs both from the TypeScript sources under tsx instead. Each producer and consumer
// is a process of its own (bench/client-child.ts), so its CPU time is its own:
//
//   1. one producer process sends 1,000,000 messages of 100 bytes (distinct random values) to a
//      topic of 8 partitions, acks=1, default batching (batchBytes 16 KiB, lingerMs 5), keyless
//      (sticky partitioning), in send() calls of 1,000 messages with 64 calls outstanding; time
//      from the start signal to the last acknowledgement;
//   2. one consumer process reads the same 1,000,000 messages from the beginning (catch-up),
//      every message decoded and its value touched;
//   3. four producer processes at once, 250,000 messages each to the same kind of topic on a
//      fresh broker; aggregate rate over the time from the start signal to the last one's end;
//   4. the client's CPU time (user + system) per million messages for (1) and (2);
//   5. end-to-end latency through the client at 10,000 messages/s: a producer process (lingerMs
//      0, acks=1) sends what is due every 1 ms, each value starting with its send time on the
//      machine's clock, for 1 s of warm-up and 10 s measured (3 with --quick); a consumer process
//      reads the fresh topic from the start and takes arrival minus send time (percentiles of the
//      measured messages). Once, after the rounds.
// Median of 3 rounds (1 with --quick, which also sends 200,000 messages). On this 2-core machine
// the client processes, the broker's main thread and its workers share the cores: a figure here
// is what the whole pipeline does, and the client's CPU time says what the client itself costs.
// Prints a table to stdout (progress to stderr) and writes bench/results/client.json.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Rill } from '../src/client/index.js';
import { MB, fmtInt, machineInfo, median, parseOptions, passMiss, printTable, progress, removeDir, writeJson } from './bench-util.js';
import { buildCompiled, killBroker, startBroker, type BrokerProcess } from './broker-process.js';

const argv = process.argv.slice(2);
const COMPILED = !argv.includes('--tsx');
const { quick } = parseOptions(argv.filter((a) => a !== '--tsx'));
/** The build broker and clients run (null with --tsx). */
let compiled: { cli: string; dir: string } | null = null;
const MESSAGES = quick ? 200_000 : 1_000_000;
const ROUNDS = quick ? 1 : 3;
const VALUE_BYTES = 100;
const PARTITIONS = 8;
const PARALLEL_PRODUCERS = 4;
const CHILD_TIMEOUT_MS = 120_000;
const TARGET_PRODUCE = 1_200_000;
const TARGET_CONSUME = 2_000_000;
const LATENCY_RATE = 10_000;
const LATENCY_WARMUP_SECONDS = 1;
const LATENCY_SECONDS = quick ? 3 : 10;
const TARGET_P99_MS = 0.9;
const TARGET_P999_MS = 3;

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const childScript = join(benchDir, 'client-child.ts');

interface ChildResult {
  messages: number;
  failed: number;
  ms: number;
  cpuMs: number;
  bytes: number;
}

/** What the latency consumer reports besides the counts: milliseconds. */
interface LatencyResult extends ChildResult {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  samples: number;
}

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  result: Promise<ChildResult>;
}

/** Starts a client child; it connects and says it is ready, then waits for start(). */
function launchChild(args: string[]): Child {
  const env = compiled === null ? process.env : { ...process.env, RILL_BENCH_CLIENT: pathToFileURL(join(compiled.dir, 'dist', 'client', 'index.js')).href };
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<ChildResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`client child ${args.join(' ')} did not finish within ${CHILD_TIMEOUT_MS / 1000} s: ${stderr}`));
    }, CHILD_TIMEOUT_MS);
    lines.on('line', (line) => {
      const message = JSON.parse(line) as { ready?: boolean } & ChildResult;
      if (message.ready === true) onReady();
      else {
        clearTimeout(timer);
        resolve(message);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`client child ${args.join(' ')} exited with code ${code} before reporting: ${stderr}`));
    });
  });
  return { process: child, ready, result };
}

/** Starts every child together once all are connected; resolves with their results and the wall time. */
async function runTogether(children: Child[]): Promise<{ results: ChildResult[]; wallMs: number }> {
  await Promise.all(children.map((c) => c.ready));
  const started = performance.now();
  for (const c of children) c.process.stdin!.write('go\n');
  const results = await Promise.all(children.map((c) => c.result));
  const wallMs = performance.now() - started;
  for (const r of results) if (r.failed > 0) throw new Error(`${r.failed} sends failed`);
  return { results, wallMs };
}

async function brokerWithTopic(): Promise<BrokerProcess> {
  const broker = await startBroker({ compiledCli: compiled?.cli });
  const rill = new Rill({ brokers: [`127.0.0.1:${broker.port}`] });
  const admin = rill.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'bench', numPartitions: PARTITIONS }] });
  await rill.close();
  progress(`broker pid ${broker.pid} on port ${broker.port}, ${String(broker.started.workers)} workers`);
  return broker;
}

interface Round {
  produce: ChildResult & { wallMs: number };
  consume: ChildResult & { wallMs: number };
  parallel: { wallMs: number; messages: number; cpuMs: number };
}

async function round(n: number): Promise<Round> {
  progress(`round ${n}: one producer, ${fmtInt(MESSAGES)} messages`);
  let broker = await brokerWithTopic();
  let produce: Round['produce'];
  let consume: Round['consume'];
  try {
    const p = await runTogether([launchChild(['produce', String(broker.port), 'bench', String(MESSAGES), String(VALUE_BYTES)])]);
    produce = { ...p.results[0], wallMs: p.wallMs };
    progress(`round ${n}: one consumer, catch-up`);
    const c = await runTogether([launchChild(['consume', String(broker.port), 'bench', String(MESSAGES)])]);
    consume = { ...c.results[0], wallMs: c.wallMs };
    if (consume.messages < MESSAGES) throw new Error(`consumer read ${consume.messages} of ${MESSAGES}`);
  } finally {
    await killBroker(broker);
  }
  progress(`round ${n}: ${PARALLEL_PRODUCERS} producers at once`);
  broker = await brokerWithTopic();
  try {
    const each = Math.ceil(MESSAGES / PARALLEL_PRODUCERS);
    const children = Array.from({ length: PARALLEL_PRODUCERS }, () => launchChild(['produce', String(broker.port), 'bench', String(each), String(VALUE_BYTES)]));
    const { results, wallMs } = await runTogether(children);
    const parallel = { wallMs, messages: results.reduce((s, r) => s + r.messages, 0), cpuMs: results.reduce((s, r) => s + r.cpuMs, 0) };
    return { produce, consume, parallel };
  } finally {
    await killBroker(broker);
  }
}

/** Section 5: a latency producer and consumer, each a process, on a fresh broker. */
async function endToEnd(): Promise<{ producer: ChildResult; consumer: LatencyResult }> {
  progress(`end-to-end latency: ${fmtInt(LATENCY_RATE)} msgs/s for ${LATENCY_WARMUP_SECONDS} s of warm-up and ${LATENCY_SECONDS} s measured`);
  const broker = await brokerWithTopic();
  try {
    const total = LATENCY_RATE * (LATENCY_WARMUP_SECONDS + LATENCY_SECONDS);
    const consumer = launchChild(['latency-consume', String(broker.port), 'bench', String(total), String(LATENCY_RATE * LATENCY_WARMUP_SECONDS)]);
    const producer = launchChild(['latency-produce', String(broker.port), 'bench', String(LATENCY_RATE), String(LATENCY_WARMUP_SECONDS + LATENCY_SECONDS)]);
    const { results } = await runTogether([consumer, producer]);
    const latency = results[0] as LatencyResult;
    if (latency.messages < total) throw new Error(`the latency consumer read ${latency.messages} of ${total}`);
    return { producer: results[1], consumer: latency };
  } finally {
    await killBroker(broker);
  }
}

const rate = (messages: number, ms: number): number => (messages * 1000) / ms;
const cpuPerMillion = (cpuMs: number, messages: number): number => (cpuMs / 1000) * (1e6 / messages);

async function main(): Promise<void> {
  const machine = machineInfo();
  const rounds: Round[] = [];
  if (COMPILED) {
    progress('compiling src/ into a temporary directory');
    compiled = buildCompiled();
  }
  let latency: Awaited<ReturnType<typeof endToEnd>>;
  try {
    for (let n = 1; n <= ROUNDS; n++) rounds.push(await round(n));
    latency = await endToEnd();
  } finally {
    if (compiled !== null) removeDir(compiled.dir);
  }
  const produceRate = median(rounds.map((r) => rate(r.produce.messages, r.produce.wallMs)));
  const consumeRate = median(rounds.map((r) => rate(r.consume.messages, r.consume.wallMs)));
  const parallelRate = median(rounds.map((r) => rate(r.parallel.messages, r.parallel.wallMs)));
  const produceCpu = median(rounds.map((r) => cpuPerMillion(r.produce.cpuMs, r.produce.messages)));
  const consumeCpu = median(rounds.map((r) => cpuPerMillion(r.consume.cpuMs, r.consume.messages)));
  const parallelCpu = median(rounds.map((r) => cpuPerMillion(r.parallel.cpuMs, r.parallel.messages)));
  const mb = (messagesPerSecond: number) => `${((messagesPerSecond * VALUE_BYTES) / MB).toFixed(1)} MB/s of values`;
  printTable(`Rill client (${ROUNDS === 1 ? '1 round' : `median of ${ROUNDS} rounds`}, ${fmtInt(MESSAGES)} messages of ${VALUE_BYTES} B, topic of ${PARTITIONS} partitions, ${machine.cores} cores shared by client and broker, ${COMPILED ? 'compiled' : 'sources under tsx'})`, [
    { name: '1 producer process, acks=1', result: `${fmtInt(produceRate)} msgs/s`, target: `>= ${fmtInt(TARGET_PRODUCE)} ${passMiss(produceRate >= TARGET_PRODUCE)}`, detail: mb(produceRate) },
    { name: `${PARALLEL_PRODUCERS} producer processes at once`, result: `${fmtInt(parallelRate)} msgs/s`, detail: `aggregate; ${mb(parallelRate)}` },
    { name: '1 consumer process, catch-up', result: `${fmtInt(consumeRate)} msgs/s`, target: `>= ${fmtInt(TARGET_CONSUME)} ${passMiss(consumeRate >= TARGET_CONSUME)}`, detail: 'every message decoded, value touched' },
    { name: 'producer CPU per 1M messages', result: `${produceCpu.toFixed(2)} s`, detail: `user + system of the producer process; ${PARALLEL_PRODUCERS} at once: ${parallelCpu.toFixed(2)} s` },
    { name: 'consumer CPU per 1M messages', result: `${consumeCpu.toFixed(2)} s`, detail: 'user + system of the consumer process' },
    {
      name: `end-to-end latency at ${fmtInt(LATENCY_RATE)} msgs/s, p50`,
      result: `${latency.consumer.p50.toFixed(3)} ms`,
      detail: `producer process (lingerMs 0, acks=1) to consumer process, ${fmtInt(latency.consumer.samples)} messages after ${LATENCY_WARMUP_SECONDS} s of warm-up; p90 ${latency.consumer.p90.toFixed(3)} ms, max ${latency.consumer.max.toFixed(1)} ms`,
    },
    { name: 'end-to-end latency, p99', result: `${latency.consumer.p99.toFixed(3)} ms`, target: `<= ${TARGET_P99_MS} ms ${passMiss(latency.consumer.p99 <= TARGET_P99_MS)}`, detail: `producer CPU ${(latency.producer.cpuMs / 1000).toFixed(2)} s, consumer CPU ${(latency.consumer.cpuMs / 1000).toFixed(2)} s over the run` },
    { name: 'end-to-end latency, p99.9', result: `${latency.consumer.p999.toFixed(3)} ms`, target: `<= ${TARGET_P999_MS} ms ${passMiss(latency.consumer.p999 <= TARGET_P999_MS)}` },
  ]);
  writeJson(join(benchDir, 'results', 'client.json'), {
    machine,
    compiled: COMPILED,
    messages: MESSAGES,
    valueBytes: VALUE_BYTES,
    partitions: PARTITIONS,
    rounds,
    produceMsgsPerSecond: produceRate,
    parallelProducers: PARALLEL_PRODUCERS,
    parallelMsgsPerSecond: parallelRate,
    consumeMsgsPerSecond: consumeRate,
    producerCpuSecondsPerMillion: produceCpu,
    parallelProducerCpuSecondsPerMillion: parallelCpu,
    consumerCpuSecondsPerMillion: consumeCpu,
    latency,
  });
}

await main();
process.exit(0);
