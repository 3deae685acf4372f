// A minimal binary-protocol client for tests: sends request frames, matches responses by
// correlation id. (The real client, with batching and retries, is src/client.)

import { connect, type Socket } from 'node:net';
import {
  FrameReader,
  decodeResponse,
  encodeRequest,
  isProtocolError,
  responseCorrelationId,
  type ApiKey,
  type DecodedResponse,
  type RequestHeaders,
} from '../../src/protocol/index.js';

export class TestClient {
  readonly socket: Socket;
  private readonly reader = new FrameReader({ carries: 'responses', maxFrameBytes: 64 * 1024 * 1024 });
  private readonly pending = new Map<number, (response: DecodedResponse) => void>();
  private nextId = 1000;
  closed = false;
  /** Responses no request of ours was waiting for (answers to raw frames). */
  readonly unmatched: DecodedResponse[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.reader.push(chunk);
      for (let frame = this.reader.next(); frame !== undefined; frame = this.reader.next()) {
        if (isProtocolError(frame)) throw new Error(`bad response stream: ${frame.message}`);
        const id = responseCorrelationId(frame)!;
        const decoded = decodeResponse(frame);
        if (isProtocolError(decoded)) throw new Error(`bad response: ${decoded.message}`);
        const settle = this.pending.get(id);
        this.pending.delete(id);
        if (settle === undefined) this.unmatched.push(decoded);
        else settle(decoded);
      }
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new TestClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a request and resolves with its decoded response (rejects after `timeoutMs`). */
  request<K extends ApiKey>(apiKey: K, header: RequestHeaders[K], body?: Uint8Array, timeoutMs = 30_000): Promise<DecodedResponse> {
    const id = this.nextId++;
    const frame = encodeRequest(apiKey, 0, id, header, body);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no response to correlation id ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      this.socket.write(frame);
    });
  }

  /** Sends raw bytes (for malformed-frame tests). */
  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}
