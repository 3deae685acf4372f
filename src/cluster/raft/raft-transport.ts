// How Raft frames travel between the controller voters. Main thread only. The RaftServer sees only
// this interface: the broker plugs in tcp-transport.ts, the simulations the in-memory network.
//
// Delivery is best effort — frames may be lost, duplicated or reordered and Raft copes — so a
// transport never queues without bound or retries: when a peer is unreachable it drops.

import type { MemoryNetwork } from '../memory-network.js';

export interface RaftTransport {
  /** Sends one encoded frame to voter `to`; never throws, never blocks. */
  send(to: number, frame: Uint8Array): void;
  /** Sets the receiver of every frame that arrives (one whole frame per call). */
  listen(handler: (frame: Uint8Array) => void): void;
  close(): void;
}

/** The address a Raft node has on a MemoryNetwork. */
export function raftAddress(id: number): string {
  return `raft/${id}`;
}

/** A RaftTransport over the simulated network. */
export function memoryRaftTransport(network: MemoryNetwork, id: number): RaftTransport {
  let handler: (frame: Uint8Array) => void = () => {};
  const endpoint = network.attach(raftAddress(id), (_from, payload) => handler(payload));
  return {
    send: (to, frame) => endpoint.send(raftAddress(to), frame),
    listen: (h) => {
      handler = h;
    },
    close: () => endpoint.close(),
  };
}
