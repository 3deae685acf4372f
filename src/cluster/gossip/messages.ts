// SWIM gossip datagrams and their codec. Any thread; no I/O.
//
// Every datagram is one cluster envelope (../envelope.ts) with kind = message type and a
// fixed-order array body (never reorder released fields; extend under a new version):
//
//   PING      [seq, fromId, targetId, updates]
//   ACK       [seq, fromId, updates]
//   PING_REQ  [seq, fromId, targetId, targetAddress, updates]   "ping target for me"
//   SYNC      [fromId, reply, members]                          full-state exchange (join, anti-entropy)
//
//   update    [state, id, incarnation, info | null, by | null]  info only with ALIVE; by: who
//                                                               suspects (SUSPECT) or declared (DEAD)
//   info      [address, host, ports, rack, load]                ports and load: { name: number }
//   members   [update, ...]
//
// Sizes: a member's ALIVE update is about 100 bytes, so piggybacking at most
// MAX_PIGGYBACK updates and chunking SYNC replies by SYNC_CHUNK members keeps datagrams under
// ~1,400 bytes (the safe payload of a 1,500-byte MTU) for typical members.

import { decodeEnvelope, encodeEnvelope, isUint, type DecodedEnvelope } from '../envelope.js';

export const GOSSIP_PROTOCOL_VERSION = 1;
export const MAX_PIGGYBACK = 8;
export const SYNC_CHUNK = 10;

export const GossipKind = Object.freeze({ PING: 1, ACK: 2, PING_REQ: 3, SYNC: 4 });

/** A member's state as gossip knows it; the numbers are the wire values. */
export const MemberState = Object.freeze({ ALIVE: 0, SUSPECT: 1, DEAD: 2, LEFT: 3 });
export type MemberState = (typeof MemberState)[keyof typeof MemberState];

/** What a member says about itself: where to reach it and what it carries. */
export interface MemberInfo {
  /** Gossip address, "host:port" (where PINGs go). */
  readonly address: string;
  /** Host of its other listeners. */
  readonly host: string;
  /** Named ports: broker, raft, http, ... */
  readonly ports: Readonly<Record<string, number>>;
  readonly rack: string | null;
  /** Load figures (partitions, bytesInPerSec, ...), refreshed with updateSelf(). */
  readonly load: Readonly<Record<string, number>>;
}

export interface MemberUpdate {
  readonly state: MemberState;
  readonly id: number;
  readonly incarnation: number;
  /** Present with ALIVE. */
  readonly info: MemberInfo | null;
  /** With SUSPECT and DEAD: the member whose probe failed (independent suspicions shorten the timeout). */
  readonly by: number | null;
}

export interface Ping {
  readonly type: 'ping';
  readonly seq: number;
  readonly from: number;
  readonly target: number;
  readonly updates: readonly MemberUpdate[];
}

export interface Ack {
  readonly type: 'ack';
  readonly seq: number;
  readonly from: number;
  readonly updates: readonly MemberUpdate[];
}

export interface PingReq {
  readonly type: 'ping-req';
  readonly seq: number;
  readonly from: number;
  readonly target: number;
  readonly targetAddress: string;
  readonly updates: readonly MemberUpdate[];
}

export interface Sync {
  readonly type: 'sync';
  readonly from: number;
  /** A reply is not answered (that would loop). */
  readonly reply: boolean;
  readonly members: readonly MemberUpdate[];
}

export type GossipMessage = Ping | Ack | PingReq | Sync;

export type DecodedGossipMessage = { ok: true; message: GossipMessage } | Extract<DecodedEnvelope, { ok: false }>;

export function encodeGossipMessage(clusterId: string, m: GossipMessage): Uint8Array {
  const v = GOSSIP_PROTOCOL_VERSION;
  switch (m.type) {
    case 'ping':
      return encodeEnvelope(clusterId, v, GossipKind.PING, [m.seq, m.from, m.target, m.updates.map(encodeUpdate)]);
    case 'ack':
      return encodeEnvelope(clusterId, v, GossipKind.ACK, [m.seq, m.from, m.updates.map(encodeUpdate)]);
    case 'ping-req':
      return encodeEnvelope(clusterId, v, GossipKind.PING_REQ, [m.seq, m.from, m.target, m.targetAddress, m.updates.map(encodeUpdate)]);
    case 'sync':
      return encodeEnvelope(clusterId, v, GossipKind.SYNC, [m.from, m.reply, m.members.map(encodeUpdate)]);
  }
}

