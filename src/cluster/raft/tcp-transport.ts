// Raft frames over TCP between the controller voters. Main thread only.
//
// Framing: a 4-byte big-endian length, then one encoded Raft message (messages.ts). Each node
// listens on one port; it sends on its own outbound connection to each peer (so a connection
// carries one direction only, and nothing needs to know who dialled whom). Best effort, as Raft
// wants (raft-transport.ts): a frame for a peer that is not connected is dropped, and a connection
// is redialled at most every RECONNECT_MS; a peer whose socket already buffers MAX_BUFFERED bytes
// gets nothing more until it drains, so a stalled peer cannot grow our memory.

import { createServer, connect, type Server, type Socket } from 'node:net';
import type { RaftTransport } from './raft-transport.js';

const LENGTH_BYTES = 4;
/** Larger than any append (RAFT_DEFAULTS.maxBytesPerAppend, 1 MiB) or metadata snapshot. */
export const MAX_RAFT_FRAME = 64 << 20;
const MAX_BUFFERED = 8 << 20;
const RECONNECT_MS = 100;

export interface RaftPeerAddress {
  readonly host: string;
  readonly port: number;
}

export class TcpRaftTransport implements RaftTransport {
  droppedFrames = 0;
  private handler: (frame: Uint8Array) => void = () => {};
  private readonly outbound = new Map<number, { socket: Socket | null; connected: boolean; lastDial: number }>();
  private readonly inbound = new Set<Socket>();
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly peers: ReadonlyMap<number, RaftPeerAddress>,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Listens on host:port (0: ephemeral); `peers` maps voter ids to their listeners. */
  static listen(host: string, port: number, peers: ReadonlyMap<number, RaftPeerAddress>): Promise<TcpRaftTransport> {
    const server = createServer({ noDelay: true });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(new TcpRaftTransport(server, typeof address === 'object' && address !== null ? address.port : port, peers));
      });
    });
  }

  /** Peers can be learned after listening (ephemeral ports in tests, gossip in the broker). */
  setPeer(id: number, address: RaftPeerAddress): void {
    (this.peers as Map<number, RaftPeerAddress>).set(id, address);
  }

  send(to: number, frame: Uint8Array): void {
    if (this.closed) return;
    const link = this.link(to);
    if (link === null || !link.connected || link.socket === null || link.socket.writableLength > MAX_BUFFERED) {
      this.droppedFrames++;
      return;
    }
    const header = Buffer.allocUnsafe(LENGTH_BYTES);
    header.writeUInt32BE(frame.length, 0);
    link.socket.write(header);
    link.socket.write(frame);
  }

  listen(handler: (frame: Uint8Array) => void): void {
    this.handler = handler;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const link of this.outbound.values()) link.socket?.destroy();
    for (const socket of this.inbound) socket.destroy();
  }

  private link(to: number): { socket: Socket | null; connected: boolean; lastDial: number } | null {
    const address = this.peers.get(to);
    if (address === undefined) return null;
    let link = this.outbound.get(to);
    if (link === undefined) {
      link = { socket: null, connected: false, lastDial: -Infinity };
      this.outbound.set(to, link);
    }
    if (link.socket === null && Date.now() - link.lastDial >= RECONNECT_MS) {
      link.lastDial = Date.now();
      const socket = connect({ host: address.host, port: address.port, noDelay: true });
      const l = link;
      l.socket = socket;
      socket.on('connect', () => (l.connected = true));
      socket.on('error', () => {});
      socket.on('close', () => {
        l.socket = null;
        l.connected = false;
      });
      socket.on('data', () => {}); // peers never write on our outbound connection
    }
    return link;
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => this.inbound.delete(socket));
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= LENGTH_BYTES) {
        const length = pending.readUInt32BE(0);
        if (length > MAX_RAFT_FRAME) {
          socket.destroy(); // not a Raft peer
          return;
        }
        if (pending.length < LENGTH_BYTES + length) break;
        const frame = pending.subarray(LENGTH_BYTES, LENGTH_BYTES + length);
        pending = pending.subarray(LENGTH_BYTES + length);
        this.handler(frame);
      }
    });
  }
}
