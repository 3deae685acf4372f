// One producer or one consumer of the Rill client in a process of its own, for bench/client.ts:
// a process per client makes its CPU time its own (process.cpuUsage) and lets several producers
// run in parallel as separate applications would.
//
//   [RILL_BENCH_CLIENT=file:///.../dist/client/index.js] node --import tsx bench/client-child.ts produce PORT TOPIC COUNT VALUE_BYTES [BATCH_BYTES LINGER_MS]
//   node --import tsx bench/client-child.ts consume PORT TOPIC COUNT
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
if ((role !== 'produce' && role !== 'consume') || !(port > 0) || topic === undefined || !(count > 0)) {
  process.stderr.write('usage: client-child.ts produce|consume PORT TOPIC COUNT [VALUE_BYTES BATCH_BYTES LINGER_MS]\n');
  process.exit(2);
}

const rill = new Rill({ brokers: [`127.0.0.1:${port}`], clientId: `bench-${role}-${process.pid}` });
const startSignal = new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

/** Messages per send() call: an application handing the client one request's worth at a time. */
const MESSAGES_PER_SEND = 1000;
/** send() calls outstanding at most; the producer's bufferMemory bounds what they hold. */
const SENDS_IN_FLIGHT = 64;

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
  const outstanding = new Set<Promise<unknown>>();
  let failed = 0;
  for (let sent = 0; sent < count; sent += MESSAGES_PER_SEND) {
    const n = Math.min(MESSAGES_PER_SEND, count - sent);
    const send = producer.send({ topic, messages: n === MESSAGES_PER_SEND ? messages : messages.slice(0, n) });
    outstanding.add(send);
    send.then(
      () => outstanding.delete(send),
      () => {
        failed++;
        outstanding.delete(send);
      },
    );
    if (outstanding.size >= SENDS_IN_FLIGHT) await Promise.race(outstanding);
  }
  await Promise.allSettled(outstanding);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await producer.disconnect();
  return { messages: count, failed, ms, cpuMs: (used.user + used.system) / 1000, bytes: count * valueBytes };
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

const result = role === 'produce' ? await produce() : await consume();
console.log(JSON.stringify(result));
await rill.close();
process.exit(0);
