import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { OffsetIndex, TimeIndex } from '../../src/storage/sparse-index.js';
import { nativeIo } from '../../src/native/index.js';
import { tempDirs } from '../helpers/temp-dir.js';

const tempDir = tempDirs();

describe('OffsetIndex', () => {
  it('finds the last entry at or below an offset, and 0 below the first', () => {
    const index = OffsetIndex.openWritable(nativeIo, join(tempDir(), 'x.index'), 100, 0);
    index.reserveEntries(3);
    index.append(10, 4096);
    index.append(25, 8200);
    index.append(40, 12500);
    expect(index.lookup(0)).toBe(0);
    expect(index.lookup(9)).toBe(0);
    expect(index.lookup(10)).toBe(4096);
    expect(index.lookup(24)).toBe(4096);
    expect(index.lookup(25)).toBe(8200);
    expect(index.lookup(1000)).toBe(12500);
    expect(index.entriesBelow(8200)).toBe(1);
    expect(index.entriesBelow(8201)).toBe(2);
    expect(index.isConsistent(20_000)).toBe(true);
    expect(index.isConsistent(10_000)).toBe(false); // points past the log
    index.close();
  });

  it('trims to its entries and reopens read-only with exactly them', () => {
    const path = join(tempDir(), 'y.index');
    const index = OffsetIndex.openWritable(nativeIo, path, 1000, 0);
    index.reserveEntries(50);
    for (let i = 1; i <= 50; i++) index.append(i * 3, i * 5000);
    expect(statSync(path).size).toBeGreaterThan(50 * 8); // grown in chunks
    index.truncateEntries(20);
    index.trim();
    index.close();
    expect(statSync(path).size).toBe(20 * 8);
    const sealed = OffsetIndex.openReadOnly(nativeIo, path);
    expect(sealed.entries).toBe(20);
    expect(sealed.lookup(59)).toBe(19 * 5000);
    expect(sealed.lookup(60)).toBe(20 * 5000);
    sealed.close();
  });

  it('skips appends when full instead of overflowing', () => {
    const index = OffsetIndex.openWritable(nativeIo, join(tempDir(), 'z.index'), 2, 0);
    index.reserveEntries(5);
    for (let i = 1; i <= 5; i++) index.append(i, i * 100);
    expect(index.entries).toBe(2);
    expect(index.isFull).toBe(true);
    index.close();
  });
});

describe('TimeIndex', () => {
  it('records only increasing timestamps and starts searches after every earlier entry', () => {
    const index = TimeIndex.openWritable(nativeIo, join(tempDir(), 'x.timeindex'), 100, 0);
    index.reserveEntries(5);
    index.maybeAppend(1000, 9);
    index.maybeAppend(1000, 19); // not larger: skipped
    index.maybeAppend(900, 29); // smaller: skipped
    index.maybeAppend(2000, 39);
    expect(index.entries).toBe(2);
    expect(index.lastTimestamp()).toBe(2000);
    // Everything up to offset 9 is at or before 1000; up to 39 at or before 2000.
    expect(index.searchStart(500)).toBe(0);
    expect(index.searchStart(1000)).toBe(0);
    expect(index.searchStart(1001)).toBe(10);
    expect(index.searchStart(2001)).toBe(40);
    expect(index.entriesBelow(39)).toBe(1);
    expect(index.isConsistent()).toBe(true);
    index.close();
  });
});
