// Hello (api key 0): version negotiation, and room for authentication. Any thread.
//
// A client sends Hello first on a connection (not required, but without it the client has to
// assume v0 of everything). Each side lists, per api key, the versions it speaks; for each api the
// client then uses the highest version in both ranges (negotiateVersions), or none if they do not
// overlap. The broker answers Hello whatever versions the client lists.
//
// Authentication is reserved, not built: a request field `auth` (v0 brokers ignore it) and the
// response's `authMechanisms` (empty: this broker requires none). A client must not assume it is
// authenticated unless a later version of Hello says so.

import { array, nonNegativeInt32, refine, reserved, string, struct, uint16, unique, type Field } from './schema.js';

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface HelloRequest {
  /** Free text naming the client in logs and metrics, e.g. "billing-consumer-3". */
  clientId: string;
  /** The versions the client speaks, per api. */
  apis: ApiVersionRange[];
  /** Reserved for authentication; v0 brokers ignore it. */
  auth?: undefined;
}

export interface HelloResponse {
  /** The answering broker's node id. */
  nodeId: number;
  clusterId: string;
  /** The versions the broker speaks, per api. */
  apis: ApiVersionRange[];
  /** SASL-style mechanism names the broker accepts; empty while Rill has no authentication. */
  authMechanisms: string[];
  /** The broker's max.frame.bytes: the largest frame it accepts, length prefix included. */
  maxFrameBytes: number;
}

export const MAX_CLIENT_ID_LENGTH = 255;

const apiVersionRange: Field<ApiVersionRange> = refine(
  struct<ApiVersionRange>({ apiKey: uint16, minVersion: uint16, maxVersion: uint16 }),
  (range) => (range.minVersion > range.maxVersion ? `has minVersion ${range.minVersion} above maxVersion ${range.maxVersion}` : undefined),
);

export const apiVersionRanges: Field<ApiVersionRange[]> = unique(array(apiVersionRange), (r) => String(r.apiKey), 'apiKey');

export const helloRequest: Field<HelloRequest> = struct<HelloRequest>({
  clientId: string(MAX_CLIENT_ID_LENGTH),
  apis: apiVersionRanges,
  auth: reserved,
});

export const helloResponse: Field<HelloResponse> = struct<HelloResponse>({
  nodeId: nonNegativeInt32,
  clusterId: string(255, 1),
  apis: apiVersionRanges,
  authMechanisms: array(string(255, 1)),
  maxFrameBytes: nonNegativeInt32,
});

/** Per api key, the highest version both sides speak; apis with no common version are absent. */
export function negotiateVersions(ours: readonly ApiVersionRange[], theirs: readonly ApiVersionRange[]): Map<number, number> {
  const theirsByKey = new Map(theirs.map((r) => [r.apiKey, r]));
  const chosen = new Map<number, number>();
  for (const mine of ours) {
    const other = theirsByKey.get(mine.apiKey);
    if (other === undefined) continue;
    const version = Math.min(mine.maxVersion, other.maxVersion);
    if (version >= Math.max(mine.minVersion, other.minVersion)) chosen.set(mine.apiKey, version);
  }
  return chosen;
}
