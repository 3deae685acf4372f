import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_GROW_BYTES, MAX_GROW_BYTES, MappedFile } from '../../src/storage/mapped-file.js';
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

  it('pre-faults ahead of the writer once the file is past 1 MiB, keeping two steps in reserve', () => {
    const file = MappedFile.openWritable(nativeIo, join(tempDir(), 'ahead'), { capacity: 64 << 20, create: true, prefault: true });
    file.reserve(100);
    expect(file.allocated).toBe(MIN_GROW_BYTES); // small files do not look ahead
    while (file.allocated < 1 << 20) file.reserve(file.allocated + 1);
    const end = file.allocated - 10;
    file.reserve(end);
    // Reserved beyond what was asked: at least two of the (doubling) steps ahead of the writer.
    expect(file.allocated - end).toBeGreaterThanOrEqual(2 << 20);
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
