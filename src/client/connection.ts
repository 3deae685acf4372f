// One TCP connection to one broker, speaking the binary protocol. Application thread.
//
// Requests are pipelined: each gets a correlation id and a callback, and responses are matched by
// id in whatever order the broker sends them (a long-polling Fetch does not hold up a Produce).
// Shaped for the producer's hot path:
//   - callbacks, not promises, per request (request() wraps one promise around send() for the
//     cold paths: metadata, admin);
//   - writes are corked until the end of the current tick, so every frame the producer or
//     consumer queued in one turn of the event loop leaves in one writev; a record set is written
//     as it is, after its small head, never copied into a frame;
//   - timeouts cost no timer per request: one sweep timer per connection looks for requests past
//     their deadline every requestTimeoutMs / 10 (at least 10 ms, at most 1 s), so a timeout fires
//     at most that much late.
// Failure is all-or-nothing, as in Kafka's NetworkClient: a request that times out closes the
// connection (its answer might still come, and the next request must not be mistaken for it), and
// a connection that closes fails every request in flight with a retriable RillConnectionError.
// Nobody waits forever: every request has a deadline, and connect() has connectionTimeoutMs.

import { connect as netConnect, type Socket } from 'node:net';
import { Errors, RillError } from '../errors.js';
import {
  ApiKeys,
  DEFAULT_MAX_FRAME_BYTES,
  FrameReader,
  decodeResponse,
  encodeRequestHead,
  isProtocolError,
  negotiateVersions,
  responseCorrelationId,
  supportedApis,
  type ApiKey,
  type RequestHeaders,
  type ResponseOf,
} from '../protocol/index.js';
import { RillConnectionError, RillTimeoutError, errorFromCode } from './errors.js';
import { type ClientLogger } from './logger.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  /** Bound on the TCP connect plus the Hello exchange. */
  connectionTimeoutMs: number;
  /** Default bound on a request's answer. */
  requestTimeoutMs: number;
  /** Largest response frame accepted (this side's max.frame.bytes). */
  maxFrameBytes: number;
  logger: ClientLogger;
}

/** Called exactly once per request: with the response, or with the error that ended it. */
export type ResponseCallback<K extends ApiKey> = (error: RillError | null, response: ResponseOf<K> | null) => void;

class Pending {
  constructor(
    readonly apiKey: number,
    readonly deadline: number,
    readonly timeoutMs: number,
    readonly callback: ResponseCallback<ApiKey>,
  ) {}
}

const MAX_CORRELATION_ID = 0xffff_ffff;

export class Connection {
  readonly host: string;
  readonly port: number;
  /** "host:port", for messages. */
  readonly address: string;
  /** From Hello: the broker's node id, cluster id and max.frame.bytes. */
  nodeId = -1;
  clusterId = '';
  brokerMaxFrameBytes = DEFAULT_MAX_FRAME_BYTES;

