// One HTTP request as the route handlers see it, and what they answer. Main thread.
//
// Handlers are plain async functions from an HttpCall to a Reply; they throw RillErrors for every
// failure, which the server turns into `{ "error": TYPE, "code": n, "message": ..., "details" }`
// with the error table's HTTP status. A handler never writes to the response itself, so that
// every answer is counted and timed in one place (http-server.ts).

import { type IncomingMessage, type ServerResponse } from 'node:http';

export interface HttpCall {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Path parameters by name, URL-decoded: `{topic}` -> params.topic. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** True once the client has gone away (its socket closed before the answer was sent). */
  closed(): boolean;
  /** Runs `fn` if the client goes away before the answer is sent (at once if it already has). */
  onClose(fn: () => void): void;
}

export interface Reply {
  status: number;
  /** Serialised as JSON unless `text` is given. */
  json?: unknown;
  /** A body that is already text (Prometheus exposition format; JSON built by hand, see producedOffsetsJson). */
  text?: string;
  contentType?: string;
}

export type Handler = (call: HttpCall) => Promise<Reply>;

export const ok = (json: unknown, status = 200): Reply => ({ status, json });
