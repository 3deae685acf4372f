// HTTP API benchmark: npm run bench:http [-- --quick] [-- --tsx]
//
// Starts a real broker process (compiled with tsc into a temporary directory and run as `npm start`
// runs it; --tsx runs the TypeScript sources under tsx instead, as the integration tests do;
// 127.0.0.1, ephemeral ports, a fresh data directory, 2 workers, async flush) and runs autocannon's programmatic API against it,
// 10 s per test (3 s with --quick), 32 keep-alive connections, no pipelining:
//   0. the ceiling: a bare node:http server in its own process that answers every request 200
//      with no work, sent the same request as test 1 (a POST with a 1-message JSON body);
//   1. single-message produce: POST /v1/topics/bench/messages, one 100-byte value, acks=1,
//      keyless (each request picks the next of 8 partitions);
//   2. 100-message batch produce: the same with 100 values of 100 bytes per request;
//   3. fetch: GET .../partitions/{p}/messages?offset=o&maxMessages=100 over the messages that
//      tests 1 and 2 stored, p and o random per request.
// After each produce test, "persisted" checks that the partitions' log end offsets add up to at
// least every message a 2xx answer acknowledged (requests still in flight when autocannon stops
// may be stored without being counted): every acknowledged message is in the log.
// Prints a table and writes bench/results/http.json. Targets: single produce >= 60% of the bare
// server's req/s; batch produce >= 500,000 msgs/s; zero errors and non-2xx everywhere.

import autocannon, { type Result } from 'autocannon';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fmtInt, machineInfo, removeDir, parseOptions, passMiss, printTable, progress, writeJson, type TableRow } from './bench-util.js';
import { buildCompiled, killBroker, startBroker } from './broker-process.js';

const argv = process.argv.slice(2);
const COMPILED = !argv.includes('--tsx');
const options = parseOptions(argv.filter((a) => a !== '--tsx'));
const DURATION_S = options.quick ? 3 : 10;
const CONNECTIONS = 32;
const PARTITIONS = 8;
const VALUE = 'v'.repeat(100);
const single = JSON.stringify({ messages: [{ value: VALUE }] });
const batch = JSON.stringify({ messages: Array.from({ length: 100 }, () => ({ value: VALUE })) });
const JSON_HEADERS = { 'content-type': 'application/json' };

interface Figures {
  name: string;
  requestsPerSecond: number;
  messagesPerSecond: number | null;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

function figures(name: string, result: Result, messagesPerRequest: number | null): Figures {
  const ok = result['2xx'];
  return {
    name,
    requestsPerSecond: ok / result.duration,
    messagesPerSecond: messagesPerRequest === null ? null : (ok * messagesPerRequest) / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

function run(opts: autocannon.Options): Promise<Result> {
  return autocannon({ connections: CONNECTIONS, duration: DURATION_S, ...opts });
}

/** The ceiling: node:http answering 200 without work, in its own process as the broker is. */
async function bareServer(): Promise<{ port: number; kill: () => void }> {
  const source = `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-length': 2 }); s.end('ok'); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(Number(line)));
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return { port, kill: () => process.kill(child.pid!, 'SIGKILL') };
}

async function json(url: string, init?: RequestInit): Promise<any> {
  const response = await fetch(url, init);
  const body = await response.json();
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function storedMessages(base: string): Promise<number> {
  const topic = await json(`${base}/v1/topics/bench`);
  return topic.partitions.reduce((n: number, p: { logEndOffset: number }) => n + p.logEndOffset, 0);
}

async function main(): Promise<void> {
  const rows: TableRow[] = [];
  const results: Figures[] = [];

  progress(`bare node:http server, ${DURATION_S} s`);
  const bare = await bareServer();
  let bareResult: Figures;
  try {
    bareResult = figures('bare node:http (ceiling)', await run({ url: `http://127.0.0.1:${bare.port}/`, method: 'POST', headers: JSON_HEADERS, body: single }), null);
  } finally {
    bare.kill();
  }
  results.push(bareResult);

  const compiled = COMPILED ? buildCompiled() : null;
  const broker = await startBroker({ flags: ['--workers', '2'], compiledCli: compiled?.cli });
  const base = `http://127.0.0.1:${broker.httpPort}`;
  const persisted: Record<string, boolean> = {};
  try {
    await json(`${base}/v1/topics`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ name: 'bench', partitions: PARTITIONS }) });

    progress(`single-message produce, ${DURATION_S} s`);
    const one = await run({ url: `${base}/v1/topics/bench/messages`, method: 'POST', headers: JSON_HEADERS, body: single });
    const afterOne = await storedMessages(base);
    persisted.single = afterOne >= one['2xx'];
    results.push(figures('produce, 1 message/request', one, 1));

    progress(`100-message batch produce, ${DURATION_S} s`);
    const hundred = await run({ url: `${base}/v1/topics/bench/messages`, method: 'POST', headers: JSON_HEADERS, body: batch });
    const afterHundred = await storedMessages(base);
    persisted.batch = afterHundred - afterOne >= hundred['2xx'] * 100;
    results.push(figures('produce, 100 messages/request', hundred, 100));

    progress(`fetch, ${DURATION_S} s`);
    const ends = (await json(`${base}/v1/topics/bench`)).partitions.map((p: { logEndOffset: number }) => p.logEndOffset) as number[];
    const fetched = await run({
      url: base,
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => {
            const partition = Math.floor(Math.random() * PARTITIONS);
            const offset = Math.floor(Math.random() * Math.max(1, ends[partition] - 100));
            return { ...request, path: `/v1/topics/bench/partitions/${partition}/messages?offset=${offset}&maxMessages=100` };
          },
        },
      ],
    });
    results.push(figures('fetch, 100 messages/request', fetched, 100));
  } finally {
    await killBroker(broker);
    if (compiled !== null) removeDir(compiled.dir);
  }

  const fmtMs = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
  const [ceiling, one, hundred, fetched] = results;
  const share = one.requestsPerSecond / ceiling.requestsPerSecond;
  for (const r of results) {
    const clean = r.errors === 0 && r.non2xx === 0 && r.timeouts === 0;
    let target = clean ? 'errors 0 ✔' : 'errors 0 ✘';
    if (r === one) target = `>= 60% of ceiling: ${(share * 100).toFixed(0)}% ${passMiss(share >= 0.6)}; persisted ${passMiss(persisted.single)}; ${target}`;
    if (r === hundred) target = `>= 500,000 msgs/s ${passMiss((r.messagesPerSecond ?? 0) >= 500_000)}; persisted ${passMiss(persisted.batch)}; ${target}`;
    rows.push({
      name: r.name,
      result: `${fmtInt(r.requestsPerSecond)} req/s${r.messagesPerSecond === null ? '' : `, ${fmtInt(r.messagesPerSecond)} msgs/s`}`,
      detail: `p50 ${fmtMs(r.p50Ms)}, p99 ${fmtMs(r.p99Ms)}, ${fmtInt(r.requests)} requests, errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}`,
      target,
    });
  }
  printTable(`HTTP API, autocannon ${CONNECTIONS} connections x ${DURATION_S} s, broker (${COMPILED ? 'compiled' : 'tsx'}) with 2 workers`, rows);
  const out = fileURLToPath(new URL('./results/http.json', import.meta.url));
  writeJson(out, { date: new Date().toISOString(), machine: machineInfo(), durationSeconds: DURATION_S, connections: CONNECTIONS, results, singleShareOfCeiling: share, persisted, fetchedMessagesPerSecond: fetched.messagesPerSecond });
  progress(`wrote ${out}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
