// One producer or one consumer of the Rill client in a process of its own, for bench/client.ts:
// a process per client makes its CPU time its own (process.cpuUsage) and lets several producers
// run in parallel as separate applications would.
//
//   [RILL_BENCH_CLIENT=file:///.../dist/client/index.js] node --import tsx bench/client-child.ts produce PORT TOPIC COUNT VALUE_BYTES [BATCH_BYTES LINGER_MS]
//   node --import tsx bench/client-child.ts consume PORT TOPIC COUNT
//   node --import tsx bench/client-child.ts latency-produce PORT TOPIC RATE SECONDS
//   node --import tsx bench/client-child.ts latency-consume PORT TOPIC COUNT SKIP
//
// The latency pair: the producer sends RATE messages/s for SECONDS (every 1 ms, what is due, in
// one send(); lingerMs 0, acks=1), each value starting with its send time on the machine's clock
// (performance.timeOrigin + performance.now(), float64 ms: the same clock in both processes); the
// consumer reads from the start of the fresh topic and reports the percentiles of arrival minus
// send time over the messages after the first SKIP (the warm-up).
//
// The child connects, prints {"ready":true}, waits for a line on stdin (the start signal, so that
// several children start together), does its work and prints one JSON line with what it measured:
// messages, wall ms from the first send (fetch) to the last acknowledgement (message), and CPU ms.

import { createInterface } from 'node:readline';
import { randomFillSync } from 'node:crypto';
import type * as SourceClient from '../src/client/index.js';

// The client as an application runs it: the compiled build bench/client.ts passes in
// RILL_BENCH_CLIENT (a file URL of dist/client/index.js), else these sources under tsx (--tsx).
const clientModule = process.env.RILL_BENCH_CLIENT ?? new URL('../src/client/index.js', import.meta.url).href;
const { Rill } = (await import(clientModule)) as typeof SourceClient;

const [role, portText, topic, countText, ...rest] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const ROLES = ['produce', 'consume', 'latency-produce', 'latency-consume'];
if (!ROLES.includes(role) || !(port > 0) || topic === undefined || !(count > 0)) {
  process.stderr.write('usage: client-child.ts produce|consume|latency-produce|latency-consume PORT TOPIC COUNT|RATE [...]\n');
  process.exit(2);
}

const rill = new Rill({ brokers: [`127.0.0.1:${port}`], clientId: `bench-${role}-${process.pid}` });
const startSignal = new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

/** Messages per send() call: an application handing the client one request's worth at a time. */
const MESSAGES_PER_SEND = 1000;
/** send() calls outstanding at most; the producer's bufferMemory bounds what they hold. */
const SENDS_IN_FLIGHT = 64;

/** send() calls not yet settled, and how many of them failed. */
class Outstanding {
  readonly sends = new Set<Promise<unknown>>();
  failed = 0;

  add(send: Promise<unknown>): void {
    this.sends.add(send);
    send.then(
      () => this.sends.delete(send),
      () => {
        this.failed++;
        this.sends.delete(send);
      },
    );
  }

  /** Resolves once every send so far has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.sends);
  }
}

async function produce(): Promise<Record<string, number>> {
  const valueBytes = Number(rest[0] ?? 100);
  const batchBytes = rest[1] === undefined ? undefined : Number(rest[1]);
  const lingerMs = rest[2] === undefined ? undefined : Number(rest[2]);
  const producer = rill.producer({ batchBytes, lingerMs });
  await producer.connect();
  // Distinct values, made before the clock starts: the client copies each into its batch.
  const values = Array.from({ length: MESSAGES_PER_SEND }, () => randomFillSync(Buffer.alloc(valueBytes)));
  const messages = values.map((value) => ({ value }));
  console.log(JSON.stringify({ ready: true }));
  await startSignal;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const outstanding = new Outstanding();
  for (let sent = 0; sent < count; sent += MESSAGES_PER_SEND) {
    const n = Math.min(MESSAGES_PER_SEND, count - sent);
    outstanding.add(producer.send({ topic, messages: n === MESSAGES_PER_SEND ? messages : messages.slice(0, n) }));
    if (outstanding.sends.size >= SENDS_IN_FLIGHT) await Promise.race(outstanding.sends);
  }
  await outstanding.settled();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await producer.disconnect();
  return { messages: count, failed: outstanding.failed, ms, cpuMs: (used.user + used.system) / 1000, bytes: count * valueBytes };
}

async function consume(): Promise<Record<string, number>> {
  const consumer = rill.consumer({ fromBeginning: true });
  await consumer.connect();
  console.log(JSON.stringify({ ready: true }));
  await startSignal;
  const cpu = process.cpuUsage();
  const started = performance.now();
  consumer.assign([{ topic, offset: 'earliest' }]);
  let messages = 0;
  let bytes = 0;
  for await (const batch of consumer) {
    // Every message is decoded and its value touched, as an application reading them would.
    for (const message of batch.messages) bytes += message.value === null ? 0 : message.value.length;
    messages += batch.messages.length;
    if (messages >= count) break;
  }
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await consumer.disconnect();
  return { messages, failed: 0, ms, cpuMs: (used.user + used.system) / 1000, bytes };
}

/** Wall-clock milliseconds with sub-microsecond resolution, comparable across processes. */
const clock = (): number => performance.timeOrigin + performance.now();

async function latencyProduce(): Promise<Record<string, number>> {
  const rate = count;
  const seconds = Number(rest[0] ?? 10);
  const total = Math.round(rate * seconds);
  const producer = rill.producer({ lingerMs: 0 });
  await producer.connect();
  const value = Buffer.alloc(100);
  console.log(JSON.stringify({ ready: true }));
  await startSignal;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const outstanding = new Outstanding();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000)) - sent;
      if (due > 0) {
        value.writeDoubleBE(clock(), 0); // the client copies the value into its batch
        outstanding.add(producer.send({ topic, messages: Array.from({ length: due }, () => ({ value })) }));
        sent += due;
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await outstanding.settled();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await producer.disconnect();
  return { messages: sent, failed: outstanding.failed, ms, cpuMs: (used.user + used.system) / 1000, bytes: sent * value.length };
}

async function latencyConsume(): Promise<Record<string, number>> {
  const skip = Number(rest[0] ?? 0);
  const consumer = rill.consumer({ fromBeginning: true });
  await consumer.connect();
  consumer.assign([{ topic, offset: 'earliest' }]);
  const latencies = new Float64Array(Math.max(0, count - skip));
  let messages = 0;
  let cpu = process.cpuUsage();
  let started = performance.now();
  void startSignal.then(() => {
    cpu = process.cpuUsage();
    started = performance.now();
  });
  console.log(JSON.stringify({ ready: true }));
  for await (const batch of consumer) {
    const arrived = clock();
    for (const message of batch.messages) {
      if (messages >= skip && messages < count) latencies[messages - skip] = arrived - message.value!.readDoubleBE(0);
      messages++;
    }
    if (messages >= count) break;
  }
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await consumer.disconnect();
  latencies.sort();
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { messages, failed: 0, ms, cpuMs: (used.user + used.system) / 1000, bytes: 0, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: latencies[latencies.length - 1], samples: latencies.length };
}

const result =
  role === 'produce' ? await produce() : role === 'consume' ? await consume() : role === 'latency-produce' ? await latencyProduce() : await latencyConsume();
console.log(JSON.stringify(result));
await rill.close();
process.exit(0);
