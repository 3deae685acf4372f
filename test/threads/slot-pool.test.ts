import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { SlotPool, type SlotRings } from '../../src/threads/slot-pool.js';

const workerFile = fileURLToPath(new URL('./fixtures/slot-echo-worker.ts', import.meta.url));
// vitest transpiles the test itself; the threads load TypeScript through tsx.
const execArgv = ['--import', 'tsx'];
let pool: SlotPool | null = null;

afterEach(async () => {
  await pool?.close();
  pool = null;
});

async function echo(rings: SlotRings, text: string): Promise<string> {
  expect(rings.requests.tryWrite(new TextEncoder().encode(text))).toBe(true);
  let reply: string | null = null;
  while (reply === null) {
    await rings.responses.waitForData();
    rings.responses.drain((entry) => (reply = new TextDecoder().decode(entry)), 1);
  }
  return reply;
}

describe('SlotPool', () => {
  it('binds one thread per slot and routes tasks and ring traffic by slot', async () => {
    pool = await SlotPool.start({ filename: workerFile, slots: 3, ringBytes: 64 * 1024, execArgv });
    const who = await Promise.all([0, 1, 2].map((slot) => pool!.run<{ slot: number; threadId: number }>(slot, { op: 'whoami' })));
    expect(who.map((w) => w.slot)).toEqual([0, 1, 2]);
    expect(new Set(who.map((w) => w.threadId)).size).toBe(3);
    for (let slot = 0; slot < 3; slot++) expect(await echo(pool.rings(slot)!, `hello ${slot}`)).toBe(`hello ${slot}`);
    await expect(pool.run(7, { op: 'whoami' })).rejects.toThrow(RangeError);
  });

  it('takes a dead thread\'s slot down and brings it back up on a replacement with fresh rings', async () => {
    pool = await SlotPool.start({ filename: workerFile, slots: 2, ringBytes: 64 * 1024, execArgv });
    const before = await pool.run<{ threadId: number }>(1, { op: 'whoami' });
    const down = new Promise<number>((resolve) => pool!.once('slotDown', (slot) => resolve(slot)));
    const up = new Promise<number>((resolve) => pool!.on('slotUp', (slot) => slot === 1 && resolve(slot)));
    const oldRings = pool.rings(1)!;
    // The worker exits on the turn after answering; on a loaded machine piscina may see the exit
    // before the answer and reject the task instead. Either is fine: the claim is what follows.
    await pool.run(1, { op: 'crash' }).catch((error: Error) => expect(error.message).toMatch(/worker exited with code: 1/));
    expect(await down).toBe(1);
    expect(oldRings.requests.closed).toBe(true);
    expect(await up).toBe(1);
    const after = await pool.run<{ slot: number; threadId: number }>(1, { op: 'whoami' });
    expect(after.slot).toBe(1);
    expect(after.threadId).not.toBe(before.threadId);
    expect(await echo(pool.rings(1)!, 'again')).toBe('again');
    // The other slot never noticed.
    expect(await echo(pool.rings(0)!, 'still here')).toBe('still here');
  });
});
