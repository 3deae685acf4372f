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
  /** Per segment: the literal it must equal, or null for a `{name}` capture. */
  literals: (string | null)[];
  /** The capture names, in segment order. */
  names: string[];
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
      const segments = r.path.split('/').slice(1);
      const literals = segments.map((segment) => (segment.startsWith('{') ? null : segment));
      const names = segments.filter((segment) => segment.startsWith('{')).map((segment) => segment.slice(1, -1));
      const compiled: Compiled = { ...r, literals, names };
      const same = this.bySegments.get(segments.length);
      if (same === undefined) this.bySegments.set(segments.length, [compiled]);
      else same.push(compiled);
    }
  }

  /** The route for `method` and `path` (no query string); throws NOT_FOUND or METHOD_NOT_ALLOWED. */
  match(method: string, path: string): Match {
    const segments = path.split('/');
    segments.shift(); // the empty string before the leading '/'
    let allowed: string[] | null = null;
    for (const route of this.bySegments.get(segments.length) ?? NO_ROUTES) {
      if (!fits(route.literals, segments)) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params: captures(route, segments) };
      (allowed ??= []).push(route.method);
    }
    if (allowed !== null) {
      throw new RillError(Errors.METHOD_NOT_ALLOWED, `${method} is not supported on ${path}; use ${allowed.join(', ')}`, { allow: allowed.join(', ') });
    }
    throw new RillError(Errors.NOT_FOUND, `no endpoint ${path}; see GET /v1/openapi.json`, { path });
  }
}

const NO_ROUTES: Compiled[] = [];

/** Whether the segments fit the route's literals (a capture takes any segment but an empty one). */
function fits(literals: (string | null)[], segments: string[]): boolean {
  for (let i = 0; i < literals.length; i++) {
    const literal = literals[i];
    if (literal === null ? segments[i] === '' : literal !== segments[i]) return false;
  }
  return true;
}

/** The route's captures, URL-decoded (only for the route that matched: most fail on a literal). */
function captures(route: Compiled, segments: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  let n = 0;
  for (let i = 0; i < route.literals.length; i++) {
    if (route.literals[i] === null) params[route.names[n++]] = decode(segments[i]);
  }
  return params;
}

function decode(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidRequest(`path segment '${segment}' is not valid percent-encoding`);
  }
}
