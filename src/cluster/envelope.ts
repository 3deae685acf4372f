// The outer frame of every cluster message, gossip datagram and Raft frame alike: a msgpackr
// array [clusterId, protocolVersion, kind, body]. Any thread.
//
// Receivers check the frame before anything else. A frame from another cluster (two clusters on
// one network, a misconfigured seed), an unknown protocol version or bytes that do not decode are
// dropped and counted, never thrown: a stray packet must not crash or confuse a node. Kinds are
// small integers owned by each channel (gossip/messages.ts, raft/messages.ts).

import { Packr } from 'msgpackr';

/** Position of each field in the envelope array. */
const CLUSTER_ID = 0;
const VERSION = 1;
const KIND = 2;
const BODY = 3;
const FIELDS = 4;

// Plain arrays and maps (no msgpackr record extension): a peer running another msgpackr version,
// or another language, decodes them. Binary stays binary (Uint8Array), and maps decode as objects.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export type DropReason = 'malformed' | 'foreign-cluster' | 'unsupported-version';

export type DecodedEnvelope =
  | { ok: true; kind: number; body: unknown }
  | { ok: false; reason: DropReason };

export function encodeEnvelope(clusterId: string, version: number, kind: number, body: unknown): Uint8Array {
  return packr.pack([clusterId, version, kind, body]);
}

export function decodeEnvelope(bytes: Uint8Array, clusterId: string, version: number): DecodedEnvelope {
  let frame: unknown;
  try {
    frame = packr.unpack(bytes);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!Array.isArray(frame) || frame.length !== FIELDS || typeof frame[KIND] !== 'number') {
    return { ok: false, reason: 'malformed' };
  }
  if (frame[CLUSTER_ID] !== clusterId) return { ok: false, reason: 'foreign-cluster' };
  if (frame[VERSION] !== version) return { ok: false, reason: 'unsupported-version' };
  return { ok: true, kind: frame[KIND], body: frame[BODY] };
}

/** Counts of dropped frames, by reason; exported as metrics by the owner. */
export class DropCounters {
  malformed = 0;
  foreignCluster = 0;
  unsupportedVersion = 0;

  count(reason: DropReason): void {
    if (reason === 'malformed') this.malformed++;
    else if (reason === 'foreign-cluster') this.foreignCluster++;
    else this.unsupportedVersion++;
  }

  get total(): number {
    return this.malformed + this.foreignCluster + this.unsupportedVersion;
  }
}

// --- validation helpers for message bodies ---------------------------------------------------------

export function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}
