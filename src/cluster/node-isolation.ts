// Injected network cuts between whole nodes, for fault tests of real nodes in one process: a table
// of isolated node ids that every path between nodes consults — gossip and Raft here (wrapping
// their transports), replica fetches and AlterIsr on the owner workers, admin forwarding on the
// main thread. An isolated node reaches nobody and nobody reaches it; it still reaches itself (a
// cut network leaves loopback alone). Client connections are not cut: a test can still ask the
// isolated node, and must, to see that what it cannot replicate is never acknowledged.
//
// Any thread: the table lives in a SharedArrayBuffer handed to the owner workers, so a cut takes
// effect on the main thread and on every worker at once (Atomics loads, no messages to lose).
// Production never creates one; every seam defaults to "no cut" and costs one null check.
//
// Layout: one Int32 cell per node id in [0, MAX_NODE_ID]; 1 = isolated, 0 = connected.

import { Errors, RillError } from '../errors.js';
import type { GossipTransport } from './gossip/gossip-transport.js';
import type { RaftTransport } from './raft/raft-transport.js';

/** Node ids a table covers: every cluster node id (they are below CLUSTER_NODE_STRIDE, 65,536). 256 KiB. */
export const MAX_ISOLATED_NODE_ID = 65_535;
const ISOLATED = 1;
const CONNECTED = 0;

export class NodeIsolation {
  /** The table's memory: pass it to other threads and wrap it there with `new NodeIsolation(buffer)`. */
  readonly buffer: SharedArrayBuffer;
  private readonly cells: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer((MAX_ISOLATED_NODE_ID + 1) * Int32Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer;
    this.cells = new Int32Array(buffer);
  }

  /** Cuts node `id` off from every other node, both directions, from now on. */
  isolate(id: number): void {
    Atomics.store(this.cells, checkedId(id), ISOLATED);
  }

  /** Reconnects node `id`. */
  heal(id: number): void {
    Atomics.store(this.cells, checkedId(id), CONNECTED);
  }

  isIsolated(id: number): boolean {
    return id >= 0 && id <= MAX_ISOLATED_NODE_ID && Atomics.load(this.cells, id) === ISOLATED;
  }

  /** Whether traffic between nodes `a` and `b` is cut (never between a node and itself). */
  cuts(a: number, b: number): boolean {
    return a !== b && (this.isIsolated(a) || this.isIsolated(b));
  }
}

function checkedId(id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > MAX_ISOLATED_NODE_ID) throw new RangeError(`node id ${id} is outside the isolation table (0..${MAX_ISOLATED_NODE_ID})`);
  return id;
}

/** The error a request across a cut fails with: retriable, as a lost connection is. */
export function cutError(from: number, to: number | undefined): RillError {
  return new RillError(Errors.NETWORK_EXCEPTION, `network cut between node ${from} and node ${to ?? '?'} (injected fault)`);
}

// Gossip and Raft need no peer ids: while `self` is isolated everything it sends and everything
// that reaches it is dropped, which cuts both directions of every one of its links. Frames that
// arrive after the cut began are dropped too, as on a real network.

/** `inner` with every datagram dropped while `self` is isolated. */
export function isolatableGossipTransport(inner: GossipTransport, isolation: NodeIsolation, self: number): GossipTransport {
  return {
    address: inner.address,
    send: (to, datagram) => {
      if (!isolation.isIsolated(self)) inner.send(to, datagram);
    },
    listen: (handler) =>
      inner.listen((from, datagram) => {
        if (!isolation.isIsolated(self)) handler(from, datagram);
      }),
    close: () => inner.close(),
  };
}

/** `inner` with every frame dropped while `self` or the peer is isolated. */
export function isolatableRaftTransport(inner: RaftTransport, isolation: NodeIsolation, self: number): RaftTransport {
  return {
    send: (to, frame) => {
      if (!isolation.cuts(self, to)) inner.send(to, frame);
    },
    listen: (handler) =>
      inner.listen((frame) => {
        if (!isolation.isIsolated(self)) handler(frame);
      }),
    close: () => inner.close(),
  };
}
