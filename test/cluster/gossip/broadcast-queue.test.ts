// Piggyback dissemination: bounded retransmission, least-sent first, newer news replaces older.

import { describe, expect, it } from 'vitest';
import { BroadcastQueue } from '../../../src/cluster/gossip/broadcast-queue.js';
import { MemberState, type MemberUpdate } from '../../../src/cluster/gossip/messages.js';

const suspect = (id: number, incarnation = 0): MemberUpdate => ({ state: MemberState.SUSPECT, id, incarnation, info: null, by: 1 });

describe('BroadcastQueue', () => {
  it('sends each update `limit` times, then retires it', () => {
    const q = new BroadcastQueue();
    q.enqueue(suspect(2));
    for (let i = 0; i < 3; i++) expect(q.take(8, 3).map((u) => u.id)).toEqual([2]);
    expect(q.take(8, 3)).toEqual([]);
    expect(q.size).toBe(0);
  });

  it('gives the least-sent updates the room first, and caps each datagram', () => {
    const q = new BroadcastQueue();
    q.enqueue(suspect(2));
    q.take(8, 10);
    q.enqueue(suspect(3));
    q.enqueue(suspect(4));
    expect(q.take(2, 10).map((u) => u.id)).toEqual([4, 3]);
  });

  it('replaces the queued update about a member, and puts a forced first update in front', () => {
    const q = new BroadcastQueue();
    q.enqueue(suspect(2, 0));
    q.enqueue(suspect(2, 5));
    expect(q.take(8, 10)).toEqual([suspect(2, 5)]);
    expect(q.take(8, 10, suspect(9)).map((u) => u.id)).toEqual([9, 2]);
  });
});
