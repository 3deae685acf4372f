import { describe, expect, it } from 'vitest';
import { BatchSender, type OutgoingMessage } from '../../src/cli/batch-sender.js';

const message = (text: string): OutgoingMessage => ({ value: Buffer.from(text) });

/** A send() whose calls the test settles by hand. */
function manualSend() {
  const calls: { messages: OutgoingMessage[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  const send = (messages: OutgoingMessage[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ messages, resolve, reject });
    });
  return { calls, send };
}

describe('BatchSender', () => {
  it('sends full batches by count and by bytes, and the rest on flush', async () => {
    const sent: string[][] = [];
    const sender = new BatchSender(async (messages) => void sent.push(messages.map((m) => m.value.toString())), { maxBatchMessages: 3, maxBatchBytes: 10 });
    for (const text of ['a', 'b', 'c', 'd', 'eeeeee', 'ffff', 'g']) await sender.add(message(text));
    await sender.close();
    expect(sent).toEqual([['a', 'b', 'c'], ['d', 'eeeeee'], ['ffff', 'g']]);
    expect(sender.acknowledged).toBe(7);
  });

  it('holds add() while maxInFlight sends are out', async () => {
    const { calls, send } = manualSend();
    const sender = new BatchSender(send, { maxInFlight: 2, maxBatchMessages: 1 });
    await sender.add(message('1'));
    await sender.add(message('2'));
    let third = false;
    const adding = sender.add(message('3')).then(() => (third = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(2);
    expect(third).toBe(false);
    calls[0].resolve();
    await adding;
    expect(calls).toHaveLength(3);
    calls[1].resolve();
    calls[2].resolve();
    await sender.close();
    expect(sender.acknowledged).toBe(3);
    expect(sender.sent).toBe(3);
  });

  it('stops at the first failure, and counts only what was acknowledged', async () => {
    const { calls, send } = manualSend();
    const acknowledged: number[] = [];
    const sender = new BatchSender(send, { maxInFlight: 3, maxBatchMessages: 2, onAcknowledged: (n) => acknowledged.push(n) });
    for (const text of ['1', '2', '3', '4', '5']) await sender.add(message(text));
    expect(calls).toHaveLength(2);
    calls[0].resolve();
    calls[1].reject(new Error('disk on fire'));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(sender.add(message('6'))).rejects.toThrow('disk on fire');
    await expect(sender.close()).rejects.toThrow('disk on fire');
    expect(calls).toHaveLength(2);
    expect(sender.acknowledged).toBe(2);
    expect(acknowledged).toEqual([2]);
  });

  it('close() waits for every send before it reports a failure', async () => {
    const { calls, send } = manualSend();
    const sender = new BatchSender(send, { maxInFlight: 2, maxBatchMessages: 1 });
    await sender.add(message('1'));
    await sender.add(message('2'));
    calls[0].reject(new Error('lost'));
    let closed = false;
    const closing = sender.close().catch((error: Error) => {
      closed = true;
      return error;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    calls[1].resolve();
    expect(((await closing) as Error).message).toBe('lost');
    expect(sender.acknowledged).toBe(1);
  });
});
