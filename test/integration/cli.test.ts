// The `rill` CLI against a real broker process: each command runs as a child process
// (`node dist/cli/main.js ...`, the compiled command), as a user would run it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirs } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { repoRoot, rillCli, spawnNode, waitForExit } from './fixtures/child.js';
import { killBroker, startBroker, type BrokerProcess } from './fixtures/broker-process.js';

const tempDir = tempDirs();
/** A run that has not ended by then is killed and fails its test: no CLI may hang. */
const RUN_LIMIT_MS = 45_000;

let broker: BrokerProcess;
let brokers: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  broker = await startBroker(tempDir(), ['--workers', '2']);
  brokers = `127.0.0.1:${broker.port}`;
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await killBroker(broker);
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

/** Starts `rill <args>` against the test broker (unless args name --brokers themselves). */
function startRill(args: string[], env: Record<string, string> = {}): { child: ChildProcess; stdout: () => Buffer; stderr: () => string; done: Promise<Run> } {
  const started = Date.now();
  const child = spawnNode(rillCli, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, RILL_BROKERS: brokers, ...env } });
  children.add(child);
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr!.on('data', (chunk) => (err += chunk));
  child.stdin!.on('error', () => undefined);
  const limit = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
  const done = waitForExit(child).then(({ code, signal }) => {
    clearTimeout(limit);
    children.delete(child);
    return { code, signal, stdout: Buffer.concat(out), stderr: err, ms: Date.now() - started };
  });
  return { child, stdout: () => Buffer.concat(out), stderr: () => err, done };
}

function rill(args: string[], input?: string | Buffer): Promise<Run> {
  const run = startRill(args);
  run.child.stdin!.end(input ?? '');
  return run.done;
}

