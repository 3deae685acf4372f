// Public face of the HTTP API. Main thread.

export { HttpApi, CLIENT_CLOSED_REQUEST } from './http-server.js';
export type { ClusterRouting, HttpContext } from './http-context.js';
export { BrokerMetrics } from './metrics.js';
export type { MetricsSources, RingFigures, WorkerFigures } from './metrics.js';
export { LongPollLimiter } from './long-poll-limiter.js';
export { openApiDocument } from './openapi.js';
