// The HTTP API's server: node:http beside the binary listener, on the main thread. Main thread.
//
// Every request goes: route match -> handler -> one reply, counted and timed under its api label
// (rill_http_requests_total / rill_http_request_duration_seconds). Handlers throw RillErrors; the
// reply is then the error's JSON with its status from src/errors.ts. A 5xx is logged (it is a fault
// of ours); 4xx are the client's and logged at debug only.
//
// node:http rather than a framework: a handful of routes, and the produce hot path is a body read,
// JSON.parse, one batch encode and a ring write — a framework's per-request hooks, schema
// compilation and serializers would add cost there without taking any away.
//
// Connections: keep-alive (65 s idle, above the 60 s of common load balancers, so that they close
// first), one request at a time per connection as HTTP/1.1 requires. A client that goes away
// mid-request is noticed (its long poll is ended, nothing is written) and counted as status 499.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { Errors } from '../errors.js';
import { type HttpCall, type Reply } from './http-call.js';
import { type HttpContext } from './http-context.js';
import { asRillError } from './http-errors.js';
import { requestHeader } from './request-body.js';
import { Router } from './router.js';
import { ClientMemberSession } from './groups/client-member-session.js';
import { LoopbackMemberClient } from './groups/member-client.js';
import { MemberRegistry } from './groups/member-registry.js';
import { fetchRoute } from './routes/fetch-route.js';
import { groupMemberRoutes } from './routes/group-member-routes.js';
import { groupRoutes } from './routes/group-routes.js';
import { offsetsRoute } from './routes/offsets-route.js';
import { opsRoutes } from './routes/ops-routes.js';
import { produceRoute } from './routes/produce-route.js';
import { topicRoutes } from './routes/topic-routes.js';

const KEEP_ALIVE_MS = 65_000;
/** Session timeout of an HTTP group member that asks for none (within group.min/max.session.timeout.ms). */
const MEMBER_SESSION_TIMEOUT_MS = 30_000;
/** How long stopping waits for HTTP group members to commit and leave. */
const MEMBERS_CLOSE_MS = 5_000;
/** Status recorded for a request whose client went away before its answer (nginx's convention). */
export const CLIENT_CLOSED_REQUEST = 499;

export class HttpApi {
  private readonly ctx: HttpContext;
  private readonly server: Server;
  private readonly router: Router;
  private readonly memberClient: LoopbackMemberClient;
  readonly members: MemberRegistry;

