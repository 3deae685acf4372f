// A minimal, fast binary-protocol client for the broker benchmark (the real client does not exist
// yet). Benchmark code only; not part of Rill.
//
// One TCP connection; requests are pipelined and matched to responses by correlation id. What it
// does per request is what any client must do: encode a small msgpack header (encodeRequestHead),
// write the head and the record set (under cork, so they leave in one writev; the record set is
// not copied into the frame), split the response stream into frames (FrameReader) and decode each
// response (decodeResponse: header msgpack and schema checks). It adds no batching of its own,
// no retries and no metadata handling: the benchmark decides what to send and when.

import { connect, type Socket } from 'node:net';
import {
  ApiKeys,
  FrameReader,
  decodeResponse,
  encodeRequestHead,
  isProtocolError,
  responseCorrelationId,
  type ApiKey,
  type DecodedResponse,
  type FetchRequest,
  type ProduceRequest,
  type RequestHeaders,
  type ResponseOf,
} from '../src/protocol/index.js';

export type ProduceAnswer = ResponseOf<typeof ApiKeys.Produce>;
export type FetchAnswer = ResponseOf<typeof ApiKeys.Fetch>;

type Settle = (response: DecodedResponse) => void;

export class BenchConnection {
  readonly socket: Socket;
  private readonly reader: FrameReader;
  private readonly pending = new Map<number, { settle: Settle; fail: (error: Error) => void }>();
  private nextId = 1;
  private failure: Error | null = null;
  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  private constructor(socket: Socket, maxFrameBytes: number) {
    this.socket = socket;
    this.reader = new FrameReader({ carries: 'responses', maxFrameBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.failAll(error));
    socket.on('close', () => this.failAll(new Error('connection closed by the broker')));
  }

  /** `maxFrameBytes`: the largest response frame accepted (Fetch maxBytes must stay below it). */
  static connect(port: number, host = '127.0.0.1', maxFrameBytes = 64 * 1024 * 1024): Promise<BenchConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new BenchConnection(socket, maxFrameBytes));
      });
      socket.once('error', reject);
    });
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    for (let frame = this.reader.next(); frame !== undefined; frame = this.reader.next()) {
      if (isProtocolError(frame)) {
        this.failAll(new Error(`bad response stream: ${frame.message}`));
        this.socket.destroy();
        return;
      }
      const id = responseCorrelationId(frame)!;
      const entry = this.pending.get(id);
      if (entry === undefined) {
        this.failAll(new Error(`response to unknown correlation id ${id}`));
        this.socket.destroy();
        return;
      }
      this.pending.delete(id);
      const decoded = decodeResponse(frame);
      if (isProtocolError(decoded)) entry.fail(new Error(`undecodable response: ${decoded.message}`));
      else entry.settle(decoded);
    }
  }

  private failAll(error: Error): void {
    if (this.failure === null) this.failure = error;
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) entry.fail(error);
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = id >= 0xffffffff ? 1 : id + 1;
    return id;
  }

  /**
   * Sends a request without waiting; `settle` gets the decoded response (an 'error-response' too),
   * `fail` a transport failure. The body (a record set) is written as is, not copied.
   */
  send<K extends ApiKey>(apiKey: K, header: RequestHeaders[K], body: Uint8Array | undefined, settle: Settle, fail: (error: Error) => void): void {
    if (this.failure !== null) {
      fail(this.failure);
      return;
    }
    const id = this.takeId();
    const head = encodeRequestHead(apiKey, 0, id, header, body?.length ?? 0);
    this.pending.set(id, { settle, fail });
    if (body === undefined || body.length === 0) {
      this.socket.write(head);
      return;
    }
    this.socket.cork();
    this.socket.write(head);
    this.socket.write(body);
    this.socket.uncork();
  }

  /** Sends a request and resolves with its decoded response. */
  request<K extends ApiKey>(apiKey: K, header: RequestHeaders[K], body?: Uint8Array): Promise<DecodedResponse> {
    return new Promise((resolve, reject) => this.send(apiKey, header, body, resolve, reject));
  }

  /** A produce with acks=1: resolves with the broker's answer; rejects on a non-zero error code. */
  produce(header: ProduceRequest, records: Uint8Array): Promise<ProduceAnswer> {
    return new Promise((resolve, reject) =>
      this.send(
        ApiKeys.Produce,
        header,
        records,
        (response) => {
          if (response.kind !== 'response' || response.apiKey !== ApiKeys.Produce) return reject(new Error(`produce failed: ${describe(response)}`));
          if (response.header.errorCode !== 0) {
            return reject(new Error(`produce to ${header.topic}-${header.partition} failed: error ${response.header.errorCode} ${response.header.message ?? ''}`));
          }
          resolve(response);
        },
        reject,
      ),
    );
  }

  /** A fetch: resolves with the broker's answer; rejects on a frame-level error. */
  fetch(header: FetchRequest): Promise<FetchAnswer> {
    return new Promise((resolve, reject) =>
      this.send(
        ApiKeys.Fetch,
        header,
        undefined,
        (response) => {
          if (response.kind !== 'response' || response.apiKey !== ApiKeys.Fetch) return reject(new Error(`fetch failed: ${describe(response)}`));
          resolve(response);
        },
        reject,
      ),
    );
  }

  close(): void {
    this.socket.destroy();
  }
}

function describe(response: DecodedResponse): string {
  if (response.kind === 'error-response') return `error ${response.errorCode}: ${response.header.message ?? ''}`;
  return `unexpected ${response.apiKey} response`;
}

/** Creates topics; throws unless every one was created. */
export async function createTopics(connection: BenchConnection, topics: { name: string; partitions: number }[]): Promise<void> {
  const response = await connection.request(ApiKeys.CreateTopics, { topics, timeoutMs: 120_000 });
  if (response.kind !== 'response' || response.apiKey !== ApiKeys.CreateTopics) throw new Error(`CreateTopics failed: ${describe(response)}`);
  for (const topic of response.header.topics) {
    if (topic.errorCode !== 0) throw new Error(`creating topic ${topic.name} failed: error ${topic.errorCode} ${topic.message ?? ''}`);
  }
}

/** Each partition's log end offset, from DescribeTopics. */
export async function logEndOffsets(connection: BenchConnection, topic: string): Promise<number[]> {
  const response = await connection.request(ApiKeys.DescribeTopics, { topics: [topic] });
  if (response.kind !== 'response' || response.apiKey !== ApiKeys.DescribeTopics) throw new Error(`DescribeTopics failed: ${describe(response)}`);
  const [described] = response.header.topics;
  if (described.errorCode !== 0) throw new Error(`describing ${topic} failed: error ${described.errorCode}`);
  return described.partitions.map((p) => p.logEndOffset);
}
