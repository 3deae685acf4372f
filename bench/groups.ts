// Consumer-group benchmark: npm run bench:groups [-- --quick].
//
// The group consumer (src/client/group) against a real broker process (`rill start` under tsx,
// 127.0.0.1, port 0, a fresh data directory, 2 workers, group.initial.rebalance.delay.ms 500,
// SIGKILLed at the end). Each member is a process of its own (bench/groups-child.ts).
//
//   1. throughput: a topic of 8 partitions holds 400,000 messages of 100 bytes (100,000 with
//      --quick); a new group of 1, 2 and 4 members reads them all from the beginning (eachBatch,
//      every value touched, autoCommit every 5 s). Time from the first member's assignment to the
//      last message handled (from the members' own 50 ms progress lines), and the messages/s that
//      makes.
//   2. rebalance on join: two members consume a 12-partition topic; a third starts. Time from its
//      run() call to the moment every member holds its final assignment of the new generation
//      (for cooperative-sticky: after the second round). Heartbeat interval 300 ms, which bounds
//      how soon the others hear of the rebalance. Eager (range) versus cooperative-sticky.
//   3. rebalance on SIGKILL: three members; one is SIGKILLed. Time from the kill to the survivors
//      holding all 12 partitions. Session timeout 3,000 ms: the coordinator evicts the dead
//      member only when it expires, so that is the floor.
//   4. offset commits: one member in this process, commitOffsets awaited one after another
//      (each written to __consumer_offsets before it is answered), with 1 and with 12 partitions
//      per commit.
// Median of 3 rounds for 2 and 3 (1 with --quick). Prints a table, writes bench/results/groups.json.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rill } from '../src/client/index.js';
import { fmtInt, machineInfo, median, parseOptions, printTable, progress, writeJson } from './bench-util.js';
import { killBroker, startBroker, type BrokerProcess } from './broker-process.js';

const { quick } = parseOptions();
const MESSAGES = quick ? 100_000 : 400_000;
const ROUNDS = quick ? 1 : 3;
const VALUE_BYTES = 100;
const SESSION_MS = 3_000;
const HEARTBEAT_MS = 300;
const COMMITS = quick ? 500 : 2_000;

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const childScript = join(benchDir, 'groups-child.ts');

interface Member {
  child: ChildProcess;
  ready: Promise<void>;
  joinAt: number;
  /** Assignment lines: time, generation, partition count. */
  joins: { at: number; generation: number; partitions: number }[];
  handled: number;
  handledAt: number;
}

