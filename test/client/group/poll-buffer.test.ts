// The poll buffer: bounded, filtered on take, released on drop.

import { describe, expect, it } from 'vitest';
import { PollBuffer } from '../../../src/client/group/poll-buffer.js';
import { type EachMessagePayload } from '../../../src/client/consumer.js';

const msg = (partition: number, offset: number) => ({ topic: 't', partition, message: { offset } }) as unknown as EachMessagePayload;

describe('poll buffer', () => {
  it('hands out at most max messages in arrival order, skipping what keep() refuses', async () => {
    const buffer = new PollBuffer(100);
    for (let i = 0; i < 5; i++) expect(buffer.push(msg(i % 2, i))).toBeUndefined();
    const taken = await buffer.take(2, 0, (p) => p.partition === 0);
    expect(taken.map((p) => p.message.offset)).toEqual([0, 2]);
    expect(buffer.size).toBe(1);
  });

  it('a full buffer holds the fetch path until poll() takes or a revocation drops messages', async () => {
    const buffer = new PollBuffer(2);
    expect(buffer.push(msg(0, 0))).toBeUndefined();
    let released = false;
    void buffer.push(msg(1, 1))!.then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    buffer.drop((p) => p.partition === 1);
    await Promise.resolve();
    expect(released).toBe(true);
    expect(buffer.size).toBe(1);
  });

  it('take() waits for the first message when none is ready', async () => {
    const buffer = new PollBuffer(10);
    const taking = buffer.take(10, 10_000, () => true);
    buffer.push(msg(0, 7));
    expect((await taking).map((p) => p.message.offset)).toEqual([7]);
  });
});
