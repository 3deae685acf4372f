// The injected network cut table and the gossip and Raft transports that obey it.

import { describe, expect, it } from 'vitest';
import { NodeIsolation, isolatableGossipTransport, isolatableRaftTransport, type GossipTransport, type RaftTransport } from '../../src/cluster/index.js';

describe('NodeIsolation', () => {
  it('cuts an isolated node from every other node, both ways, never from itself, until healed', () => {
    const isolation = new NodeIsolation();
    expect(isolation.cuts(1, 2)).toBe(false);
    isolation.isolate(2);
    expect([isolation.cuts(1, 2), isolation.cuts(2, 1), isolation.cuts(2, 3), isolation.cuts(1, 3), isolation.cuts(2, 2)]).toEqual([true, true, true, false, false]);
    isolation.heal(2);
    expect(isolation.cuts(1, 2)).toBe(false);
  });

  it('shares its table through the buffer (what the owner workers are given)', () => {
    const isolation = new NodeIsolation();
    const view = new NodeIsolation(isolation.buffer);
    isolation.isolate(7);
    expect(view.isIsolated(7)).toBe(true);
  });

  it('refuses node ids outside the table', () => {
    expect(() => new NodeIsolation().isolate(-1)).toThrow(RangeError);
    expect(() => new NodeIsolation().isolate(70_000)).toThrow(RangeError);
    expect(new NodeIsolation().isIsolated(70_000)).toBe(false);
  });
});

describe('isolatable transports', () => {
  function fakeGossip() {
    const sent: string[] = [];
    let handler: (from: string, d: Uint8Array) => void = () => {};
    const transport: GossipTransport = { address: 'a:1', send: (to) => sent.push(to), listen: (h) => (handler = h), close: () => {} };
    return { transport, sent, deliver: (from: string) => handler(from, new Uint8Array(1)) };
  }

  it('gossip: drops what an isolated node sends and receives, and nothing once healed', () => {
    const isolation = new NodeIsolation();
    const inner = fakeGossip();
    const received: string[] = [];
    const t = isolatableGossipTransport(inner.transport, isolation, 1);
    t.listen((from) => received.push(from));
    isolation.isolate(1);
    t.send('b:2', new Uint8Array(1));
    inner.deliver('b:2');
    expect([inner.sent, received]).toEqual([[], []]);
    isolation.heal(1);
    t.send('b:2', new Uint8Array(1));
    inner.deliver('b:2');
    expect([inner.sent, received]).toEqual([['b:2'], ['b:2']]);
  });

  it('raft: drops frames to an isolated peer and everything while itself isolated', () => {
    const isolation = new NodeIsolation();
    const sent: number[] = [];
    let handler: (frame: Uint8Array) => void = () => {};
    const inner: RaftTransport = { send: (to) => sent.push(to), listen: (h) => (handler = h), close: () => {} };
    let received = 0;
    const t = isolatableRaftTransport(inner, isolation, 1);
    t.listen(() => received++);
    isolation.isolate(3);
    t.send(2, new Uint8Array(1));
    t.send(3, new Uint8Array(1));
    handler(new Uint8Array(1));
    expect([sent, received]).toEqual([[2], 1]);
    isolation.isolate(1);
    t.send(2, new Uint8Array(1));
    handler(new Uint8Array(1));
    expect([sent, received]).toEqual([[2], 1]);
  });
});