  private readonly options: ConnectionOptions;
  private readonly reader: FrameReader;
  private socket: Socket | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private versions = new Map<number, number>();
  private corked = false;
  private sweepTimer: NodeJS.Timeout | null = null;
  private closedWith: RillError | null = null;
  private readonly closeListeners: ((error: RillError) => void)[] = [];
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };

  private constructor(options: ConnectionOptions) {
    this.options = options;
    this.host = options.host;
    this.port = options.port;
    this.address = formatAddress(options.host, options.port);
    this.reader = new FrameReader({ carries: 'responses', maxFrameBytes: options.maxFrameBytes });
  }

  /** Connects and says Hello; rejects with a RillConnectionError within connectionTimeoutMs. */
  static async open(options: ConnectionOptions): Promise<Connection> {
    const connection = new Connection(options);
    const deadline = Date.now() + options.connectionTimeoutMs;
    await connection.connectSocket();
    try {
      const hello = await connection.request(
        ApiKeys.Hello,
        { clientId: options.clientId, apis: supportedApis() },
        undefined,
        Math.max(1, deadline - Date.now()),
      );
      connection.nodeId = hello.header.nodeId;
      connection.clusterId = hello.header.clusterId;
      connection.brokerMaxFrameBytes = hello.header.maxFrameBytes > 0 ? hello.header.maxFrameBytes : DEFAULT_MAX_FRAME_BYTES;
      connection.versions = negotiateVersions(supportedApis(), hello.header.apis);
    } catch (error) {
      connection.close();
      if (error instanceof RillError && error.code === Errors.REQUEST_TIMED_OUT.code) {
        throw new RillConnectionError(`broker ${connection.address} accepted the connection but did not answer Hello within ${options.connectionTimeoutMs} ms`, { broker: connection.address });
      }
      throw error;
    }
    options.logger.debug({ broker: connection.address, nodeId: connection.nodeId }, 'connected');
    return connection;
  }

  private connectSocket(): Promise<void> {
    const { host, port, connectionTimeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RillConnectionError(`could not connect to broker ${this.address} within ${connectionTimeoutMs} ms`, { broker: this.address }));
      }, connectionTimeoutMs);
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new RillConnectionError(`could not connect to broker ${this.address}: ${error.message}`, { broker: this.address, errno: error.code ?? null }, { cause: error }),
        );
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 60_000);
        this.socket = socket;
        socket.on('data', (chunk: Buffer) => this.onData(chunk));
        socket.on('error', (error) => this.fail(new RillConnectionError(`connection to broker ${this.address} failed: ${error.message}`, { broker: this.address }, { cause: error })));
        socket.on('close', () => this.fail(new RillConnectionError(`connection to broker ${this.address} closed`, { broker: this.address })));
        resolve();
      });
    });
  }

  get isOpen(): boolean {
    return this.closedWith === null && this.socket !== null;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Hears once when the connection closes, with the error in-flight requests failed with. */
  onClose(listener: (error: RillError) => void): void {
    if (this.closedWith !== null) listener(this.closedWith);
    else this.closeListeners.push(listener);
  }

  /**
   * Sends a request without waiting. `callback` runs once, with the decoded response or an error
   * (a frame-level error from the broker, a timeout, or the connection's end). The body (a record
   * set) is written as it is and must not change until the callback runs.
   */
  send<K extends ApiKey>(apiKey: K, header: RequestHeaders[K], body: Uint8Array | undefined, timeoutMs: number, callback: ResponseCallback<K>): void {
    const problem = this.unusable(apiKey);
    if (problem !== null) {
      callback(problem, null);
      return;
    }
    const id = this.takeId();
    let head: Uint8Array;
    try {
      head = encodeRequestHead(apiKey, this.versions.get(apiKey) ?? 0, id, header, body?.length ?? 0);
    } catch (error) {
      callback(new RillError(Errors.INVALID_REQUEST, `cannot encode ${apiKey} request: ${(error as Error).message}`), null);
      return;
    }
    this.pending.set(id, new Pending(apiKey, Date.now() + timeoutMs, timeoutMs, callback as ResponseCallback<ApiKey>));
    if (this.sweepTimer === null) this.startSweeping();
    this.write(head, body, undefined);
  }

  /**
   * Sends a request the broker does not answer (Produce with acks 0). `written` runs once the
   * bytes are handed to the kernel, or with the error that prevented it.
   */
  sendWithoutResponse<K extends ApiKey>(apiKey: K, header: RequestHeaders[K], body: Uint8Array | undefined, written: (error: RillError | null) => void): void {
    const problem = this.unusable(apiKey);
    if (problem !== null) {
      written(problem);
      return;
    }
    const head = encodeRequestHead(apiKey, this.versions.get(apiKey) ?? 0, this.takeId(), header, body?.length ?? 0);
    this.write(head, body, (error) => written(error == null ? null : (this.closedWith ?? new RillConnectionError(`write to broker ${this.address} failed: ${error.message}`, { broker: this.address }))));
  }

  /** A request and its response as a promise; frame-level errors reject. For the cold paths. */
  request<K extends ApiKey>(apiKey: K, header: RequestHeaders[K], body?: Uint8Array, timeoutMs = this.options.requestTimeoutMs): Promise<ResponseOf<K>> {
    return new Promise((resolve, reject) => this.send(apiKey, header, body, timeoutMs, (error, response) => (error === null ? resolve(response!) : reject(error))));
  }

  /** Closes the connection; requests in flight fail with `error` (default: a RillConnectionError). */
  close(error?: RillError): void {
    this.fail(error ?? new RillConnectionError(`connection to broker ${this.address} closed by the client`, { broker: this.address }));
  }

  private unusable(apiKey: number): RillError | null {
    if (this.closedWith !== null) return this.closedWith;
    if (this.socket === null) return new RillConnectionError(`connection to broker ${this.address} is not open`, { broker: this.address });
    if (apiKey !== ApiKeys.Hello && this.versions.size > 0 && !this.versions.has(apiKey)) {
      return new RillError(Errors.UNSUPPORTED_VERSION, `broker ${this.address} does not speak api ${apiKey} at a version this client knows`, { broker: this.address });
    }
    return null;
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = id >= MAX_CORRELATION_ID ? 1 : id + 1;
    return id;
  }

  private write(head: Uint8Array, body: Uint8Array | undefined, callback: ((error?: Error | null) => void) | undefined): void {
    const socket = this.socket!;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(this.uncork);
    }
    if (body === undefined || body.length === 0) {
      socket.write(head, callback);
      return;
    }
    socket.write(head);
    socket.write(body, callback);
  }

  private onData(chunk: Buffer): void {
    const reader = this.reader;
    reader.push(chunk);
    for (let frame = reader.next(); frame !== undefined; frame = reader.next()) {
      if (isProtocolError(frame)) {
        this.fail(new RillError(errorSpecFor(frame.code), `unreadable response stream from broker ${this.address}: ${frame.message}`, { broker: this.address }));
        return;
      }
      const id = responseCorrelationId(frame)!;
      const entry = this.pending.get(id);
      if (entry === undefined) {
        // Only an answer to a request we no longer wait for could be here; there are none (a
        // timeout closes the connection), so the stream is not what we think it is.
        this.fail(new RillError(Errors.INVALID_REQUEST, `broker ${this.address} answered correlation id ${id}, which no request is waiting for`, { broker: this.address }));
        return;
      }
      this.pending.delete(id);
      const decoded = decodeResponse(frame, this.versions.get(entry.apiKey) ?? 0);
      let error: RillError | null = null;
      let response: ResponseOf<ApiKey> | null = null;
      if (isProtocolError(decoded)) error = new RillError(errorSpecFor(decoded.code), `bad response from broker ${this.address}: ${decoded.message}`, { broker: this.address });
      else if (decoded.kind === 'error-response') error = errorFromCode(decoded.errorCode, decoded.header.message, { broker: this.address });
      else response = decoded;
      this.deliver(entry, error, response);
    }
  }

  private deliver(entry: Pending, error: RillError | null, response: ResponseOf<ApiKey> | null): void {
    try {
      entry.callback(error, response);
    } catch (thrown) {
      this.options.logger.error({ err: thrown, broker: this.address }, 'a response callback threw');
    }
  }

  private startSweeping(): void {
    const interval = Math.min(1000, Math.max(10, Math.floor(this.options.requestTimeoutMs / 10)));
    this.sweepTimer = setInterval(() => this.sweep(), interval);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    if (this.pending.size === 0) {
      clearInterval(this.sweepTimer!);
      this.sweepTimer = null;
      return;
    }
    const now = Date.now();
    for (const [id, entry] of this.pending) {
      if (entry.deadline > now) continue;
      this.pending.delete(id);
      this.deliver(entry, new RillTimeoutError(`broker ${this.address} did not answer api ${entry.apiKey} request within ${entry.timeoutMs} ms`, { broker: this.address }), null);
      this.close(new RillConnectionError(`connection to broker ${this.address} closed after a request timed out`, { broker: this.address }));
      return;
    }
  }

  private fail(error: RillError): void {
    if (this.closedWith !== null) return;
    this.closedWith = error;
    if (this.sweepTimer !== null) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
    this.socket?.destroy();
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) this.deliver(entry, error, null);
    this.options.logger.debug({ broker: this.address, reason: error.message }, 'connection closed');
    for (const listener of this.closeListeners.splice(0)) listener(error);
  }
}

function errorSpecFor(code: number) {
  return code === Errors.FRAME_TOO_LARGE.code ? Errors.FRAME_TOO_LARGE : Errors.INVALID_REQUEST;
}

/** "host:port", with an IPv6 host in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Splits "host:port" or "[v6]:port"; the port is required. */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(address.trim());
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port < 1 || port > 65535) {
    throw new RillError(Errors.INVALID_CONFIG, `broker address ${JSON.stringify(address)} is not host:port`);
  }
  return { host: match[1] ?? match[2], port };
}
