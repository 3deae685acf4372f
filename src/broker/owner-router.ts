// Sends data requests to partition owners over their rings and matches the answers. Main thread.
//
// Each slot has a request ring (written here) and a response ring (drained here by one pump per
// slot). A request gets an id; its answer comes back with the id, in any order. When a slot's
// thread dies, every request in flight to it fails at once with LEADER_NOT_AVAILABLE (retriable:
// the partition comes back when the replacement has recovered it) — never a hang.
//
// Bounds: in-flight requests per slot are capped (MAX_IN_FLIGHT_PER_SLOT); past the cap, or when
// the ring is full, send() reports 'full' and the caller (a connection) pauses its socket and
// waits on whenWritable(). Nothing queues here.

import { Errors } from '../errors.js';
import { type Logger } from '../logger.js';
import { type SlotRings } from '../threads/slot-pool.js';
import { OwnerKind, decodeOwnerResult, encodeOwnerRequest, type EndWaitMeta, type ErrorResult } from './owner-messages.js';

/** Requests in flight to one owner; with 64-ish connections this is plenty, and it bounds memory. */
export const MAX_IN_FLIGHT_PER_SLOT = 4096;

/** A request handed to request(): see there. */
export interface OwnerRequest {
  sent: Promise<void> | null;
  answer: Promise<unknown>;
  requestId: number;
}

/** What a request to a slot without a live owner gets: retriable, the partition comes back. */
export function ownerDown(slot: number): ErrorResult {
  return { errorCode: Errors.LEADER_NOT_AVAILABLE.code, message: `the owner of this partition (worker ${slot}) is restarting; retry` };
}

interface Pending {
  slot: number;
  resolve(meta: unknown): void;
}

interface SlotState {
  rings: SlotRings | null;
  inFlight: number;
  /** Payload bytes of the last request that found the ring full: what a waiter needs. */
  wantedBytes: number;
  /** Callers waiting for room (bounded by the connections, one waiter each at most). */
  writable: (() => void)[];
  /** send() calls that found the slot full: backpressure events, for /metrics. */
  full: number;
}

/** One slot as /metrics shows it. */
export interface SlotFigures {
  worker: number;
  up: boolean;
  /** Bytes of the request ring in use / its capacity. */
  usedBytes: number;
  capacity: number;
  /** Requests awaiting this worker's answer. */
  inFlight: number;
  /** Times a request found the slot full (ring full or in-flight cap) and its sender had to wait. */
  backpressure: number;
}

export class OwnerRouter {
  private readonly slots: SlotState[];
  private readonly pending = new Map<number, Pending>();
  private readonly logger: Logger;
  private nextId = 1;
  private lastId = 0;
  private closed = false;

  constructor(slots: number, logger: Logger) {
    this.slots = Array.from({ length: slots }, () => ({ rings: null, inFlight: 0, wantedBytes: 0, writable: [], full: 0 }));
    this.logger = logger;
  }

  /** A slot's thread is up (at start, or a replacement): start draining its responses. */
  slotUp(slot: number, rings: SlotRings): void {
    const state = this.slots[slot];
    state.rings = rings;
    state.inFlight = 0;
    void this.pump(slot, rings);
    this.wakeWriters(state);
  }

