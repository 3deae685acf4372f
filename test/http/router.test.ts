import { describe, expect, it } from 'vitest';
import { isRillError } from '../../src/errors.js';
import { Router, type Route } from '../../src/http/router.js';

const handler = async () => ({ status: 200 });
const routes: Route[] = [
  { method: 'GET', path: '/v1/topics', api: 'list', handler },
  { method: 'POST', path: '/v1/topics', api: 'create', handler },
  { method: 'GET', path: '/v1/topics/{topic}', api: 'describe', handler },
  { method: 'GET', path: '/v1/topics/{topic}/partitions/{partition}/messages', api: 'fetch', handler },
];
const router = new Router(routes);

function failure(method: string, path: string): { type: string; message: string; details: unknown } {
  try {
    router.match(method, path);
  } catch (error) {
    if (isRillError(error)) return { type: error.type, message: error.message, details: error.details };
    throw error;
  }
  throw new Error('matched');
}

describe('Router', () => {
  it('matches by method and path, capturing URL-decoded parameters', () => {
    expect(router.match('GET', '/v1/topics').route.api).toBe('list');
    expect(router.match('POST', '/v1/topics').route.api).toBe('create');
    expect(router.match('GET', '/v1/topics/a%2Fb')).toMatchObject({ route: { api: 'describe' }, params: { topic: 'a/b' } });
    expect(router.match('GET', '/v1/topics/t/partitions/3/messages').params).toEqual({ topic: 't', partition: '3' });
    expect(router.match('HEAD', '/v1/topics').route.api).toBe('list');
  });

  it('answers NOT_FOUND for no route and METHOD_NOT_ALLOWED with the allowed methods', () => {
    expect(failure('GET', '/v1/nothing')).toMatchObject({ type: 'NOT_FOUND', message: 'no endpoint /v1/nothing; see GET /v1/openapi.json' });
    expect(failure('GET', '/v1/topics/')).toMatchObject({ type: 'NOT_FOUND' });
    expect(failure('DELETE', '/v1/topics')).toMatchObject({ type: 'METHOD_NOT_ALLOWED', details: { allow: 'GET, POST' } });
    expect(failure('GET', '/v1/topics/%E0%A4%A')).toMatchObject({ type: 'INVALID_REQUEST', message: "path segment '%E0%A4%A' is not valid percent-encoding" });
  });
});
