// One consumer-group member in a process of its own, for bench/groups.ts (a process per member so
// that members share nothing but the broker, and one can be SIGKILLed).
//
//   node --import tsx bench/groups-child.ts '{"port":..,"groupId":..,"topic":..,"assignor":..}'
//
// Connects, prints "ready", waits for "go" on stdin, then subscribes and runs (eachBatch, every
// message decoded and its value touched). Lines on stdout, each with Date.now() (one clock, one
// machine):
//   j <ms>                          run() called (the join starts)
//   g <ms> <generation> <partitions> the member's assignment after a rebalance
//   n <ms> <messages>               messages handled so far (every 50 ms while it changes)

import { createInterface } from 'node:readline';
import { Rill, cooperativeStickyAssignor, rangeAssignor, type Assignor } from '../src/client/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as { port: number; groupId: string; topic: string; assignor: 'range' | 'cooperative-sticky'; sessionTimeoutMs: number; heartbeatIntervalMs: number; delayMs?: number };
const assignors: Record<string, Assignor> = { range: rangeAssignor, 'cooperative-sticky': cooperativeStickyAssignor };
const out = (line: string) => void process.stdout.write(line + '\n');

const rill = new Rill({ brokers: [`127.0.0.1:${options.port}`], clientId: `bench-member-${process.pid}` });
const consumer = rill.consumer({
  groupId: options.groupId,
  assignors: [assignors[options.assignor]],
  sessionTimeoutMs: options.sessionTimeoutMs,
  heartbeatIntervalMs: options.heartbeatIntervalMs,
  autoOffsetReset: 'earliest',
});
consumer.on('group.join', () => out(`g ${Date.now()} ${consumer.memberInfo().generationId} ${consumer.assignment().length}`));

let handled = 0;
let checksum = 0;
let reported = -1;
await consumer.connect();
out('ready');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
out(`j ${Date.now()}`);
await consumer.subscribe({ topics: [options.topic] });
await consumer.run({
  eachBatch: async ({ batch }) => {
    for (const message of batch.messages) checksum += message.value === null ? 0 : message.value[0];
    handled += batch.messages.length;
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
  },
});
setInterval(() => {
  if (handled === reported) return;
  reported = handled;
  out(`n ${Date.now()} ${handled}`);
}, 50);
// checksum keeps the value reads from being optimised away.
process.once('SIGTERM', () => {
  out(`checksum ${checksum}`);
  void consumer.disconnect().then(() => process.exit(0));
});