/** Runs and expects exit 0; returns stdout as text. */
async function ok(args: string[], input?: string | Buffer): Promise<string> {
  const run = await rill(args, input);
  expect(run.code, `rill ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run.stdout.toString();
}

function expectOneLineError(run: Run, pattern: RegExp): void {
  expect(run.code, run.stderr).not.toBe(0);
  expect(run.signal).toBeNull();
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^rill: error: /);
  expect(lines[0]).toMatch(pattern);
}

const lines = (text: string): string[] => text.split('\n').slice(0, -1);

/** 10,000 distinct lines of assorted lengths and characters, empty ones included. */
function sampleLines(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    if (i % 997 === 0) return '';
    const body = i % 3 === 0 ? `{"n":${i},"name":"zürich €"}` : `line ${i} ${'x'.repeat(i % 200)}`;
    return i % 5 === 0 ? `${body}\t tab and trailing space ` : body;
  });
}

describe('rill CLI against a broker', () => {
  it('produces 10,000 lines from stdin and reads them back exactly, in order, from one partition', async () => {
    await ok(['topics', 'create', 'lines-1', '--partitions', '1']);
    const input = sampleLines(10_000);
    const produced = await rill(['produce', 'lines-1'], `${input.join('\n')}\n`);
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stderr).toBe('');
    const consumed = await rill(['consume', 'lines-1', '--from-beginning', '--max', '10000']);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(lines(consumed.stdout.toString())).toEqual(input);
    expect(consumed.stderr).toBe('Processed a total of 10000 messages\n');
  });

  it('spreads 10,000 lines over 3 partitions and reads back the same multiset', async () => {
    await ok(['topics', 'create', 'lines-3', '--partitions', '3']);
    const input = sampleLines(10_000).map((line, i) => `${i}:${line}`);
    await ok(['produce', 'lines-3'], input.join('\n'));
    const output = lines(await ok(['consume', 'lines-3', '--from-beginning', '--max', '10000']));
    expect(output).toHaveLength(10_000);
    expect([...output].sort()).toEqual([...input].sort());
    const described = JSON.parse(await ok(['topics', 'describe', 'lines-3', '--json']));
    const ends: number[] = described[0].partitions.map((p: { logEndOffset: number }) => p.logEndOffset);
    expect(ends.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(ends.filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  it('creates, lists, describes and deletes topics', async () => {
    expect(await ok(['topics', 'create', 'admin-a', '--partitions', '3', '--config', 'retention.ms=3600000', '--config', 'segment.bytes=1048576'])).toBe('Created topic admin-a.\n');
    expectOneLineError(await rill(['topics', 'create', 'admin-a']), /TOPIC_ALREADY_EXISTS/);
    expect(await ok(['topics', 'create', 'admin-a', '--if-not-exists'])).toBe('Topic admin-a already exists.\n');
    await ok(['topics', 'create', 'admin-b']);
    expect(lines(await ok(['topics', 'list']))).toEqual(expect.arrayContaining(['admin-a', 'admin-b']));
    await ok(['produce', 'admin-a', '--partition', '1'], 'one\ntwo\n');

    const table = await ok(['topics', 'describe', 'admin-a']);
    expect(table).toMatch(/^Topic: admin-a    TopicId: [0-9a-f-]{36}$/m);
    expect(table).toMatch(/Partitions: 3 +Messages: 2/);
    expect(table).toMatch(/retention\.ms +3600000/);
    expect(table).toMatch(/PARTITION +LEADER +LOG-START +LOG-END +HIGH-WATERMARK +SIZE/);
    expect(table).toMatch(/\n {2}1 +\S+ +0 +2 +2 +\d+(\.\d)? [KMG]?i?B\n/);

    const [json] = JSON.parse(await ok(['topics', 'describe', 'admin-a', '--json']));
    expect(json.name).toBe('admin-a');
    expect(json.configs['retention.ms']).toBe('3600000');
    expect(json.partitions.map((p: { partition: number; logEndOffset: number }) => [p.partition, p.logEndOffset])).toEqual([
      [0, 0],
      [1, 2],
      [2, 0],
    ]);
    expect(json.partitions[1].sizeBytes).toBeGreaterThan(0);

    expect(await ok(['topics', 'delete', 'admin-a', 'admin-b'])).toBe('Deleted topic admin-a.\nDeleted topic admin-b.\n');
    expect(lines(await ok(['topics', 'list']))).not.toContain('admin-a');
    expectOneLineError(await rill(['topics', 'describe', 'admin-a']), /UNKNOWN_TOPIC_OR_PARTITION/);
    expectOneLineError(await rill(['topics', 'delete', 'admin-a']), /UNKNOWN_TOPIC_OR_PARTITION/);
    expect(await ok(['topics', 'delete', 'admin-a', '--if-exists'])).toBe('Topic admin-a does not exist.\n');
  });

  it('generates load with --count/--size and prints a summary line', async () => {
    await ok(['topics', 'create', 'load', '--partitions', '2']);
    const run = await rill(['produce', 'load', '--count', '20000', '--size', '256']);
    expect(run.code, run.stderr).toBe(0);
    // stderr is a pipe here: no bar, only the summary.
    expect(run.stderr).toMatch(/^20000 messages in \d+\.\d\d s: \d+\.\d msgs\/s, \d+\.\d\d MB\/s\n$/);
    const [json] = JSON.parse(await ok(['topics', 'describe', 'load', '--json']));
    expect(json.partitions.reduce((sum: number, p: { logEndOffset: number }) => sum + p.logEndOffset, 0)).toBe(20_000);
    const sample = lines(await ok(['consume', 'load', '--from-beginning', '--max', '3']));
    expect(sample.every((value) => /^[A-Z]{256}$/.test(value))).toBe(true);
  });

  it.skipIf(!hasScript())('draws a progress bar with the live rate when stderr is a terminal', async () => {
    await ok(['topics', 'create', 'load-tty']);
    // script(1) gives the command a pseudo-terminal; its output is what the terminal showed.
    const command = [process.execPath, rillCli, 'produce', 'load-tty', '--count', '50000', '--size', '100', '--brokers', brokers].map((a) => `'${a}'`).join(' ');
    const shell = spawn('script', ['-qec', command, '/dev/null'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(shell);
    let screen = '';
    shell.stdout!.on('data', (chunk) => (screen += chunk));
    const { code } = await waitForExit(shell);
    children.delete(shell);
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/producing \[[=-]+\] \d+% \| \d+\/50000 msgs \| \d+ msgs\/s/);
    expect(screen).toMatch(/50000 messages in \d+\.\d\d s: \d+\.\d msgs\/s, \d+\.\d\d MB\/s/);
  });

  it('prints JSON lines with key, headers, value, offset and timestamp', async () => {
    await ok(['topics', 'create', 'json']);
    const before = Date.now();
    await ok(['produce', 'json', '--key-separator', '\\t', '--header', 'source=cli', '--header', 'trace=a=b'], 'user-1\t{"item":42}\nuser-2\tplain\n');
    await ok(['produce', 'json', '--key', 'k3', '--value', 'three']);
    const output = lines(await ok(['consume', 'json', '--from-beginning', '--format', 'json']));
    const messages = output.map((line) => JSON.parse(line));
    expect(messages.map(({ timestamp, ...rest }) => rest)).toEqual([
      { topic: 'json', partition: 0, offset: 0, key: 'user-1', headers: { source: 'cli', trace: 'a=b' }, value: '{"item":42}' },
      { topic: 'json', partition: 0, offset: 1, key: 'user-2', headers: { source: 'cli', trace: 'a=b' }, value: 'plain' },
      { topic: 'json', partition: 0, offset: 2, key: 'k3', headers: {}, value: 'three' },
    ]);
    for (const m of messages) expect(m.timestamp).toBeGreaterThanOrEqual(before - 1000);
  });

  it('reads a file with --file, and one partition from an offset', async () => {
    await ok(['topics', 'create', 'file', '--partitions', '2']);
    const path = join(tempDir(), 'messages.txt');
    writeFileSync(path, 'a\r\nb\r\nc\r\nd');
    await ok(['produce', 'file', '--file', path, '--partition', '1']);
    expect(await ok(['consume', 'file', '--partition', '1', '--offset', '1'])).toBe('b\nc\nd\n');
    expect(await ok(['consume', 'file', '--partition', '0', '--from-beginning'])).toBe('');
    expectOneLineError(await rill(['consume', 'file', '--partition', '1', '--offset', '9']), /OFFSET_OUT_OF_RANGE: Offset 9 is outside partition 1 of file, which holds 0\.\.4/);
    expectOneLineError(await rill(['produce', 'file', '--partition', '7', '--value', 'x']), /UNKNOWN_TOPIC_OR_PARTITION: Topic file has no partition 7/);
    expectOneLineError(await rill(['produce', 'file', '--file', join(tempDir(), 'missing.txt')]), /ENOENT/);
  });

  it('with --follow, receives a message produced after it started, and ends cleanly on Ctrl-C', async () => {
    await ok(['topics', 'create', 'follow']);
    await ok(['produce', 'follow'], 'old\n');
    // Start from the end offset explicitly (1), so the test need not know when the consumer is ready.
    const follower = startRill(['consume', 'follow', '--follow', '--offset', '1']);
    await ok(['produce', 'follow', '--value', 'new']);
    await waitFor(() => follower.stdout().toString() === 'new\n', { timeoutMs: 20_000, what: 'the follower to print the new message' });
    await ok(['produce', 'follow', '--value', 'newer']);
    await waitFor(() => follower.stdout().toString() === 'new\nnewer\n', { timeoutMs: 20_000, what: 'the second message' });
    follower.child.kill('SIGINT');
    const run = await follower.done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('Processed a total of 2 messages\n');
  });

  it('ends quietly when the reader of stdout goes away (| head -3)', async () => {
    await ok(['topics', 'create', 'pipe']);
    await ok(['produce', 'pipe', '--count', '20000', '--size', '20']);
    const errPath = join(tempDir(), 'stderr.txt');
    const shell = spawn('bash', ['-c', `set -o pipefail; '${process.execPath}' '${rillCli}' consume pipe --from-beginning --brokers ${brokers} 2>"$ERR" | head -3`], {
      cwd: repoRoot,
      env: { ...process.env, ERR: errPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(shell);
    let stdout = '';
    shell.stdout!.on('data', (chunk) => (stdout += chunk));
    const { code } = await waitForExit(shell);
    children.delete(shell);
    expect(lines(stdout)).toHaveLength(3);
    // pipefail: the exit code is rill's (head's is 0), so rill exited 0.
    expect(code).toBe(0);
    expect(readFileSync(errPath, 'utf8')).toMatch(/^Processed a total of \d+ messages\n$/);
  });

  it('fails on one line, within --timeout-ms, when no broker listens', async () => {
    const port = await closedPort();
    const commands = [['topics', 'list'], ['produce', 'x', '--value', 'v'], ['consume', 'x', '--from-beginning']];
    const runs = await Promise.all(commands.map((args) => rill([...args, '--brokers', `127.0.0.1:${port}`, '--timeout-ms', '2000'])));
    for (const run of runs) {
      expectOneLineError(run, /(NETWORK_EXCEPTION|ECONNREFUSED|REQUEST_TIMED_OUT)/);
      expect(run.stderr).toContain(`127.0.0.1:${port}`);
      // The deadline plus the time to start node, generously; the watchdog is RUN_LIMIT_MS.
      expect(run.ms).toBeLessThan(2000 + 20_000);
    }
  });

  it('refuses an invalid topic name and an unknown topic with a clear error', async () => {
    const cases: [string[], RegExp][] = [
      [['topics', 'create', 'bad/name'], /^rill: error: INVALID_TOPIC_EXCEPTION: Topic name "bad\/name" may contain only ASCII letters, digits, "\.", "_" and "-"$/],
      [['produce', 'no such topic', '--value', 'x'], /INVALID_TOPIC_EXCEPTION/],
      [['consume', 'never-created', '--from-beginning'], /^rill: error: UNKNOWN_TOPIC_OR_PARTITION: /],
      [['produce', 'never-created', '--value', 'x'], /^rill: error: UNKNOWN_TOPIC_OR_PARTITION: /],
      [['topics', 'create', 'p0', '--partitions', '0'], /argument '0' is invalid/],
    ];
    const runs = await Promise.all(cases.map(([args]) => rill(args)));
    for (const [i, [, pattern]] of cases.entries()) expectOneLineError(runs[i], pattern);
  });
});

function hasScript(): boolean {
  return spawnSync('script', ['--version']).status === 0;
}

/** A port nothing listens on: one the OS just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
