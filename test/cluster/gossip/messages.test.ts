// The gossip codec: round trips, and every kind of bad datagram is reported, never thrown.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEnvelope } from '../../../src/cluster/envelope.js';
import { decodeGossipMessage, encodeGossipMessage, GOSSIP_PROTOCOL_VERSION, GossipKind, MemberState, type GossipMessage, type MemberUpdate } from '../../../src/cluster/gossip/messages.js';

/**
 * Port and load names as members use them (broker, http, raft, cpu, ...). Not any string: msgpackr
 * decodes a "__proto__" key as "__proto_" on purpose (no prototype pollution from the network), so
 * such a name cannot round-trip, and no member sends one.
 */
const name = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,15}$/);
const id = fc.nat(10_000);
const update: fc.Arbitrary<MemberUpdate> = fc.oneof(
  fc.record({
    state: fc.constant(MemberState.ALIVE),
    id,
    incarnation: fc.nat(),
    info: fc.record({
      address: fc.string(),
      host: fc.string(),
      ports: fc.dictionary(name, fc.integer({ min: 0, max: 65535 })),
      rack: fc.option(fc.string(), { nil: null }),
      load: fc.dictionary(name, fc.double({ noNaN: true, noDefaultInfinity: true })),
    }),
    by: fc.constant(null),
  }),
  fc.record({ state: fc.constantFrom(MemberState.SUSPECT, MemberState.DEAD, MemberState.LEFT), id, incarnation: fc.nat(), info: fc.constant(null), by: fc.option(id, { nil: null }) }),
);
const updates = fc.array(update, { maxLength: 8 });
const message: fc.Arbitrary<GossipMessage> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), seq: fc.nat(), from: id, target: id, updates }),
  fc.record({ type: fc.constant('ack' as const), seq: fc.nat(), from: id, updates }),
  fc.record({ type: fc.constant('ping-req' as const), seq: fc.nat(), from: id, target: id, targetAddress: fc.string(), updates }),
  fc.record({ type: fc.constant('sync' as const), from: id, reply: fc.boolean(), members: updates }),
);

describe('gossip messages', () => {
  it('round-trip through the codec', () => {
    fc.assert(
      fc.property(message, (m) => {
        // -0 does not survive msgpack as -0; compare through JSON, which folds it to 0.
        expect(JSON.parse(JSON.stringify(decodeGossipMessage(encodeGossipMessage('c', m), 'c')))).toEqual(JSON.parse(JSON.stringify({ ok: true, message: m })));
      }),
    );
  });

  it('report foreign clusters, unknown versions and malformed bodies', () => {
    const ping: GossipMessage = { type: 'ping', seq: 1, from: 2, target: 3, updates: [] };
    expect(decodeGossipMessage(encodeGossipMessage('x', ping), 'c')).toEqual({ ok: false, reason: 'foreign-cluster' });
    expect(decodeGossipMessage(encodeEnvelope('c', GOSSIP_PROTOCOL_VERSION + 1, GossipKind.PING, [1, 2, 3, []]), 'c')).toEqual({ ok: false, reason: 'unsupported-version' });
    const malformed = [
      [GossipKind.PING, [1, 2, 3]],
      [GossipKind.ACK, [1, 2, [[MemberState.ALIVE, 1, 0, null, null]]]], // ALIVE without info
      [GossipKind.ACK, [1, 2, [[MemberState.DEAD, 1, 0, null, 'x']]]],
      [GossipKind.SYNC, [1, 'no', []]],
      [GossipKind.SYNC, [1, false, [[MemberState.ALIVE, 1, 0, ['a', 'b', { p: Infinity }, null, {}], null]]]],
      [42, []],
    ] as const;
    for (const [kind, body] of malformed) expect(decodeGossipMessage(encodeEnvelope('c', GOSSIP_PROTOCOL_VERSION, kind, body), 'c')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('never throw on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => void decodeGossipMessage(bytes, 'c')));
  });
});