export function decodeGossipMessage(bytes: Uint8Array, clusterId: string): DecodedGossipMessage {
  const envelope = decodeEnvelope(bytes, clusterId, GOSSIP_PROTOCOL_VERSION);
  if (!envelope.ok) return envelope;
  const message = parseBody(envelope.kind, envelope.body);
  return message === null ? { ok: false, reason: 'malformed' } : { ok: true, message };
}

function encodeUpdate(u: MemberUpdate): unknown[] {
  const info = u.info === null ? null : [u.info.address, u.info.host, u.info.ports, u.info.rack, u.info.load];
  return [u.state, u.id, u.incarnation, info, u.by];
}

function parseBody(kind: number, body: unknown): GossipMessage | null {
  if (!Array.isArray(body)) return null;
  const b = body as unknown[];
  switch (kind) {
    case GossipKind.PING: {
      if (b.length !== 4 || !isUint(b[0]) || !isUint(b[1]) || !isUint(b[2])) return null;
      const updates = parseUpdates(b[3]);
      return updates === null ? null : { type: 'ping', seq: b[0], from: b[1], target: b[2], updates };
    }
    case GossipKind.ACK: {
      if (b.length !== 3 || !isUint(b[0]) || !isUint(b[1])) return null;
      const updates = parseUpdates(b[2]);
      return updates === null ? null : { type: 'ack', seq: b[0], from: b[1], updates };
    }
    case GossipKind.PING_REQ: {
      if (b.length !== 5 || !isUint(b[0]) || !isUint(b[1]) || !isUint(b[2]) || typeof b[3] !== 'string') return null;
      const updates = parseUpdates(b[4]);
      return updates === null ? null : { type: 'ping-req', seq: b[0], from: b[1], target: b[2], targetAddress: b[3], updates };
    }
    case GossipKind.SYNC: {
      if (b.length !== 3 || !isUint(b[0]) || typeof b[1] !== 'boolean') return null;
      const members = parseUpdates(b[2]);
      return members === null ? null : { type: 'sync', from: b[0], reply: b[1], members };
    }
    default:
      return null;
  }
}

function parseUpdates(raw: unknown): MemberUpdate[] | null {
  if (!Array.isArray(raw)) return null;
  const out: MemberUpdate[] = [];
  for (const item of raw as unknown[]) {
    const update = parseUpdate(item);
    if (update === null) return null;
    out.push(update);
  }
  return out;
}

function parseUpdate(raw: unknown): MemberUpdate | null {
  if (!Array.isArray(raw) || raw.length !== 5) return null;
  const [state, id, incarnation, info, by] = raw as unknown[];
  if (state !== MemberState.ALIVE && state !== MemberState.SUSPECT && state !== MemberState.DEAD && state !== MemberState.LEFT) return null;
  if (!isUint(id) || !isUint(incarnation) || (by !== null && !isUint(by))) return null;
  if (state === MemberState.ALIVE) {
    const parsed = parseInfo(info);
    return parsed === null || by !== null ? null : { state, id, incarnation, info: parsed, by: null };
  }
  return info === null ? { state, id, incarnation, info: null, by } : null;
}

function parseInfo(raw: unknown): MemberInfo | null {
  if (!Array.isArray(raw) || raw.length !== 5) return null;
  const [address, host, ports, rack, load] = raw as unknown[];
  if (typeof address !== 'string' || typeof host !== 'string' || (rack !== null && typeof rack !== 'string')) return null;
  if (!isNumberRecord(ports) || !isNumberRecord(load)) return null;
  return { address, host, ports, rack, load };
}

function isNumberRecord(value: unknown): value is Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  return Object.values(value).every((v) => typeof v === 'number' && Number.isFinite(v));
}
