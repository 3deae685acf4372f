import { describe, expect, it } from 'vitest';
import { type OwnerRouter } from '../../src/broker/owner-router.js';
import { Errors } from '../../src/errors.js';
import { MAX_IN_FLIGHT_PER_SLOT, ProduceCoalescer } from '../../src/http/produce-coalescer.js';
import { decodeRecordBatches } from '../../src/storage/index.js';

interface Sent {
  slot: number;
  meta: { topic: string; partition: number; acks: number };
  records: string[];
  answer(meta: unknown): void;
}

/** Records what would go to the owners; the test answers for them. */
function fakeRouter(): { router: OwnerRouter; sent: Sent[] } {
  const sent: Sent[] = [];
  const router = {
    request(slot: number, _kind: number, meta: Sent['meta'], body: Uint8Array) {
      let answer!: (meta: unknown) => void;
      const promise = new Promise<unknown>((resolve) => (answer = resolve));
      const records = decodeRecordBatches(body).flatMap((b) => b.records.map((r) => Buffer.from(r.value!).toString()));
      sent.push({ slot, meta, records, answer });
      return { sent: null, answer: promise, requestId: sent.length };
    },
  } as unknown as OwnerRouter;
  return { router, sent };
}

const values = (...v: string[]) => v.map((value) => ({ value }));
const never = () => false;
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('ProduceCoalescer', () => {
  it('sends the keyless messages of one turn to one partition, and moves on with each batch sent', async () => {
    const { router, sent } = fakeRouter();
    const coalescer = new ProduceCoalescer(router);
    const turns: number[][] = [];
    for (let t = 0; t < 4; t++) {
      const chosen = [0, 1, 2].map(() => coalescer.keylessPartition('t', 3));
      for (const p of chosen) void coalescer.append('t', p, p, 1, 1 << 20, values(`m${t}`), never);
      expect(coalescer.keylessPartition('other', 3)).toBe(0); // per topic
      turns.push(chosen);
      await turn();
      sent.at(-1)!.answer({ errorCode: 0, baseOffset: 0, logStartOffset: 0 });
    }
    expect(turns).toEqual([
      [0, 0, 0],
      [1, 1, 1],
      [2, 2, 2],
      [0, 0, 0],
    ]);
    expect(sent.map((s) => [s.meta.partition, s.records.length])).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
      [0, 3],
    ]);
    // Partitions the caller cannot use (in a cluster: led elsewhere) are passed over.
    expect(coalescer.keylessPartition('t', 3, (p) => p === 2)).toBe(2);
  });

  it('holds the next batches for an owner that still works on one, then sends them as one (Nagle)', async () => {
    expect(MAX_IN_FLIGHT_PER_SLOT).toBe(1);
    const { router, sent } = fakeRouter();
    const coalescer = new ProduceCoalescer(router);
    const first = coalescer.append('t', 0, 0, 1, 1 << 20, values('a'), never);
    await turn();
    expect(sent).toHaveLength(1);
    // Sent: keyless messages move on to partition 1, on the same busy owner (slot 0). Three
    // turns of requests for it wait, and keyless ones stay on partition 1 meanwhile.
    const held: Promise<unknown>[] = [];
    for (let t = 0; t < 3; t++) {
      expect(coalescer.keylessPartition('t', 3)).toBe(1);
      held.push(coalescer.append('t', 1, 0, 1, 1 << 20, values(`h${t}`), never));
      await turn();
    }
    // Another owner is not held up, nor are acks=0 batches (nothing would release them).
    void coalescer.append('t', 2, 1, 1, 1 << 20, values('other'), never);
    const fire = coalescer.append('t', 0, 0, 0, 1 << 20, values('fire'), never);
    await turn();
    expect(sent.map((s) => [s.slot, s.meta.acks, s.records])).toEqual([
      [0, 1, ['a']],
      [1, 1, ['other']],
      [0, 0, ['fire']],
    ]);
    expect(await fire).toMatchObject({ errorCode: 0 });
    // The answer releases the held requests as one batch, in their order, with their offsets.
    sent[0].answer({ errorCode: 0, baseOffset: 10, logStartOffset: 0 });
    expect((await first).baseOffset).toBe(10);
    await turn();
    expect(sent.map((s) => s.records)).toEqual([['a'], ['other'], ['fire'], ['h0', 'h1', 'h2']]);
    sent[3].answer({ errorCode: 0, baseOffset: 11, logStartOffset: 0 });
    expect(await Promise.all(held)).toMatchObject([{ baseOffset: 11 }, { baseOffset: 12 }, { baseOffset: 13 }]);
    expect(coalescer.keylessPartition('t', 3)).toBe(2);
  });

  it('sends a held batch at once when it reaches the size limit', async () => {
    const { router, sent } = fakeRouter();
    const coalescer = new ProduceCoalescer(router);
    void coalescer.append('t', 0, 0, 1, 3000, values('a'), never);
    await turn();
    // Each of these is estimated at ~930 bytes (3 per character): the fourth starts a new batch.
    for (let i = 0; i < 4; i++) void coalescer.append('t', 0, 0, 1, 3000, values(`${i}${'z'.repeat(300)}`), never);
    await turn();
    // Still in flight, yet the full batch went: holding it would only make the next one wait.
    expect(sent.map((s) => s.records.map((r) => r[0]))).toEqual([['a'], ['0', '1', '2']]);
  });

  it('puts the requests of one turn into one batch per partition and hands each its offsets', async () => {
    const { router, sent } = fakeRouter();
    const coalescer = new ProduceCoalescer(router);
    const a = coalescer.append('t', 0, 1, 1, 1 << 20, values('a1', 'a2'), never);
    const b = coalescer.append('t', 0, 1, 1, 1 << 20, values('b1'), never);
    const c = coalescer.append('t', 1, 0, 1, 1 << 20, values('c1'), never);
    await turn();
    expect(sent.map((s) => [s.meta.partition, s.records])).toEqual([
      [0, ['a1', 'a2', 'b1']],
      [1, ['c1']],
    ]);
    sent[0].answer({ errorCode: 0, baseOffset: 40, logStartOffset: 0 });
    sent[1].answer({ errorCode: 0, baseOffset: 7, logStartOffset: 0 });
    expect((await a).baseOffset).toBe(40);
    expect((await b).baseOffset).toBe(42);
    expect((await c).baseOffset).toBe(7);
  });

  it('gives every request of a failed batch the failure', async () => {
    const { router, sent } = fakeRouter();
    const coalescer = new ProduceCoalescer(router);
    const shares = [coalescer.append('t', 0, 0, 1, 1 << 20, values('x'), never), coalescer.append('t', 0, 0, 1, 1 << 20, values('y'), never)];
    await turn();
    sent[0].answer({ errorCode: Errors.STORAGE_ERROR.code, message: 'disk full', baseOffset: -1, logStartOffset: -1 });
    for (const share of await Promise.all(shares)) expect(share).toMatchObject({ errorCode: Errors.STORAGE_ERROR.code, message: 'disk full' });
  });

  it('starts a new batch before the limit, keeps request order, and fails a request too large alone', async () => {
    const { router, sent } = fakeRouter();
    const coalescer = new ProduceCoalescer(router);
    const limit = 1000;
    const big = 'z'.repeat(300);
    const shares = [1, 2, 3].map((i) => coalescer.append('t', 0, 0, 1, limit, values(`${i}${big}`), never));
    const alone = coalescer.append('t', 0, 0, 1, limit, values('w'.repeat(2000)), never);
    await turn();
    // Every batch sent is within the limit; the requests' order is kept.
    expect(sent.flatMap((s) => s.records.map((r) => r[0]))).toEqual(['1', '2', '3']);
    expect(sent.length).toBeGreaterThan(1);
    sent.forEach((s, i) => s.answer({ errorCode: 0, baseOffset: i * 10, logStartOffset: 0 }));
    for (const share of await Promise.all(shares)) expect(share.errorCode).toBe(0);
    expect(await alone).toMatchObject({ errorCode: Errors.MESSAGE_TOO_LARGE.code });
    expect((await alone).message).toMatch(/over the 1000 bytes allowed/);
  });

  it('keeps acks=0 and acks=1 apart, answers acks=0 once sent, and leaves out requests whose client left', async () => {
    const { router, sent } = fakeRouter();
    const coalescer = new ProduceCoalescer(router);
    const fire = coalescer.append('t', 0, 0, 0, 1 << 20, values('f'), never);
    const kept = coalescer.append('t', 0, 0, 1, 1 << 20, values('k'), never);
    void coalescer.append('t', 0, 0, 1, 1 << 20, values('gone'), () => true);
    await turn();
    expect(sent.map((s) => [s.meta.acks, s.records])).toEqual([
      [0, ['f']],
      [1, ['k']],
    ]);
    expect(await fire).toMatchObject({ errorCode: 0, baseOffset: -1 });
    sent[1].answer({ errorCode: 0, baseOffset: 3, logStartOffset: 0 });
    expect((await kept).baseOffset).toBe(3);
  });
});
