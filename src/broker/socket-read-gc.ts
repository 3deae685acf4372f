// Bounds the memory that socket reads already consumed hold on the main thread. Main thread.
//
// Node reads a socket into a fresh malloc'd buffer (64 KiB under load) and frees it only when V8
// collects the Buffer around it. V8 runs a young-generation GC for such memory only once 32 MiB
// of it has piled up in the young generation, whatever --max-semi-space-size says (measured on
// Node 20), and the malloc heap keeps its high-water mark afterwards. Under a produce flood the
// main thread copies each chunk into an owner's ring at once, yet ~32-40 MiB of the broker's RSS
// was such dead chunks. So after every READ_BYTES_PER_GC bytes read, the main thread runs a minor
// (scavenge) GC itself: it frees the dead chunks, costs ~0.2 ms with the little the main thread
// keeps in its young generation, and comes at most once per 8 MiB, which at 200 MB/s of produce
// is 25 a second. Measured (`npm run bench:broker -- --only=produce`): peak RSS of the 1 M flood
// 146-161 MiB before, 135-141 MiB after, throughput unchanged.
//
// V8 offers gc() only to code started with --expose-gc; the flag is set at run time and gc is
// taken from a fresh context (as Jest's leak detector does) and the flag is cleared again, so no
// global scope, this one or a later worker's, gets a `gc`.
// Where that fails nothing is forced and V8 collects as it would anyway.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes read from sockets between two forced minor GCs. */
export const READ_BYTES_PER_GC = 8 * 1024 * 1024;

type MinorGc = (options: { type: 'minor' }) => void;

let minorGc: MinorGc | null | undefined; // undefined: not looked up yet
let readSinceGc = 0;

function lookUpGc(): MinorGc | null {
  try {
    setFlagsFromString('--expose-gc');
    try {
      const gc: unknown = runInNewContext('typeof gc === "function" ? gc : null');
      return typeof gc === 'function' ? (gc as MinorGc) : null;
    } finally {
      // Contexts made later (a replacement worker's, say) get no global gc.
      setFlagsFromString('--no-expose-gc');
    }
  } catch {
    return null;
  }
}

/** Counts bytes read from a socket; every READ_BYTES_PER_GC of them, frees the dead read buffers. */
export function noteSocketRead(bytes: number): void {
  readSinceGc += bytes;
  if (readSinceGc < READ_BYTES_PER_GC) return;
  readSinceGc = 0;
  if (minorGc === undefined) minorGc = lookUpGc();
  minorGc?.({ type: 'minor' });
}