function launch(options: Record<string, unknown>): Member {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const member: Member = { child, ready: Promise.resolve(), joinAt: 0, joins: [], handled: 0, handledAt: 0 };
  member.ready = new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`member exited (code ${code}, signal ${signal}): ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [kind, a, b, c] = line.split(' ');
      if (kind === 'ready') resolve();
      else if (kind === 'j') member.joinAt = Number(a);
      else if (kind === 'g') member.joins.push({ at: Number(a), generation: Number(b), partitions: Number(c) });
      else if (kind === 'n') {
        member.handledAt = Number(a);
        member.handled = Number(b);
      }
    });
  });
  return member;
}

const go = (m: Member) => m.child.stdin!.write('go\n');

async function until(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function kill(m: Member): Promise<void> {
  if (m.child.exitCode !== null || m.child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => m.child.once('exit', () => resolve()));
  m.child.kill('SIGKILL');
  return exited;
}

/** The members' latest assignments add up to `partitions` in one generation. */
function settled(members: Member[], partitions: number): { at: number; generation: number } | null {
  const last = members.map((m) => m.joins.at(-1));
  if (last.some((j) => j === undefined)) return null;
  const generations = new Set(last.map((j) => j!.generation));
  if (generations.size !== 1 || last.reduce((sum, j) => sum + j!.partitions, 0) !== partitions) return null;
  return { at: Math.max(...last.map((j) => j!.at)), generation: last[0]!.generation };
}

async function produce(rill: Rill, topic: string, count: number): Promise<void> {
  const producer = rill.producer();
  await producer.connect();
  const value = Buffer.alloc(VALUE_BYTES, 0x61);
  const messages = Array.from({ length: 1000 }, () => ({ value }));
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += 1000) {
    sends.push(producer.send({ topic, messages }));
    if (sends.length >= 64) await sends.shift();
  }
  await Promise.all(sends);
  await producer.disconnect();
}

async function throughput(broker: BrokerProcess, rill: Rill, membersCount: number): Promise<{ members: number; ms: number; rate: number }> {
  const members = Array.from({ length: membersCount }, () => launch({ port: broker.port, groupId: `tp-${membersCount}`, topic: 'throughput', assignor: 'range', sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: HEARTBEAT_MS }));
  try {
    await Promise.all(members.map((m) => m.ready));
    members.forEach(go);
    await until(() => members.reduce((sum, m) => sum + m.handled, 0) >= MESSAGES, `${MESSAGES} messages`);
    const start = Math.min(...members.flatMap((m) => m.joins.map((j) => j.at)));
    const end = Math.max(...members.map((m) => m.handledAt));
    const ms = end - start;
    return { members: membersCount, ms, rate: (MESSAGES * 1000) / ms };
  } finally {
    await Promise.all(members.map(kill));
  }
}

async function rebalanceOnJoin(broker: BrokerProcess, assignor: string, round: number): Promise<number> {
  const options = { port: broker.port, groupId: `join-${assignor}-${round}`, topic: 'rebalance', assignor, sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: HEARTBEAT_MS, delayMs: 2 };
  const members = [launch(options), launch(options)];
  try {
    await Promise.all(members.map((m) => m.ready));
    members.forEach(go);
    await until(() => settled(members, 12) !== null, 'two members sharing 12 partitions');
    const third = launch(options);
    members.push(third);
    await third.ready;
    go(third);
    await until(() => third.joinAt > 0 && settled(members, 12) !== null && third.joins.length > 0 && third.joins.at(-1)!.partitions > 0, 'three members sharing 12 partitions');
    return settled(members, 12)!.at - third.joinAt;
  } finally {
    await Promise.all(members.map(kill));
  }
}

async function rebalanceOnKill(broker: BrokerProcess, assignor: string, round: number): Promise<number> {
  const options = { port: broker.port, groupId: `kill-${assignor}-${round}`, topic: 'rebalance', assignor, sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: HEARTBEAT_MS, delayMs: 2 };
  const members = [launch(options), launch(options), launch(options)];
  try {
    await Promise.all(members.map((m) => m.ready));
    members.forEach(go);
    await until(() => settled(members, 12) !== null && members.every((m) => m.joins.at(-1)!.partitions > 0), 'three members sharing 12 partitions');
    const before = settled(members, 12)!.generation;
    const victim = members.shift()!;
    const killedAt = Date.now();
    await kill(victim);
    await until(() => {
      const s = settled(members, 12);
      return s !== null && s.generation > before;
    }, 'the survivors holding every partition');
    return settled(members, 12)!.at - killedAt;
  } finally {
    await Promise.all(members.map(kill));
  }
}

async function commitRate(rill: Rill): Promise<{ single: number; twelve: number }> {
  const consumer = rill.consumer({ groupId: 'commit-rate', sessionTimeoutMs: 10_000 });
  await consumer.connect();
  await consumer.subscribe({ topics: ['rebalance'] });
  await consumer.run({ eachBatch: async () => undefined });
  await until(() => consumer.assignment().length === 12, 'the commit-rate member to own 12 partitions');
  const time = async (partitions: number) => {
    const started = performance.now();
    for (let i = 0; i < COMMITS; i++) await consumer.commitOffsets(Array.from({ length: partitions }, (_, p) => ({ topic: 'rebalance', partition: p, offset: i })));
    return (COMMITS * 1000) / (performance.now() - started);
  };
  const single = await time(1);
  const twelve = await time(12);
  await consumer.disconnect();
  return { single, twelve };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  progress(`starting a broker (2 workers)`);
  const broker = await startBroker({ flags: ['--workers', '2', '--group-initial-rebalance-delay-ms', '500', '--group-min-session-timeout-ms', '1000'] });
  const rill = new Rill({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'bench-groups' });
  try {
    const admin = rill.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'throughput', numPartitions: 8 }, { topic: 'rebalance', numPartitions: 12 }] });
    progress(`producing ${fmtInt(MESSAGES)} messages`);
    await produce(rill, 'throughput', MESSAGES);
    await produce(rill, 'rebalance', 200_000);

    const tp = [];
    for (const n of [1, 2, 4]) {
      progress(`throughput with ${n} member(s)`);
      tp.push(await throughput(broker, rill, n));
    }
    const rebalance: Record<string, { join: number[]; kill: number[] }> = { range: { join: [], kill: [] }, 'cooperative-sticky': { join: [], kill: [] } };
    for (let round = 0; round < ROUNDS; round++) {
      for (const assignor of ['range', 'cooperative-sticky']) {
        progress(`rebalance on join, ${assignor}, round ${round + 1}`);
        rebalance[assignor].join.push(await rebalanceOnJoin(broker, assignor, round));
        progress(`rebalance on SIGKILL, ${assignor}, round ${round + 1}`);
        rebalance[assignor].kill.push(await rebalanceOnKill(broker, assignor, round));
      }
    }
    progress('offset commit rate');
    const commits = await commitRate(rill);

    const rows = [
      ...tp.map((t) => ({ name: `throughput, ${t.members} member${t.members === 1 ? '' : 's'}`, result: `${fmtInt(t.rate)} msgs/s`, detail: `${fmtInt(MESSAGES)} messages of ${VALUE_BYTES} B, 8 partitions, from first assignment to last message: ${fmtInt(t.ms)} ms` })),
      ...['range', 'cooperative-sticky'].flatMap((a) => [
        { name: `rebalance on join, ${a === 'range' ? 'eager (range)' : 'cooperative-sticky'}`, result: `${fmtInt(median(rebalance[a].join))} ms`, detail: `run() of the 3rd member to final assignment; rounds ${rebalance[a].join.map((x) => fmtInt(x)).join(', ')} ms; heartbeat ${HEARTBEAT_MS} ms` },
        { name: `rebalance on SIGKILL, ${a === 'range' ? 'eager (range)' : 'cooperative-sticky'}`, result: `${fmtInt(median(rebalance[a].kill))} ms`, detail: `kill to survivors owning all 12; session timeout ${SESSION_MS} ms; rounds ${rebalance[a].kill.map((x) => fmtInt(x)).join(', ')} ms` },
      ]),
      { name: 'offset commits, 1 partition each', result: `${fmtInt(commits.single)} commits/s`, detail: `${fmtInt(COMMITS)} commitOffsets awaited one after another` },
      { name: 'offset commits, 12 partitions each', result: `${fmtInt(commits.twelve)} commits/s`, detail: `${fmtInt(commits.twelve * 12)} partition offsets/s` },
    ];
    printTable(`Rill consumer groups (${ROUNDS === 1 ? '1 round' : `median of ${ROUNDS} rounds`} for rebalances; ${machine.cores} cores shared by members and broker)`, rows);
    writeJson(join(benchDir, 'results', 'groups.json'), { machine, messages: MESSAGES, valueBytes: VALUE_BYTES, sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: HEARTBEAT_MS, throughput: tp, rebalance, commitsPerSecond: commits });
  } finally {
    await rill.close().catch(() => undefined);
    await killBroker(broker);
  }
}

await main();
process.exit(0);
