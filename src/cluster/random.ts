// A small seeded PRNG (sfc32, from PractRand's suite) for randomized timeouts and member choice.
// Any thread. Protocol code takes a `Random` so the simulations replay exactly from a seed;
// production seeds it from crypto. Not for anything secret.

import { randomBytes } from 'node:crypto';

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

export function seededRandom(seed: number): Random {
  // sfc32 state; the seed is spread by a few rounds so nearby seeds diverge at once.
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next32 = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) next32();
  const next = (): number => next32() / 0x1_0000_0000;
  return { next, int: (n) => Math.floor(next() * n) };
}

/** A generator seeded from the operating system's entropy. */
export function systemRandom(): Random {
  return seededRandom(randomBytes(4).readUInt32LE(0));
}

/** Fisher-Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
