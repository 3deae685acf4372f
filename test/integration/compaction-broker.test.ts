// Compaction in a running broker: a topic with cleanup.policy=compact and tiny segments gets keyed
// records through `rill produce`; the owner worker's cleaner runs every 20 ms (log.cleaner.backoff.ms).
// Consumers fetch the compacted log through the main thread's mappings while segments are swapped
// under them; then the broker is SIGKILLed while more records are produced and the cleaner runs,
// restarted, and every key's latest acknowledged value must be there, values only growing with
// offsets, and the log smaller than what was written.

import { afterAll, describe, expect, it } from 'vitest';
import { type ChildProcess } from 'node:child_process';
import { tempDirs } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { rillCli, spawnNode, waitForExit } from './fixtures/child.js';
import { killBroker, startBroker, type BrokerProcess } from './fixtures/broker-process.js';

const tempDir = tempDirs('rill-compaction-broker-');
const FLAGS = ['--workers', '2', '--log-cleaner-backoff-ms', '20'];
const KEYS = 20;
const children = new Set<ChildProcess>();
let broker: BrokerProcess | null = null;

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (broker !== null && broker.child.exitCode === null && broker.child.signalCode === null) await killBroker(broker);
});

function rill(args: string[], input = ''): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawnNode(rillCli, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, RILL_BROKERS: `127.0.0.1:${broker!.port}` } });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(input);
  const limit = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return {
    child,
    done: waitForExit(child).then(({ code }) => {
      clearTimeout(limit);
      children.delete(child);
      return { code, stdout, stderr };
    }),
  };
}

async function ok(args: string[], input?: string): Promise<string> {
  const run = await rill(args, input).done;
  expect(run.code, `rill ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run.stdout;
}

const rounds = (from: number, to: number): string =>
  Array.from({ length: (to - from) * KEYS }, (_, i) => `key-${i % KEYS}:${from * KEYS + i}-${PADDING}`).join('\n') + '\n';
/** Values of ~150 bytes, so that 1000 records fill several 32 KiB segments. */
const PADDING = 'x'.repeat(140);

const cleanerPasses = (b: BrokerProcess): number => b.logs.filter((l) => l.msg === 'log cleaner pass done' && l.topic === 'kv').length;

/** Every record from the start, as a consumer sees it; checks values only grow with offsets. */
async function readAll(): Promise<{ latest: Map<string, number>; records: number }> {
  const out = await ok(['consume', 'kv', '--from-beginning', '--format', 'json', '--quiet']);
  const latest = new Map<string, number>();
  let previousOffset = -1;
  let previousValue = -1;
  let records = 0;
  for (const line of out.split('\n').filter((l) => l !== '')) {
    const m = JSON.parse(line) as { offset: number; key: string; value: string };
    expect(m.offset).toBeGreaterThan(previousOffset);
    expect(parseInt(m.value, 10)).toBeGreaterThan(previousValue);
    previousOffset = m.offset;
    previousValue = parseInt(m.value, 10);
    latest.set(m.key, parseInt(m.value, 10));
    records++;
  }
  return { latest, records };
}

describe('compaction in a running broker', () => {
  it('serves fetches across swapped segments and keeps every latest value through a SIGKILL during cleaning', async () => {
    const dir = tempDir();
    broker = await startBroker(dir, FLAGS);
    await ok(['topics', 'create', 'kv', '--partitions', '1', '--config', 'cleanup.policy=compact', '--config', 'segment.bytes=32768', '--config', 'min.cleanable.dirty.ratio=0.01', '--config', 'flush.interval.ms=20']);
    await ok(['produce', 'kv', '--key-separator', ':'], rounds(0, 50));
    const b = broker;
    await waitFor(() => cleanerPasses(b) > 0, { timeoutMs: 30_000, what: 'a log cleaner pass on kv' });
    const first = await readAll();
    expect(first.records).toBeLessThan(50 * KEYS);
    for (let k = 0; k < KEYS; k++) expect(first.latest.get(`key-${k}`)).toBe(49 * KEYS + k);

    // Fetches while passes keep swapping cleaned segments in (each round of writes makes the log dirty again).
    for (let i = 0; i < 3; i++) {
      const seen = cleanerPasses(b);
      await ok(['produce', 'kv', '--key-separator', ':'], rounds(50 + 10 * i, 60 + 10 * i));
      await waitFor(() => cleanerPasses(b) > seen, { timeoutMs: 30_000, what: 'another cleaner pass' });
      const { latest, records } = await readAll();
      expect(records).toBeLessThan((60 + 10 * i) * KEYS);
      for (let k = 0; k < KEYS; k++) expect(latest.get(`key-${k}`)).toBe((59 + 10 * i) * KEYS + k);
    }

    // Kill the broker while producing and cleaning.
    const producing = rill(['produce', 'kv', '--key-separator', ':'], rounds(80, 180));
    const passes = cleanerPasses(b);
    await waitFor(() => cleanerPasses(b) >= passes + 3, { timeoutMs: 30_000, what: 'cleaner passes during produce' });
    await killBroker(b);
    await producing.done;

    broker = await startBroker(dir, FLAGS);
    const { latest, records } = await readAll();
    for (let k = 0; k < KEYS; k++) expect(latest.get(`key-${k}`)).toBeGreaterThanOrEqual(79 * KEYS + k);
    expect(records).toBeLessThan(180 * KEYS);
  }, 240_000);
});
