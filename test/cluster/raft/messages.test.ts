// The Raft wire codec: every message round-trips; foreign, future and malformed frames are
// reported (to be dropped and counted), never thrown.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEnvelope } from '../../../src/cluster/envelope.js';
import { decodeRaftMessage, encodeRaftMessage, EntryKind, MessageKind, RAFT_PROTOCOL_VERSION, type RaftMessage } from '../../../src/cluster/raft/messages.js';

const uint = fc.integer({ min: 0, max: 2 ** 40 });
const head = { from: fc.nat(1000), to: fc.nat(1000), term: uint };

const message: fc.Arbitrary<RaftMessage> = fc.oneof(
  fc.record({ type: fc.constant('vote' as const), ...head, preVote: fc.boolean(), lastLogIndex: uint, lastLogTerm: uint }),
  fc.record({ type: fc.constant('vote-response' as const), ...head, preVote: fc.boolean(), granted: fc.boolean() }),
  fc.record({ type: fc.constant('append-response' as const), ...head, success: fc.boolean(), matchIndex: uint, rejectedIndex: uint, hintIndex: uint, sentAt: uint }),
  fc.record({ type: fc.constant('snapshot' as const), ...head, lastIndex: uint, lastTerm: uint, sentAt: uint, data: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ type: fc.constant('snapshot-response' as const), ...head, matchIndex: uint, sentAt: uint }),
  fc
    .record({ ...head, prevLogIndex: uint, prevLogTerm: uint, leaderCommit: uint, sentAt: uint, datas: fc.array(fc.uint8Array({ maxLength: 32 }), { maxLength: 5 }) })
    .map(({ datas, ...m }) => ({
      type: 'append' as const,
      ...m,
      entries: datas.map((data, i) => ({ index: m.prevLogIndex + i + 1, term: m.term, kind: data.length === 0 ? EntryKind.NOOP : EntryKind.COMMAND, data })),
    })),
);

describe('Raft messages', () => {
  it('round-trip through the codec', () => {
    fc.assert(
      fc.property(message, (m) => {
        const decoded = decodeRaftMessage(encodeRaftMessage('c1', m), 'c1');
        expect(decoded.ok).toBe(true);
        if (decoded.ok) expect(normalize(decoded.message)).toEqual(normalize(m));
      }),
    );
  });

  it('report frames of another cluster or another version', () => {
    const m: RaftMessage = { type: 'vote', from: 1, to: 2, term: 3, preVote: true, lastLogIndex: 4, lastLogTerm: 2 };
    expect(decodeRaftMessage(encodeRaftMessage('other', m), 'c1')).toEqual({ ok: false, reason: 'foreign-cluster' });
    const future = encodeEnvelope('c1', RAFT_PROTOCOL_VERSION + 1, MessageKind.VOTE, [1, 2, 3, true, 4, 2]);
    expect(decodeRaftMessage(future, 'c1')).toEqual({ ok: false, reason: 'unsupported-version' });
  });

  it('report bodies that do not fit the declared kind as malformed', () => {
    const bad = [
      [MessageKind.VOTE, [1, 2, 3, 'yes', 4, 2]],
      [MessageKind.VOTE, [1, 2, -3, true, 4, 2]],
      [MessageKind.APPEND, [1, 2, 3, 0, 0, 0, 0, [[2, 1, 1, new Uint8Array(0)]]]], // gap after prevLogIndex
      [MessageKind.APPEND, [1, 2, 3, 0, 0, 0, 0, [[1, 1, 9, new Uint8Array(0)]]]], // unknown entry kind
      [99, [1, 2, 3]],
    ] as const;
    for (const [kind, body] of bad) expect(decodeRaftMessage(encodeEnvelope('c1', RAFT_PROTOCOL_VERSION, kind, body), 'c1')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('never throw on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const decoded = decodeRaftMessage(bytes, 'c1');
        if (!decoded.ok) expect(['malformed', 'foreign-cluster', 'unsupported-version']).toContain(decoded.reason);
      }),
    );
  });
});

/** Decoded binaries are Buffers; compare contents. */
function normalize(m: RaftMessage): unknown {
  return JSON.parse(
    JSON.stringify(m, function (this: Record<string, unknown>, key: string, value: unknown) {
      const raw = this[key];
      return raw instanceof Uint8Array ? Array.from(raw) : value;
    }),
  );
}
