// A small HTTP client for tests of the HTTP API: JSON in, status + parsed body out, over
// node:http (keep-alive agent), so that raw bodies, chunked bodies and odd content types can be
// sent exactly as given.

import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  body: any;
}

export interface CallOptions {
  /** Sent as application/json unless `contentType` says otherwise. */
  json?: unknown;
  body?: string | Buffer;
  contentType?: string;
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export class HttpClient {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  constructor(readonly port: number, readonly host = '127.0.0.1') {}

  call(method: string, path: string, options: CallOptions = {}): Promise<HttpAnswer> {
    const body = options.json !== undefined ? JSON.stringify(options.json) : options.body;
    const headers: Record<string, string> = { ...options.headers };
    const contentType = options.contentType ?? (options.json !== undefined ? 'application/json' : undefined);
    if (contentType !== undefined) headers['content-type'] = contentType;
    if (body !== undefined && !options.chunked) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: this.host, port: this.port, method, path, headers, agent: this.agent, signal: options.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body !== undefined && options.chunked) {
        // Several chunks, so the server sees a stream rather than one piece.
        const bytes = Buffer.from(body);
        const step = Math.max(1, Math.ceil(bytes.length / 4));
        for (let i = 0; i < bytes.length; i += step) req.write(bytes.subarray(i, i + step));
        req.end();
      } else req.end(body);
    });
  }

  get(path: string, options?: CallOptions): Promise<HttpAnswer> {
    return this.call('GET', path, options);
  }

  post(path: string, json: unknown, options: CallOptions = {}): Promise<HttpAnswer> {
    return this.call('POST', path, { json, ...options });
  }

  close(): void {
    this.agent.destroy();
  }
}
