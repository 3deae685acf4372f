import { describe, expect, it } from 'vitest';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SegmentMappings } from '../../src/broker/segment-mappings.js';
import { nativeIo, type FileIo } from '../../src/native/index.js';
import { tempDirs } from '../helpers/temp-dir.js';

const tempDir = tempDirs();

/** Counts mmap/munmap calls, to see mappings reused, replaced and released. */
function countingIo() {
  const counts = { mmap: 0, munmap: 0, open: 0, close: 0 };
  const io: FileIo = {
    ...nativeIo,
    mmap: (...args) => (counts.mmap++, nativeIo.mmap(...args)),
    munmap: (buffer) => (counts.munmap++, nativeIo.munmap(buffer)),
    open: (...args) => (counts.open++, nativeIo.open(...args)),
    close: (fd) => (counts.close++, nativeIo.close(fd)),
  };
  return { io, counts };
}

describe('SegmentMappings', () => {
  it('notices a file replaced under the same name (a compacted segment swapped in) and maps the new one', () => {
    const dir = tempDir();
    const file = join(dir, 'seg.log');
    writeFileSync(file, Buffer.from('old segment bytes, before cleaning'));
    const mappings = new SegmentMappings();
    const before = mappings.acquire(file, 0, 3);
    expect(Buffer.from(before.bytes).toString()).toBe('old');
    writeFileSync(join(dir, 'seg.log.swap'), Buffer.from('new bytes'));
    renameSync(join(dir, 'seg.log.swap'), file);
    const after = mappings.acquire(file, 0, 3);
    expect(Buffer.from(after.bytes).toString()).toBe('new');
    // A range acquired before the swap stays readable until released.
    expect(Buffer.from(before.bytes).toString()).toBe('old');
    before.release();
    after.release();
    mappings.closeAll();
  });

  it('returns the bytes of a range and reuses one mapping for later ranges', () => {
    const file = join(tempDir(), 'seg.log');
    writeFileSync(file, Buffer.from('hello segment bytes'));
    const { io, counts } = countingIo();
    const mappings = new SegmentMappings({ io });
    const a = mappings.acquire(file, 6, 7);
    const b = mappings.acquire(file, 0, 5);
    expect(Buffer.from(a.bytes).toString()).toBe('segment');
    expect(Buffer.from(b.bytes).toString()).toBe('hello');
    expect(counts.mmap).toBe(1);
    a.release();
    b.release();
    b.release(); // idempotent
    mappings.closeAll();
    expect(counts.munmap).toBe(1);
    expect(counts.close).toBe(1);
  });

  it('remaps a growing file, keeping the old mapping until its ranges are released', () => {
    const file = join(tempDir(), 'active.log');
    writeFileSync(file, Buffer.alloc(100, 1));
    const { io, counts } = countingIo();
    const mappings = new SegmentMappings({ io });
    const early = mappings.acquire(file, 0, 100);
    appendFileSync(file, Buffer.alloc(10_000, 2));
    const late = mappings.acquire(file, 5000, 100);
    expect(counts.mmap).toBe(2);
    expect(late.bytes[0]).toBe(2);
    expect(early.bytes[99]).toBe(1); // still readable: the old mapping is alive while acquired
    expect(counts.munmap).toBe(0);
    early.release();
    expect(counts.munmap).toBe(1);
    late.release();
    mappings.closeAll();
    expect(counts.munmap).toBe(2);
  });

  it('closes the least recently used idle files beyond its bound', () => {
    const dir = tempDir();
    const { io, counts } = countingIo();
    const mappings = new SegmentMappings({ io, maxFiles: 2 });
    for (const name of ['a', 'b', 'c']) {
      writeFileSync(join(dir, name), name.repeat(10));
      mappings.acquire(join(dir, name), 0, 1).release();
    }
    expect(mappings.openFiles).toBe(2);
    expect(counts.close).toBe(1);
    mappings.closeAll();
  });

  it('refuses ranges past the end of the file and missing files with STORAGE_ERROR', () => {
    const file = join(tempDir(), 'short.log');
    writeFileSync(file, 'abc');
    const mappings = new SegmentMappings();
    expect(() => mappings.acquire(file, 0, 10)).toThrow(expect.objectContaining({ type: 'STORAGE_ERROR' }));
    expect(() => mappings.acquire(join(tempDir(), 'missing.log'), 0, 1)).toThrow(
      expect.objectContaining({ type: 'STORAGE_ERROR', details: { errno: 'ENOENT', syscall: 'open' } }),
    );
    mappings.closeAll();
  });
});
