import { describe, expect, it } from 'vitest';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointFile, type CheckpointState } from '../../src/storage/checkpoint.js';
import { tempDirs } from '../helpers/temp-dir.js';

const tempDir = tempDirs();

const state = (n: number, clean = false): CheckpointState => ({
  clean,
  segmentBase: 1000 * n,
  nextOffset: 1000 * n + 17,
  position: 4096 * n,
  offsetIndexEntries: n,
  timeIndexEntries: n + 1,
  maxTimestamp: 1_700_000_000_000 + n,
});

function flipByte(path: string, position: number): void {
  const bytes = readFileSync(path);
  const fd = openSync(path, 'r+');
  writeSync(fd, Uint8Array.of(bytes[position] ^ 0xff), 0, 1, position);
  closeSync(fd);
}

describe('CheckpointFile', () => {
  it('reads back the last state written, across reopen', () => {
    const path = join(tempDir(), 'checkpoint');
    const file = CheckpointFile.open(path);
    expect(file.read()).toBeNull();
    for (let n = 1; n <= 5; n++) file.write(state(n, n === 5));
    expect(file.read()).toEqual(state(5, true));
    file.close();
    const again = CheckpointFile.open(path);
    expect(again.read()).toEqual(state(5, true));
    again.write(state(6));
    expect(again.read()).toEqual(state(6));
    again.close();
  });

  it('keeps "no record yet" as -Infinity', () => {
    const file = CheckpointFile.open(join(tempDir(), 'checkpoint'));
    file.write({ ...state(1), maxTimestamp: -Infinity });
    expect(file.read()?.maxTimestamp).toBe(-Infinity);
    file.close();
  });

  it('falls back to the previous state when the newest slot is torn, and to null when both are', () => {
    const path = join(tempDir(), 'checkpoint');
    const file = CheckpointFile.open(path);
    file.write(state(1)); // slot at 512 (sequence 1)
    file.write(state(2)); // slot at 0 (sequence 2)
    flipByte(path, 30);
    expect(file.read()).toEqual(state(1));
    // Writing again goes to the slot after the one read, overwriting the torn one.
    file.write(state(3));
    expect(file.read()).toEqual(state(3));
    flipByte(path, 30);
    flipByte(path, 512 + 30);
    expect(file.read()).toBeNull();
    file.close();
  });
});
