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
  private readonly routes: Compiled[];

  constructor(routes: readonly Route[]) {
    this.routes = routes.map((r) => ({ ...r, segments: r.path.split('/').slice(1) }));
  }

  /** The route for `method` and `path` (no query string); throws NOT_FOUND or METHOD_NOT_ALLOWED. */
  match(method: string, path: string): Match {
    const segments = path.split('/').slice(1);
    const allowed: string[] = [];
    for (const route of this.routes) {
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
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i];
    if (want.startsWith('{')) {
      if (segments[i] === '') return null;
      params[want.slice(1, -1)] = decode(segments[i]);
    } else if (want !== segments[i]) return null;
  }
  return params;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidRequest(`path segment '${segment}' is not valid percent-encoding`);
  }
}
