import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { constants as fsConstants, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  constants,
  crc32c,
  crc32cHardware,
  crc32cSoftware,
  hasHardwareCrc32c,
  isErrnoError,
  nativeIo as io,
} from '../../src/native/index.js';
import { tempDirs } from '../helpers/temp-dir.js';

const tempDir = tempDirs();

// Known answers: the standard check value, and the test vectors of RFC 3720 (iSCSI) B.4.
const VECTORS: [string, Uint8Array, number][] = [
  ['"123456789"', new TextEncoder().encode('123456789'), 0xe3069283],
  ['32 zero bytes', new Uint8Array(32), 0x8a9136aa],
  ['32 bytes of 0xff', new Uint8Array(32).fill(0xff), 0x62a8ab43],
  ['32 ascending bytes', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
  ['32 descending bytes', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  ['empty', new Uint8Array(0), 0],
];

const implementations: [string, typeof crc32c][] = [
  ['software', crc32cSoftware],
  ...(hasHardwareCrc32c ? [['hardware', crc32cHardware] as [string, typeof crc32c]] : []),
  ['default', crc32c],
];

describe('crc32c', () => {
  it('uses the CPU instruction on this machine when the CPU has one', () => {
    // x86-64 machines here have SSE4.2; the test documents which path runs.
    expect(typeof hasHardwareCrc32c).toBe('boolean');
  });

  for (const [name, fn] of implementations) {
    for (const [label, bytes, expected] of VECTORS) {
      it(`${name}: ${label} -> 0x${expected.toString(16)}`, () => {
        expect(fn(bytes)).toBe(expected);
      });
    }
  }

  it('hardware and software agree on random data at any alignment and length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(16), fc.nat(2000), (data, offset, length) => {
        const start = Math.min(offset, data.length);
        const len = Math.min(length, data.length - start);
        const expected = crc32cSoftware(data, start, len);
        expect(crc32c(data, start, len)).toBe(expected);
        if (hasHardwareCrc32c) expect(crc32cHardware(data, start, len)).toBe(expected);
      }),
    );
  });

  it('continues from a seed: crc(a + b) = crc(b, seed = crc(a))', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
        const joined = new Uint8Array(a.length + b.length);
        joined.set(a);
        joined.set(b, a.length);
        expect(crc32c(b, 0, b.length, crc32c(a))).toBe(crc32c(joined));
        expect(crc32cSoftware(b, 0, b.length, crc32cSoftware(a))).toBe(crc32c(joined));
      }),
    );
  });

  it('accepts ArrayBuffers and views with offsets, and rejects out-of-range arguments', () => {
    const bytes = new TextEncoder().encode('xx123456789yy');
    expect(crc32c(bytes, 2, 9)).toBe(0xe3069283);
    expect(crc32c(bytes.subarray(2, 11))).toBe(0xe3069283);
    expect(crc32c(new DataView(bytes.buffer, 2, 9))).toBe(0xe3069283);
    const shared = new Uint8Array(new SharedArrayBuffer(16));
    shared.set(bytes.subarray(2, 11), 3);
    expect(crc32c(shared, 3, 9)).toBe(0xe3069283); // views of a SharedArrayBuffer (the rings) too
    expect(crc32c(shared.subarray(3, 12))).toBe(0xe3069283);
    expect(() => crc32c(bytes, 14)).toThrow(RangeError);
    expect(() => crc32c(bytes, 2, 12)).toThrow(RangeError);
    expect(() => crc32c('text' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

function expectErrno(fn: () => unknown, code: string, syscall: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(isErrnoError(caught)).toBe(true);
  expect((caught as NodeJS.ErrnoException).code).toBe(code);
  expect((caught as NodeJS.ErrnoException).syscall).toBe(syscall);
  expect((caught as NodeJS.ErrnoException).errno).toBeGreaterThan(0);
  expect((caught as Error).message).toContain(code);
}

describe('file and mapping calls', () => {
  it('throws errno errors, never crashes, on bad paths and descriptors', async () => {
    expectErrno(() => io.open('/nonexistent-dir/x', fsConstants.O_RDONLY), 'ENOENT', 'open');
    expectErrno(() => io.fallocate(987654, 0, 4096), 'EBADF', 'fallocate');
    expectErrno(() => io.ftruncate(987654, 0), 'EBADF', 'ftruncate');
    expectErrno(() => io.fdatasync(987654), 'EBADF', 'fdatasync');
    expectErrno(() => io.mmap(987654, 4096, 0, false), 'EBADF', 'mmap');
    await expect(io.fdatasyncAsync(987654)).rejects.toMatchObject({ code: 'EBADF', syscall: 'fdatasync' });
    expect(() => io.fallocate(-1, 0, 1)).toThrow(RangeError);
    expect(() => io.fallocate(0, -5, 1)).toThrow(RangeError);
  });

  it('maps a file read-write, grows it with fallocate, and sees writes through the file', async () => {
    const path = join(tempDir(), 'mapped');
    const fd = io.open(path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    try {
      io.fallocate(fd, 0, 8192);
      expect(io.fileSize(fd)).toBe(8192);
      const mapping = io.mmap(fd, 1 << 20, 0, true); // more address space than file: grow into it
      const bytes = new Uint8Array(mapping);
      await io.prefaultAsync(mapping, 0, 8192);
      bytes.set(new TextEncoder().encode('hello'), 4096);
      io.msync(mapping, 4096, 5);
      io.madvise(mapping, 0, 8192, constants.MADV_SEQUENTIAL);
      await io.fdatasyncAsync(fd);
      expect(readFileSync(path).subarray(4096, 4101).toString()).toBe('hello');
      io.fallocate(fd, 8192, 8192);
      bytes[12000] = 7;
      expect(readFileSync(path)[12000]).toBe(7);
      io.munmap(mapping);
    } finally {
      io.close(fd);
    }
  });

  it('detaches the buffer on munmap: old views read as empty instead of faulting', () => {
    const path = join(tempDir(), 'detach');
    writeFileSync(path, Buffer.alloc(4096, 1));
    const fd = io.open(path, fsConstants.O_RDONLY);
    const mapping = io.mmap(fd, 4096, 0, false);
    const view = new Uint8Array(mapping);
    expect(view[100]).toBe(1);
    io.munmap(mapping);
    expect(mapping.byteLength).toBe(0);
    expect(view.length).toBe(0);
    expect(view[100]).toBeUndefined();
    expect(() => io.munmap(mapping)).toThrow(/not a live mapping/);
    expect(() => io.munmap(new ArrayBuffer(8))).toThrow(/not a live mapping/);
    io.close(fd);
  });

  it('defers the unmap while a prefault is still running on the thread pool', async () => {
    const path = join(tempDir(), 'prefault');
    const fd = io.open(path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    io.fallocate(fd, 0, 16 << 20);
    const mapping = io.mmap(fd, 16 << 20, 0, true);
    const pending = io.prefaultAsync(mapping, 0, 16 << 20);
    io.munmap(mapping); // must not pull the range from under the running prefault
    await pending.catch(() => {}); // succeeds or reports; either way the process survives
    io.close(fd);
  });

  it('refuses bad mapping arguments with typed errors', () => {
    const path = join(tempDir(), 'args');
    writeFileSync(path, Buffer.alloc(8192));
    const fd = io.open(path, fsConstants.O_RDWR);
    expect(() => io.mmap(fd, 0, 0, false)).toThrow(RangeError);
    expect(() => io.mmap(fd, 4096, 100, false)).toThrow(/page size/);
    const mapping = io.mmap(fd, 8192, 0, true);
    expect(() => io.madvise(mapping, 0, 1 << 20, constants.MADV_WILLNEED)).toThrow(RangeError);
    expect(() => io.prefaultAsync(mapping, 8000, 4096)).toThrow(RangeError);
    io.munmap(mapping);
    io.close(fd);
  });
});

describe('async work and thread teardown', () => {
  it('survives threads that exit while their prefault and fdatasync work is still running', async () => {
    const { Worker } = await import('node:worker_threads');
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'rill-teardown-'));
    try {
      const path = join(dir, 'file');
      writeFileSync(path, Buffer.alloc(8 << 20));
      const script = new URL('./fixtures/exit-with-work-pending.mjs', import.meta.url);
      for (let i = 0; i < 20; i++) {
        const worker = new Worker(script, { workerData: { path } });
        const code = await new Promise<number>((resolve, reject) => {
          worker.once('exit', resolve);
          worker.once('error', reject);
        });
        expect(code).toBe(0);
      }
      // Reaching here means the process was not aborted by a completion callback.
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
