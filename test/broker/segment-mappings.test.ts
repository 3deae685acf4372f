import { describe, expect, it } from 'vitest';
import { appendFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SegmentMappings } from '../../src/broker/segment-mappings.js';
import { nativeIo, type FileIo } from '../../src/native/index.js';
import { tempDirs } from '../helpers/temp-dir.js';

const tempDir = tempDirs();
/** The inode an owner names the file by (MappedFile.ino). */
const ino = (file: string) => statSync(file).ino;

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
  it('serves a range from the file the owner read, across a compacted segment swapped in under the same name', () => {
    const dir = tempDir();
    const file = join(dir, 'seg.log');
    writeFileSync(file, Buffer.from('old segment bytes, before cleaning'));
    const oldIno = ino(file);
    const mappings = new SegmentMappings();
    const before = mappings.acquire(file, oldIno, 0, 3);
    expect(Buffer.from(before.bytes).toString()).toBe('old');
    writeFileSync(join(dir, 'seg.log.swap'), Buffer.from('new bytes'));
    renameSync(join(dir, 'seg.log.swap'), file);
    // An owner that read the old file before the swap: still its bytes, from the descriptor held.
    const stale = mappings.acquire(file, oldIno, 4, 7);
    expect(Buffer.from(stale.bytes).toString()).toBe('segment');
    stale.release();
    // An owner that reads the new file: the new one, reopened.
    const after = mappings.acquire(file, ino(file), 0, 3);
    expect(Buffer.from(after.bytes).toString()).toBe('new');
    // A range acquired before the swap stays readable until released.
    expect(Buffer.from(before.bytes).toString()).toBe('old');
    // The old file is no longer held open: a range of it is refused, never served from the new one.
    expect(() => mappings.acquire(file, oldIno, 0, 3)).toThrow(expect.objectContaining({ type: 'STORAGE_ERROR', message: expect.stringMatching(/replaced after its owner read it/) }));
    before.release();
    after.release();
    mappings.closeAll();
  });

  it('returns the bytes of a range and reuses one mapping for later ranges', () => {
    const file = join(tempDir(), 'seg.log');
    writeFileSync(file, Buffer.from('hello segment bytes'));
    const { io, counts } = countingIo();
    const mappings = new SegmentMappings({ io });
    const a = mappings.acquire(file, ino(file), 6, 7);
    const b = mappings.acquire(file, ino(file), 0, 5);
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
    const early = mappings.acquire(file, ino(file), 0, 100);
    appendFileSync(file, Buffer.alloc(10_000, 2));
    const late = mappings.acquire(file, ino(file), 5000, 100);
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
      mappings.acquire(join(dir, name), ino(join(dir, name)), 0, 1).release();
    }
    expect(mappings.openFiles).toBe(2);
    expect(counts.close).toBe(1);
    mappings.closeAll();
  });

  it('refuses ranges past the end of the file and missing files with STORAGE_ERROR', () => {
    const file = join(tempDir(), 'short.log');
    writeFileSync(file, 'abc');
    const mappings = new SegmentMappings();
    expect(() => mappings.acquire(file, ino(file), 0, 10)).toThrow(expect.objectContaining({ type: 'STORAGE_ERROR' }));
    expect(() => mappings.acquire(join(tempDir(), 'missing.log'), 1, 0, 1)).toThrow(
      expect.objectContaining({ type: 'STORAGE_ERROR', details: { errno: 'ENOENT', syscall: 'open' } }),
    );
    mappings.closeAll();
  });
});
