// Runs the fake-client `rill` (fixtures/fake-rill.ts) as a child process and collects what it did.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compiledFixture, repoRoot } from '../integration/fixtures/child.js';

const script = compiledFixture(fileURLToPath(new URL('./fixtures/fake-rill.ts', import.meta.url)));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Stop reading stdout after this many lines, as `| head -n` does. */
  headLines?: number;
}

/** Runs `rill <args>` over a FakeBroker set up as `setup` says. */
export function runFakeRill(args: string[], setup: object = {}, options: RunOptions = {}): Promise<CliRun> {
  const started = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, FAKE_RILL: JSON.stringify(setup) };
  delete env.RILL_BROKERS;
  delete env.RILL_DEBUG;
  const child = spawn(process.execPath, [script, ...args], { cwd: repoRoot, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    if (options.headLines !== undefined && stdout.split('\n').length > options.headLines) {
      stdout = stdout.split('\n').slice(0, options.headLines).join('\n') + '\n';
      child.stdout.destroy();
    }
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started })));
}
