// Operations endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document. Main thread.

import { Errors, RillError } from '../../errors.js';
import { ok } from '../http-call.js';
import { type HttpContext } from '../http-context.js';
import { openApiDocument } from '../openapi.js';
import { type Route } from '../router.js';

export function opsRoutes(ctx: HttpContext): Route[] {
  let openapi: string | undefined;
  return [
    // The process is up and its event loop answers: nothing else is checked, so an orchestrator
    // does not restart a broker that is busy recovering.
    { method: 'GET', path: '/healthz', api: 'healthz', handler: async () => ok({ status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      api: 'readyz',
      handler: async () => {
        const { ready, reason } = ctx.readiness();
        if (!ready) throw new RillError(Errors.LEADER_NOT_AVAILABLE, reason ?? 'partitions are still being opened and recovered');
        return ok({ status: 'ready' });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      api: 'metrics',
      handler: async () => {
        const { text, contentType } = await ctx.metrics.render();
        return { status: 200, text, contentType };
      },
    },
    {
      method: 'GET',
      path: '/v1/openapi.json',
      api: 'openapi',
      handler: async () => {
        openapi ??= JSON.stringify(openApiDocument(ctx.config));
        return { status: 200, text: openapi, contentType: 'application/json' };
      },
    },
  ];
}