  /** A slot's thread died: fail what was in flight to it, retriably. */
  slotDown(slot: number): void {
    const state = this.slots[slot];
    state.rings = null;
    state.inFlight = 0;
    const failure = ownerDown(slot);
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.pending.delete(id);
      p.resolve(failure);
    }
    this.wakeWriters(state);
  }

  /** Each slot's request ring and load, read from this thread's ends (no cross-thread call). */
  figures(): SlotFigures[] {
    return this.slots.map((state, worker) => ({
      worker,
      up: state.rings !== null,
      usedBytes: state.rings?.requests.usedBytes ?? 0,
      capacity: state.rings?.requests.capacity ?? 0,
      inFlight: state.inFlight,
      backpressure: state.full,
    }));
  }

  /** Whether the slot has a live owner right now. */
  isUp(slot: number): boolean {
    return this.slots[slot].rings !== null;
  }

  /**
   * Sends a request; `onResult` gets the owner's answer (or a LEADER_NOT_AVAILABLE result if the
   * owner dies first). Returns 'down' when the slot has no owner, 'full' when it cannot take more
   * now (retry after whenWritable()), else 'sent'. With `expectReply` false (acks=0) nothing waits.
   */
  send(slot: number, kind: OwnerKind, meta: unknown, body: Uint8Array | undefined, onResult: ((meta: unknown) => void) | null): 'sent' | 'full' | 'down' {
    const state = this.slots[slot];
    if (state.rings === null || this.closed) return 'down';
    if (state.inFlight >= MAX_IN_FLIGHT_PER_SLOT) {
      state.full++;
      return 'full';
    }
    const requestId = this.nextId;
    const parts = encodeOwnerRequest(requestId, kind, meta, body); // written before the next encode
    if (!state.rings.requests.tryWriteParts(parts)) {
      state.wantedBytes = parts.reduce((n, part) => n + part.length, 0);
      state.full++;
      return 'full';
    }
    this.lastId = requestId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    if (onResult !== null) {
      state.inFlight++;
      this.pending.set(requestId, { slot, resolve: onResult });
    }
    return 'sent';
  }

  /**
   * send() with the waiting done, for every front (binary connections, HTTP): when the slot is
   * full, waits for room and tries again, while the caller stops reading its input. `sent` is null
   * when the request went at once, else settles once it went or gave up. `answer` resolves with
   * the owner's result, or with a LEADER_NOT_AVAILABLE result when the slot is down (or
   * `cancelled()` turned true while waiting: the caller's client went away). `requestId` is set
   * once the request is in the ring (for endWait()).
   */
  request(slot: number, kind: OwnerKind, meta: unknown, body: Uint8Array | undefined, cancelled: () => boolean = () => false): OwnerRequest {
    let resolve!: (meta: unknown) => void;
    const request: OwnerRequest = { sent: null, answer: new Promise((r) => (resolve = r)), requestId: 0 };
    const attempt = (): boolean => {
      const outcome = this.send(slot, kind, meta, body, resolve);
      if (outcome === 'sent') request.requestId = this.lastId;
      else if (outcome === 'down') resolve(ownerDown(slot));
      return outcome !== 'full';
    };
    if (attempt()) return request;
    request.sent = (async () => {
      for (;;) {
        await this.whenWritable(slot);
        if (cancelled()) {
          resolve(ownerDown(slot));
          return;
        }
        if (attempt()) return;
      }
    })();
    return request;
  }

  /** The id given to the request of the last send() that returned 'sent'. */
  get lastRequestId(): number {
    return this.lastId;
  }

  /**
   * Asks the owner to end the long poll of fetch `requestId` now, so that it answers with what it
   * has. Best effort: with the ring full or the owner down the fetch ends at its maxWaitMs anyway.
   */
  endWait(slot: number, requestId: number): void {
    this.send(slot, OwnerKind.EndWait, { requestId } satisfies EndWaitMeta, undefined, null);
  }

  /**
   * Resolves when the slot may take the request that found it full (or changed state: up, down,
   * closing). At the in-flight cap, room comes back as answers are drained (the pump wakes us);
   * with a full ring, when the owner has drained enough for the request's size.
   */
  whenWritable(slot: number): Promise<void> {
    const state = this.slots[slot];
    return new Promise((resolve) => {
      state.writable.push(resolve);
      if (state.rings === null || state.inFlight >= MAX_IN_FLIGHT_PER_SLOT) return;
      const wanted = Math.min(state.wantedBytes, state.rings.requests.maxEntryBytes);
      state.rings.requests.waitForSpace(wanted).then(() => this.wakeWriters(state), () => this.wakeWriters(state));
    });
  }

  private wakeWriters(state: SlotState): void {
    const waiting = state.writable.splice(0);
    for (const wake of waiting) wake();
  }

  private async pump(slot: number, rings: SlotRings): Promise<void> {
    const state = this.slots[slot];
    try {
      while (!this.closed && state.rings === rings) {
        if (!(await rings.responses.waitForData())) return; // closed and drained
        if (state.rings !== rings) return;
        rings.responses.drain((entry) => {
          const message = decodeOwnerResult<unknown>(entry);
          const p = this.pending.get(message.requestId);
          if (p === undefined) return; // its slot went down and it was already answered
          this.pending.delete(message.requestId);
          state.inFlight--;
          p.resolve(message.meta);
        });
        if (state.writable.length > 0 && state.inFlight < MAX_IN_FLIGHT_PER_SLOT) this.wakeWriters(state);
      }
    } catch (error) {
      if (!this.closed && state.rings === rings) this.logger.error({ slot, err: error }, 'response ring failed');
    }
  }

  close(): void {
    this.closed = true;
    for (const state of this.slots) this.wakeWriters(state);
  }
}
