import { describe, expect, it } from 'vitest';
import { runInNewContext } from 'node:vm';
import { READ_BYTES_PER_GC, noteSocketRead } from '../../src/broker/socket-read-gc.js';

const CHUNK = 64 * 1024; // what Node reads a busy socket into

/** Allocates `total` bytes of dead 64 KiB buffers, as a stream of socket reads leaves behind; the most that stayed allocated. */
function readChunks(total: number, onChunk: (bytes: number) => void): number {
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0;
  for (let read = 0; read < total; read += CHUNK) {
    const chunk = Buffer.allocUnsafeSlow(CHUNK); // its own malloc'd backing store, as a socket read's
    chunk[0] = 1;
    onChunk(chunk.length);
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
  }
  return peak;
}

describe('socket read GC', () => {
  it('frees consumed read buffers every READ_BYTES_PER_GC bytes, where V8 alone lets them pile up', () => {
    const total = 16 * READ_BYTES_PER_GC;
    // V8 on its own: dead chunks pile up to 32 MiB (Node 20) before a GC takes them.
    const alone = readChunks(total, () => {});
    // Counted: about one bound's worth, a little more while V8 sweeps freed buffers in the background.
    const counted = readChunks(total, noteSocketRead);
    expect(alone).toBeGreaterThan(3 * READ_BYTES_PER_GC);
    expect(counted).toBeLessThanOrEqual(2 * READ_BYTES_PER_GC);
  });

  it('leaves no global gc behind, here or in contexts made later', () => {
    for (let i = 0; i < 2; i++) noteSocketRead(READ_BYTES_PER_GC); // looks gc up, and uses it
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