  constructor(ctx: HttpContext) {
    this.ctx = ctx;
    this.memberClient = new LoopbackMemberClient(() => ctx.brokerAddress(), ctx.logger);
    this.members = new MemberRegistry({
      maxMembers: ctx.config.httpMaxGroupMembers,
      idleMs: ctx.config.httpGroupMemberIdleMs,
      factory: (settings) => new ClientMemberSession(settings, this.memberClient),
      logger: ctx.logger,
    });
    const { groupMinSessionTimeoutMs: min, groupMaxSessionTimeoutMs: max } = ctx.config;
    const memberDefaults = { sessionTimeoutMs: Math.min(max, Math.max(min, MEMBER_SESSION_TIMEOUT_MS)), minSessionTimeoutMs: min, maxSessionTimeoutMs: max };
    this.router = new Router([...topicRoutes(ctx), produceRoute(ctx), fetchRoute(ctx), offsetsRoute(ctx), ...groupMemberRoutes(ctx, this.members, memberDefaults), ...groupRoutes(this.memberClient), ...opsRoutes(ctx)]);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        ctx.logger.error({ err: error, method: req.method, url: req.url }, 'HTTP request handling failed');
        res.destroy();
      });
    });
    this.server.keepAliveTimeout = KEEP_ALIVE_MS;
    this.server.headersTimeout = KEEP_ALIVE_MS + 1000;
    // Long polls last up to http.max.wait.ms; a request's whole life must be allowed that long.
    this.server.requestTimeout = Math.max(300_000, ctx.config.httpMaxWaitMs + 60_000);
    this.server.on('clientError', (error, socket) => {
      ctx.logger.debug({ err: error }, 'malformed HTTP request');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** The bound port (0 in the config picks one). */
  get port(): number {
    const address = this.server.address() as AddressInfo | null;
    return address?.port ?? this.ctx.config.httpPort;
  }

  /**
   * Lets the HTTP group members commit (those with autoCommit) and leave their groups, while the
   * binary listener still serves them; bounded, as a stop must not hang on a coordinator.
   */
  async closeMembers(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, MEMBERS_CLOSE_MS)));
    await Promise.race([this.members.close(), deadline]);
    clearTimeout(timer);
    await this.memberClient.close();
  }

  /** Stops accepting and closes every connection (requests in flight are cut: the broker is stopping). */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    return closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    let api = 'unmatched';
    // The client is gone once its socket closed before the answer was written. A 'close'
    // listener is attached only for a handler that asks to be told (a long poll): per request
    // it would cost more than routing does.
    const gone = () => !res.writableFinished && (res.destroyed || req.socket.destroyed);
    let onGone: (() => void)[] | null = null;
    const onClose = (fn: () => void): void => {
      if (gone()) return fn();
      if (onGone === null) {
        const waiting: (() => void)[] = (onGone = []);
        res.once('close', () => {
          if (!res.writableFinished) for (const run of waiting.splice(0)) run();
        });
      }
      onGone.push(fn);
    };
    let reply: Reply;
    try {
      const { route, params } = this.router.match(req.method ?? 'GET', path);
      api = route.api;
      const call: HttpCall = {
        req,
        res,
        params,
        query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)),
        closed: gone,
        onClose,
      };
      reply = await route.handler(call);
    } catch (thrown) {
      const error = asRillError(thrown);
      if (error.httpStatus >= 500) this.ctx.logger.error({ err: error.code === Errors.UNKNOWN_SERVER_ERROR.code ? error.cause : error, api, method: req.method, path }, 'HTTP request failed');
      else this.ctx.logger.debug({ api, error: error.type, message: error.message }, 'HTTP request refused');
      reply = { status: error.httpStatus, json: error.toJSON() };
      if (error.code === Errors.METHOD_NOT_ALLOWED.code) res.setHeader('allow', String(error.details.allow));
      // Another node of the cluster leads the partition: send the client there. 307 keeps the
      // method and the body (a produce is re-sent as it was); the JSON says the same for clients
      // that do not follow redirects.
      if (error.code === Errors.NOT_LEADER_OR_FOLLOWER.code && typeof error.details.leaderUrl === 'string') {
        res.setHeader('location', error.details.leaderUrl + url);
        reply.status = 307;
      }
      // A body left unread is discarded by node:http so that the connection can carry the next
      // request; one too large (or chunked, of unknown length) is not worth reading: close instead.
      if (!req.complete && !hasSmallBody(req, this.ctx.config.httpMaxBodyBytes)) res.setHeader('connection', 'close');
    }
    if (gone() || res.destroyed) {
      this.ctx.metrics.observe(api, CLIENT_CLOSED_REQUEST, (performance.now() - started) / 1000);
      return;
    }
    try {
      if (reply.text === undefined && reply.json === undefined) {
        // 204 No Content (and any reply without a body): no body, no content headers.
        res.writeHead(reply.status, reply.status === 204 ? {} : { 'content-length': 0 });
        res.end();
      } else {
        const body = reply.text ?? JSON.stringify(reply.json);
        res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }
    } catch (error) {
      // A reply that cannot be written is our fault; it must not take the broker down with it.
      this.ctx.logger.error({ err: error, api, method: req.method, path }, 'writing an HTTP reply failed');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
        res.end(JSON.stringify({ error: Errors.UNKNOWN_SERVER_ERROR.type, code: Errors.UNKNOWN_SERVER_ERROR.code, message: 'the reply could not be written' }));
      } else res.destroy();
    }
    this.ctx.metrics.observe(api, reply.status, (performance.now() - started) / 1000);
  }
}

/** No body, or a declared one within the bound: cheap to discard. */
function hasSmallBody(req: IncomingMessage, limit: number): boolean {
  if (requestHeader(req, 'transfer-encoding') !== undefined) return false;
  const length = Number(requestHeader(req, 'content-length') ?? 0);
  return Number.isFinite(length) && length <= limit;
}
