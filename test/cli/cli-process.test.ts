// The command tree as a user meets it, in a child process over the fake client: help, exit codes,
// one-line errors, the deadline, and `| head`.

import { describe, expect, it } from 'vitest';
import { runFakeRill, type CliRun } from './fake-cli.js';

function expectOneLineError(run: CliRun, code: number, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^rill: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe('the rill command line', () => {
  it('has help with examples for every command', async () => {
    const commands = [['topics', 'create'], ['topics', 'alter'], ['topics', 'list'], ['topics', 'describe'], ['topics', 'delete'], ['produce'], ['consume']];
    const runs = await Promise.all(commands.map((command) => runFakeRill([...command, '--help'])));
    for (const [i, command] of commands.entries()) {
      const run = runs[i];
      expect(run.code, command.join(' ')).toBe(0);
      expect(run.stdout).toContain('Examples:');
      expect(run.stdout).toContain(`$ rill ${command.join(' ')}`);
      expect(run.stdout).toContain('--brokers');
      expect(run.stdout).toContain('RILL_BROKERS');
    }
    const top = await runFakeRill(['--help']);
    expect(top.stdout).toMatch(/topics[\s\S]*produce[\s\S]*consume/);
  });

  it('refuses bad flags and values on one line, with exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['topics', 'create', 't', '--partitions', 'three'], /option '-p, --partitions <n>' argument 'three' is invalid/],
      [['topics', 'create', 't', '--config', 'retention.ms'], /must be key=value/],
      [['topics', 'alter', 't'], /required option '-p, --partitions <n>' not specified/],
      [['topics', 'alter', 't', '--partitions', '0'], /option '-p, --partitions <n>' argument '0' is invalid/],
      [['produce', 't', '--acks', 'all'], /Allowed choices are 0, 1/],
      [['produce', 't', '--idempotent', '--acks', '0'], /--idempotent' needs --acks 1/],
      [['produce', 't', '--size', '10'], /--size <bytes>' goes with --count/],
      [['produce', 't', '--value', 'v', '--file', 'f'], /cannot be used with/],
      [['consume', 't', '--from-beginning', '--offset', '5'], /cannot be used with/],
      [['consume', 't', '--offset', 'first'], /'earliest', 'latest' or an offset/],
      [['consume', 't', '--brokers', 'localhost:http'], /is not host:port/],
      [['consume', 't', '--nope'], /unknown option '--nope'/],
      [['topicz'], /unknown command 'topicz'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runFakeRill(args)));
    for (const [i, [, pattern]] of cases.entries()) expectOneLineError(runs[i], 2, pattern);
  });

  it('refuses an invalid topic name with its code and the rule it breaks', async () => {
    const run = await runFakeRill(['topics', 'create', 'no spaces']);
    expectOneLineError(run, 1, /^rill: error: INVALID_TOPIC_EXCEPTION: Topic name "no spaces" may contain only ASCII letters, digits/);
    expectOneLineError(await runFakeRill(['produce', '__internal', '--value', 'x']), 1, /INVALID_TOPIC_EXCEPTION: .*reserved for internal topics/);
  });

  it('names an unknown topic', async () => {
    expectOneLineError(await runFakeRill(['consume', 'missing', '--from-beginning']), 1, /^rill: error: UNKNOWN_TOPIC_OR_PARTITION: /);
    expectOneLineError(await runFakeRill(['topics', 'delete', 'missing']), 1, /UNKNOWN_TOPIC_OR_PARTITION/);
    const ifExists = await runFakeRill(['topics', 'delete', 'missing', '--if-exists']);
    expect(ifExists.code).toBe(0);
    expect(ifExists.stdout).toBe('Topic missing does not exist.\n');
  });

  it('gives up on a broker that does not answer within --timeout-ms', async () => {
    const run = await runFakeRill(['topics', 'list', '--timeout-ms', '300', '--brokers', '127.0.0.1:19400'], { behaviour: { hangOnConnect: true } });
    expectOneLineError(run, 1, /^rill: error: REQUEST_TIMED_OUT: could not reach the broker at 127\.0\.0\.1:19400 within 300 ms$/);
  });

  it('reports a refused connection by its system code', async () => {
    const run = await runFakeRill(['consume', 't'], { behaviour: { connectErrorCode: 'ECONNREFUSED' } });
    expectOneLineError(run, 1, /^rill: error: ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:9400$/);
  });

  it('ends quietly when stdout is closed early, as by `| head -3`', async () => {
    const run = await runFakeRill(['consume', 't', '--from-beginning'], { topics: { t: { messages: 50_000 } } }, { headLines: 3 });
    expect(run.stdout).toBe('message-0\nmessage-1\nmessage-2\n');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/error|EPIPE/i);
  });

  it('answers create, list, describe and delete', async () => {
    const setup = { topics: { a: { partitions: 2, messages: 4 }, b: {}, __internal: {} } };
    expect((await runFakeRill(['topics', 'create', 'c', '--partitions', '3'], setup)).stdout).toBe('Created topic c.\n');
    expectOneLineError(await runFakeRill(['topics', 'create', 'a'], setup), 1, /TOPIC_ALREADY_EXISTS: Topic a already exists/);
    expect((await runFakeRill(['topics', 'create', 'a', '--if-not-exists'], setup)).stdout).toBe('Topic a already exists.\n');
    expect((await runFakeRill(['topics', 'list'], setup)).stdout).toBe('a\nb\n');
    expect((await runFakeRill(['topics', 'list', '--include-internal', '--json'], setup)).stdout).toBe('["__internal","a","b"]\n');
    const described = JSON.parse((await runFakeRill(['topics', 'describe', 'a', '--json'], setup)).stdout);
    expect(described[0].partitions.map((p: { logEndOffset: number }) => p.logEndOffset)).toEqual([2, 2]);
    expect((await runFakeRill(['topics', 'delete', 'a', 'b'], setup)).stdout).toBe('Deleted topic a.\nDeleted topic b.\n');
  });

  it('alters a topic\'s partition count, with Kafka\'s errors for counts that do not grow', async () => {
    const setup = { topics: { a: { partitions: 2 }, __internal: {} } };
    expect((await runFakeRill(['topics', 'alter', 'a', '--partitions', '4'], setup)).stdout).toBe('Topic a now has 4 partitions.\n');
    expect((await runFakeRill(['topics', 'alter', 'a', '--partitions', '4', '--validate-only'], setup)).stdout).toBe('Topic a can grow to 4 partitions.\n');
    expectOneLineError(await runFakeRill(['topics', 'alter', 'a', '--partitions', '1'], setup), 1, /INVALID_PARTITIONS: Topic currently has 2 partitions, which is higher than the requested 1/);
    expectOneLineError(await runFakeRill(['topics', 'alter', 'nope', '--partitions', '3'], setup), 1, /UNKNOWN_TOPIC_OR_PARTITION/);
    expectOneLineError(await runFakeRill(['topics', 'alter', '__internal', '--partitions', '3'], setup), 1, /INVALID_REQUEST: cannot add partitions to internal topic '__internal'/);
  });
});
