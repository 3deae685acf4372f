// Matches a method and path to a route. Main thread.
//
// Routes are declared as data ('GET', '/v1/topics/{topic}', api name, handler), the api name being
// the label requests are counted and timed under in /metrics. Paths are split on '/' and matched
// segment by segment; a `{name}` segment captures one URL-decoded segment. A path that matches a
// route under another method is 405 with an Allow header; no match at all is 404.

import { Errors, RillError } from '../errors.js';
import { invalidRequest } from './http-errors.js';
import { type Handler } from './http-call.js';

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** Label for metrics and logs, e.g. 'produce'. */
  api: string;
  handler: Handler;
}

interface Compiled extends Route {
  segments: string[];
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export class Router {
  /** Routes by their number of segments, in declaration order: a path is tried only against its own. */
  private readonly bySegments = new Map<number, Compiled[]>();

  constructor(routes: readonly Route[]) {
    for (const r of routes) {
      const compiled = { ...r, segments: r.path.split('/').slice(1) };
      const same = this.bySegments.get(compiled.segments.length);
      if (same === undefined) this.bySegments.set(compiled.segments.length, [compiled]);
      else same.push(compiled);
    }
  }

  /** The route for `method` and `path` (no query string); throws NOT_FOUND or METHOD_NOT_ALLOWED. */
  match(method: string, path: string): Match {
    const segments = path.split('/');
    segments.shift(); // the empty string before the leading '/'
    const allowed: string[] = [];
    for (const route of this.bySegments.get(segments.length) ?? []) {
      const params = matchSegments(route.segments, segments);
      if (params === null) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length > 0) {
      throw new RillError(Errors.METHOD_NOT_ALLOWED, `${method} is not supported on ${path}; use ${allowed.join(', ')}`, { allow: allowed.join(', ') });
    }
    throw new RillError(Errors.NOT_FOUND, `no endpoint ${path}; see GET /v1/openapi.json`, { path });
  }
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | null {
  // Structure first: most routes fail on a fixed segment, and then nothing was allocated.
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i];
    if (want.charCodeAt(0) === OPEN_BRACE ? segments[i] === '' : want !== segments[i]) return null;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i];
    if (want.charCodeAt(0) === OPEN_BRACE) params[want.slice(1, -1)] = decode(segments[i]);
  }
  return params;
}

const OPEN_BRACE = 0x7b; // '{'

function decode(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidRequest(`path segment '${segment}' is not valid percent-encoding`);
  }
}
