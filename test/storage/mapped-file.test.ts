import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_GROW_BYTES, MAX_GROW_BYTES, MappedFile, PREFAULT_WINDOW_BYTES } from '../../src/storage/mapped-file.js';
import { nativeIo } from '../../src/native/index.js';
import { tempDirs } from '../helpers/temp-dir.js';

const tempDir = tempDirs();

describe('MappedFile', () => {
  it('grows in doubling chunks from 64 KiB up to 16 MiB, never past its capacity', () => {
    const path = join(tempDir(), 'grow');
    const file = MappedFile.openWritable(nativeIo, path, { capacity: 64 << 20, create: true });
    file.reserve(100);
    expect(file.allocated).toBe(MIN_GROW_BYTES);
    expect(statSync(path).size).toBe(MIN_GROW_BYTES);
    file.reserve(MIN_GROW_BYTES + 1);
    expect(file.allocated).toBe(3 * MIN_GROW_BYTES);
    let previous = file.allocated;
    const steps: number[] = [];
    while (file.allocated < 64 << 20) {
      file.reserve(file.allocated + 1);
      steps.push(file.allocated - previous);
      previous = file.allocated;
    }
    expect(Math.max(...steps)).toBe(MAX_GROW_BYTES);
    expect(file.allocated).toBe(64 << 20);
    expect(() => file.reserve((64 << 20) + 1)).toThrow(RangeError);
    file.close();
  });

  it('pre-faults a bounded window ahead of a fast writer, and nothing for a slow one', () => {
    const counted = { bytes: 0 };
    const io = { ...nativeIo, prefaultAsync: (m: ArrayBuffer, offset: number, length: number) => ((counted.bytes += length), nativeIo.prefaultAsync(m, offset, length)) };
    const fast = MappedFile.openWritable(io, join(tempDir(), 'fast'), { capacity: 256 << 20, create: true, prefault: true });
    // A writer going through 64 MiB at once: the window stays put; nothing runs away with the file.
    for (let end = 4096; end <= 64 << 20; end += 64 * 1024) {
      fast.reserve(end);
      expect(fast.allocated - end).toBeLessThanOrEqual(PREFAULT_WINDOW_BYTES + MAX_GROW_BYTES);
    }
    expect(counted.bytes).toBeGreaterThan(32 << 20);
    expect(counted.bytes).toBeLessThanOrEqual((64 << 20) + PREFAULT_WINDOW_BYTES);
    fast.close();

    counted.bytes = 0;
    let now = 0;
    const realNow = performance.now;
    performance.now = () => (now += 100); // every measurement 100 ms apart: a slow writer
    try {
      const slow = MappedFile.openWritable(io, join(tempDir(), 'slow'), { capacity: 256 << 20, create: true, prefault: true });
      for (let end = 4096; end <= 8 << 20; end += 64 * 1024) slow.reserve(end);
      expect(counted.bytes).toBe(0);
      expect(slow.allocated).toBeLessThan((8 << 20) + MAX_GROW_BYTES);
      slow.close();
    } finally {
      performance.now = realNow;
    }
  });

  it('drops pages from its mapping without losing their bytes', () => {
    const file = MappedFile.openWritable(nativeIo, join(tempDir(), 'drop'), { capacity: 8 << 20, create: true });
    file.reserve(4 << 20);
    file.bytes.fill(9, 0, 4 << 20);
    file.dropPages(3 << 20);
    expect(file.bytes[0]).toBe(9);
    expect(file.bytes[(3 << 20) - 1]).toBe(9);
    file.close();
  });

  it('detaches old views when truncated, and keeps the data below the cut', () => {
    const path = join(tempDir(), 'cut');
    const file = MappedFile.openWritable(nativeIo, path, { capacity: 1 << 20, create: true });
    file.reserve(10_000);
    file.bytes.fill(7, 0, 10_000);
    const view = file.bytes.subarray(0, 10_000);
    file.truncate(5000);
    expect(view.length).toBe(0);
    expect(statSync(path).size).toBe(5000);
    expect(file.bytes[4999]).toBe(7);
    file.close();
    const readOnly = MappedFile.openReadOnly(nativeIo, path);
    expect(readOnly.bytes.length).toBe(5000);
    expect(readOnly.bytes[0]).toBe(7);
    readOnly.close();
  });

  it('closes its descriptor only after a running fdatasync finishes', async () => {
    const file = MappedFile.openWritable(nativeIo, join(tempDir(), 'sync'), { capacity: 1 << 20, create: true });
    file.reserve(4096);
    const syncing = file.syncAsync();
    file.close();
    await expect(syncing).resolves.toBeUndefined();
    expect(file.closed).toBe(true);
  });
});
