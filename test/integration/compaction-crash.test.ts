// Compaction under SIGKILL: a child appends keyed records with flush.mode=sync while running
// log-cleaner passes back to back on the same thread (fixtures/compact-loop.ts); the test kills it
// at random moments — most of them inside a pass, while cleaned segments are being written,
// committed or swapped in — reopens the log (recovery completes or discards the interrupted swap)
// and checks that for every key the latest acknowledged value is readable, that values only
// grow with offsets, and that every batch is whole.

import { describe, expect, it } from 'vitest';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { PartitionLog, decodeRecordBatches } from '../../src/storage/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { collectStderr, fixture, spawnNode, waitForExit } from './fixtures/child.js';

const tempDir = tempDirs('rill-compact-crash-');
const ROUNDS = 16;
const KEYS = 40;

/** Runs the loop until `acks` acknowledgements after its `passes`-th cleaning pass began, then SIGKILLs it. */
async function runAndKill(dir: string, passes: number, acks: number, acked: Map<string, number>): Promise<number> {
  const child = spawnNode(fixture('compact-loop.ts'), [dir]);
  const stderr = collectStderr(child);
  const exited = waitForExit(child);
  let passesSeen = 0;
  let acksAfter = 0;
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      const [what, n] = line.split(' ');
      if (what === 'clean') passesSeen++;
      if (what === 'ack') {
        const key = `key-${Number(n) % KEYS}`;
        acked.set(key, Math.max(acked.get(key) ?? -1, Number(n)));
        if (passesSeen >= passes && ++acksAfter >= acks && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve();
        }
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`compact loop exited early (code ${code}, signal ${signal}): ${stderr()}`)));
  });
  expect((await exited).signal).toBe('SIGKILL');
  return passesSeen;
}

describe('compaction crash safety', () => {
  it(`keeps the latest acknowledged value of every key across ${ROUNDS} SIGKILLs during cleaning`, async () => {
    const dir = tempDir();
    const seed = Date.now() % 1_000_000;
    const plan = fc.sample(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 60 })), { seed, numRuns: ROUNDS });
    const acked = new Map<string, number>();
    let cleanedSomewhere = false;
    for (let round = 0; round < ROUNDS; round++) {
      const [passes, acks] = plan[round];
      await runAndKill(dir, passes, acks, acked);
      const context = `round ${round} (seed ${seed}, killed ${acks} acks into pass ${passes})`;
      const log = await PartitionLog.open(dir, { config: { cleanupPolicy: 'compact', segmentBytes: 8 * 1024, indexIntervalBytes: 512 } });
      const latest = new Map<string, number>();
      let previous = -1;
      let records = 0;
      for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
        const result = log.read(offset, 1 << 20); // CRC-checks every batch it returns
        if (result.records.length === 0) break;
        for (const batch of decodeRecordBatches(result.records)) {
          for (const r of batch.records) {
            const value = Number(Buffer.from(r.value!).toString());
            expect(value, context).toBeGreaterThan(previous);
            previous = value;
            latest.set(Buffer.from(r.key!).toString(), value);
            records++;
          }
        }
        offset = result.nextOffset;
      }
      for (const [key, value] of acked) expect(latest.get(key) ?? -1, `${context}: ${key}`).toBeGreaterThanOrEqual(value);
      if (records < previous + 1) cleanedSomewhere = true;
      await log.close();
    }
    expect(cleanedSomewhere).toBe(true);
  }, 240_000);
});
