// Truncation under SIGKILL: a child appends in rising leader epochs and truncates random suffixes
// (as a follower does after a leader change); the test kills it at random moments and reopens the
// log. After every kill: the log opens, every batch is intact, the leader-epoch checkpoint agrees
// with the batches' partitionLeaderEpoch fields (so truncation by epoch stays correct), every record
// holds the value written at its offset, and nothing acknowledged is missing unless a truncation
// had begun to remove it.

import { describe, expect, it } from 'vitest';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { PartitionLog, decodeRecordBatches } from '../../src/storage/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { collectStderr, fixture, spawnNode, waitForExit } from './fixtures/child.js';

const tempDir = tempDirs();
const ROUNDS = 12;

/** Runs the loop until it printed `lines` lines, SIGKILLs it; returns the end nothing may fall below. */
async function runAndKill(dir: string, lines: number, seed: number): Promise<number> {
  const child = spawnNode(fixture('truncate-loop.ts'), [dir, String(seed)]);
  const stderr = collectStderr(child);
  const exited = waitForExit(child);
  let floor = 0;
  let seen = 0;
  const reader = createInterface({ input: child.stdout! });
  let readerClosed = false;
  reader.once('close', () => (readerClosed = true));
  await new Promise<void>((resolve, reject) => {
    reader.on('line', (line) => {
      const [what, value] = line.split(' ');
      if (what === 'acked') floor = Number(value);
      else if (what === 'truncating') floor = Math.min(floor, Number(value));
      if (what !== 'ready' && ++seen === lines) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`truncate loop exited early (code ${code}, signal ${signal}): ${stderr()}`)));
  });
  expect((await exited).signal).toBe('SIGKILL');
  // Lines the child wrote before it died but we had not read yet count too: a truncation it
  // announced may have run before the kill landed.
  if (!readerClosed) await new Promise<void>((resolve) => reader.once('close', resolve));
  return floor;
}

describe('truncation crash safety', () => {
  it(`keeps the log, its indexes and its leader epochs consistent across ${ROUNDS} SIGKILLs mid-truncation`, async () => {
    const dir = tempDir();
    const seed = Date.now() % 1_000_000;
    const linesPerRound = fc.sample(fc.integer({ min: 5, max: 300 }), { seed, numRuns: ROUNDS });
    for (let round = 0; round < ROUNDS; round++) {
      const floor = await runAndKill(dir, linesPerRound[round], seed + round);
      const context = `round ${round} (seed ${seed})`;
      const log = await PartitionLog.open(dir);
      expect(log.logEndOffset, context).toBeGreaterThanOrEqual(floor);
      const entries = log.epochEntries();
      const epochAt = (offset: number) => entries.filter((e) => e.startOffset <= offset).at(-1)?.epoch ?? -1;
      let expected = log.logStartOffset;
      for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
        const read = log.read(offset, 1 << 20);
        for (const batch of decodeRecordBatches(read.records)) {
          expect(batch.baseOffset, context).toBe(expected);
          expect(epochAt(batch.baseOffset), `${context}: epoch of batch at ${batch.baseOffset}`).toBe(batch.partitionLeaderEpoch);
          for (const r of batch.records) {
            expect(Buffer.from(r.value!).toString().startsWith(`e${batch.partitionLeaderEpoch}-o${r.offset}-`), context).toBe(true);
          }
          expected = batch.baseOffset + batch.lastOffsetDelta + 1;
        }
        offset = read.nextOffset;
      }
      expect(expected, context).toBe(log.logEndOffset);
      // Index lookups land on the batch holding each offset (indexes fixed by truncation/recovery).
      for (const probe of [log.logStartOffset, Math.floor(log.logEndOffset / 2), log.logEndOffset - 1].filter((o) => o >= log.logStartOffset && o < log.logEndOffset)) {
        const [first] = decodeRecordBatches(log.read(probe, 1).records);
        expect(first.baseOffset <= probe && probe <= first.baseOffset + first.lastOffsetDelta, context).toBe(true);
      }
      await log.close();
    }
  }, 240_000);
});
