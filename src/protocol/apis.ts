// The API table: every API of the binary protocol, declared as data in one place, like Kafka's
// message/*.json. Any thread.
//
// For each api: its key, its name, and per supported version the schema of the request header, the
// schema of the response header and what each body carries. The fields of each message are declared
// in its api-*.ts file, with their types.
//
// Rules, because clients and brokers of different ages must talk:
//   - Keys are never reused: a retired api keeps its key, unused.
//   - A released version never changes: no field is removed, renamed, reordered in meaning, or
//     changed in type or meaning, and no new field becomes required. A new OPTIONAL field may be
//     added to a released version (peers that do not know it ignore it); anything else is a new version.
//   - Unknown header fields are ignored, so a newer peer may send more than an older one reads.
//   - The body's meaning is fixed per api and version (a record set, or nothing).

import type { HelloRequest, HelloResponse, ApiVersionRange } from './api-hello.js';
import { helloRequest, helloResponse } from './api-hello.js';
import type { MetadataRequest, MetadataResponse } from './api-metadata.js';
import { metadataRequest, metadataResponse } from './api-metadata.js';
import type { CreateTopicsRequest, CreateTopicsResponse } from './api-create-topics.js';
import { createTopicsRequest, createTopicsResponse } from './api-create-topics.js';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from './api-delete-topics.js';
import { deleteTopicsRequest, deleteTopicsResponse } from './api-delete-topics.js';
import type { ListTopicsRequest, ListTopicsResponse } from './api-list-topics.js';
import { listTopicsRequest, listTopicsResponse } from './api-list-topics.js';
import type { DescribeTopicsRequest, DescribeTopicsResponse } from './api-describe-topics.js';
import { describeTopicsRequest, describeTopicsResponse } from './api-describe-topics.js';
import type { ProduceRequest, ProduceResponse } from './api-produce.js';
import { produceRequest, produceResponse } from './api-produce.js';
import type { FetchRequest, FetchResponse } from './api-fetch.js';
import { checkFetchResponseBody, fetchRequest, fetchResponse } from './api-fetch.js';
import type { ListOffsetsRequest, ListOffsetsResponse } from './api-list-offsets.js';
import { listOffsetsRequest, listOffsetsResponse } from './api-list-offsets.js';
import type { InitProducerIdRequest, InitProducerIdResponse } from './api-init-producer-id.js';
import { initProducerIdRequest, initProducerIdResponse } from './api-init-producer-id.js';
import type { FindCoordinatorRequest, FindCoordinatorResponse } from './api-find-coordinator.js';
import { findCoordinatorRequest, findCoordinatorResponse } from './api-find-coordinator.js';
import type { JoinGroupRequest, JoinGroupResponse } from './api-join-group.js';
import { joinGroupRequest, joinGroupResponse } from './api-join-group.js';
import type { SyncGroupRequest, SyncGroupResponse } from './api-sync-group.js';
import { syncGroupRequest, syncGroupResponse } from './api-sync-group.js';
import type { HeartbeatRequest, HeartbeatResponse } from './api-heartbeat.js';
import { heartbeatRequest, heartbeatResponse } from './api-heartbeat.js';
import type { LeaveGroupRequest, LeaveGroupResponse } from './api-leave-group.js';
import { leaveGroupRequest, leaveGroupResponse } from './api-leave-group.js';
import type { OffsetCommitRequest, OffsetCommitResponse } from './api-offset-commit.js';
import { offsetCommitRequest, offsetCommitResponse } from './api-offset-commit.js';
import type { OffsetFetchRequest, OffsetFetchResponse } from './api-offset-fetch.js';
import { offsetFetchRequest, offsetFetchResponse } from './api-offset-fetch.js';
import type { ListGroupsRequest, ListGroupsResponse } from './api-list-groups.js';
import { listGroupsRequest, listGroupsResponse } from './api-list-groups.js';
import type { DescribeGroupsRequest, DescribeGroupsResponse } from './api-describe-groups.js';
import { describeGroupsRequest, describeGroupsResponse } from './api-describe-groups.js';
import type { DeleteGroupsRequest, DeleteGroupsResponse } from './api-delete-groups.js';
import { deleteGroupsRequest, deleteGroupsResponse } from './api-delete-groups.js';
import type { ClusterStatusRequest, ClusterStatusResponse } from './api-cluster-status.js';
import { clusterStatusRequest, clusterStatusResponse } from './api-cluster-status.js';
import type { RebalanceRequest, RebalanceResponse } from './api-rebalance.js';
import { rebalanceRequest, rebalanceResponse } from './api-rebalance.js';
import type { ReplicaFetchRequest, ReplicaFetchResponse } from './api-replica-fetch.js';
import { checkReplicaFetchResponseBody, replicaFetchRequest, replicaFetchResponse } from './api-replica-fetch.js';
import type { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from './api-offset-for-leader-epoch.js';
import { offsetForLeaderEpochRequest, offsetForLeaderEpochResponse } from './api-offset-for-leader-epoch.js';
import type { AlterIsrRequest, AlterIsrResponse } from './api-alter-isr.js';
import type { CreatePartitionsRequest, CreatePartitionsResponse } from './api-create-partitions.js';
import { createPartitionsRequest, createPartitionsResponse } from './api-create-partitions.js';
import { alterIsrRequest, alterIsrResponse } from './api-alter-isr.js';
import { Errors } from '../errors.js';
import { isProtocolError, protocolError, type ProtocolError } from './protocol-error.js';
import { Violation, type Field } from './schema.js';

export const ApiKeys = Object.freeze({
  Hello: 0,
  Metadata: 1,
  CreateTopics: 2,
  DeleteTopics: 3,
  ListTopics: 4,
  DescribeTopics: 5,
  Produce: 6,
  Fetch: 7,
  ListOffsets: 8,
  InitProducerId: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  SyncGroup: 12,
  Heartbeat: 13,
  LeaveGroup: 14,
  OffsetCommit: 15,
  OffsetFetch: 16,
  ListGroups: 17,
  DescribeGroups: 18,
  DeleteGroups: 19,
  // 20-29: the cluster (issue 7).
  ClusterStatus: 20,
  Rebalance: 21,
  // Topic admin added after the 0-19 block filled up.
  CreatePartitions: 22,
  // Between brokers (replication, issue 8): keys 30-39.
  ReplicaFetch: 30,
  OffsetForLeaderEpoch: 31,
  AlterIsr: 32,
} as const);

export type ApiKey = (typeof ApiKeys)[keyof typeof ApiKeys];

/** The request header type of each api. */
export interface RequestHeaders {
  [ApiKeys.Hello]: HelloRequest;
  [ApiKeys.Metadata]: MetadataRequest;
  [ApiKeys.CreateTopics]: CreateTopicsRequest;
  [ApiKeys.DeleteTopics]: DeleteTopicsRequest;
  [ApiKeys.ListTopics]: ListTopicsRequest;
  [ApiKeys.DescribeTopics]: DescribeTopicsRequest;
  [ApiKeys.Produce]: ProduceRequest;
  [ApiKeys.Fetch]: FetchRequest;
  [ApiKeys.ListOffsets]: ListOffsetsRequest;
  [ApiKeys.InitProducerId]: InitProducerIdRequest;
  [ApiKeys.FindCoordinator]: FindCoordinatorRequest;
  [ApiKeys.JoinGroup]: JoinGroupRequest;
  [ApiKeys.SyncGroup]: SyncGroupRequest;
  [ApiKeys.Heartbeat]: HeartbeatRequest;
  [ApiKeys.LeaveGroup]: LeaveGroupRequest;
  [ApiKeys.OffsetCommit]: OffsetCommitRequest;
  [ApiKeys.OffsetFetch]: OffsetFetchRequest;
  [ApiKeys.ListGroups]: ListGroupsRequest;
  [ApiKeys.DescribeGroups]: DescribeGroupsRequest;
  [ApiKeys.DeleteGroups]: DeleteGroupsRequest;
  [ApiKeys.ClusterStatus]: ClusterStatusRequest;
  [ApiKeys.Rebalance]: RebalanceRequest;
  [ApiKeys.CreatePartitions]: CreatePartitionsRequest;
  [ApiKeys.ReplicaFetch]: ReplicaFetchRequest;
  [ApiKeys.OffsetForLeaderEpoch]: OffsetForLeaderEpochRequest;
  [ApiKeys.AlterIsr]: AlterIsrRequest;
}

/** The response header type of each api (when the frame's errorCode is NONE). */
export interface ResponseHeaders {
  [ApiKeys.Hello]: HelloResponse;
  [ApiKeys.Metadata]: MetadataResponse;
  [ApiKeys.CreateTopics]: CreateTopicsResponse;
  [ApiKeys.DeleteTopics]: DeleteTopicsResponse;
  [ApiKeys.ListTopics]: ListTopicsResponse;
  [ApiKeys.DescribeTopics]: DescribeTopicsResponse;
  [ApiKeys.Produce]: ProduceResponse;
  [ApiKeys.Fetch]: FetchResponse;
  [ApiKeys.ListOffsets]: ListOffsetsResponse;
  [ApiKeys.InitProducerId]: InitProducerIdResponse;
  [ApiKeys.FindCoordinator]: FindCoordinatorResponse;
  [ApiKeys.JoinGroup]: JoinGroupResponse;
  [ApiKeys.SyncGroup]: SyncGroupResponse;
  [ApiKeys.Heartbeat]: HeartbeatResponse;
  [ApiKeys.LeaveGroup]: LeaveGroupResponse;
  [ApiKeys.OffsetCommit]: OffsetCommitResponse;
  [ApiKeys.OffsetFetch]: OffsetFetchResponse;
  [ApiKeys.ListGroups]: ListGroupsResponse;
  [ApiKeys.DescribeGroups]: DescribeGroupsResponse;
  [ApiKeys.DeleteGroups]: DeleteGroupsResponse;
  [ApiKeys.ClusterStatus]: ClusterStatusResponse;
  [ApiKeys.Rebalance]: RebalanceResponse;
  [ApiKeys.CreatePartitions]: CreatePartitionsResponse;
  [ApiKeys.ReplicaFetch]: ReplicaFetchResponse;
  [ApiKeys.OffsetForLeaderEpoch]: OffsetForLeaderEpochResponse;
  [ApiKeys.AlterIsr]: AlterIsrResponse;
}

/** What a body holds: nothing (it must be empty), or a record set (RecordBatch v2 batches). */
export type BodyKind = 'none' | 'records';

export interface ApiVersionSpec<K extends ApiKey = ApiKey> {
  readonly request: Field<RequestHeaders[K]>;
  readonly response: Field<ResponseHeaders[K]>;
  readonly requestBody: BodyKind;
  readonly responseBody: BodyKind;
  /** Further checks of a response body against its header; returns a problem or undefined. */
  checkResponseBody?(header: ResponseHeaders[K], bodyLength: number): string | undefined;
}

export interface ApiSpec<K extends ApiKey = ApiKey> {
  readonly key: K;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Indexed by version; holes below minVersion. */
  readonly versions: readonly (ApiVersionSpec<K> | undefined)[];
}

function api<K extends ApiKey>(key: K, name: string, versions: readonly (ApiVersionSpec<K> | undefined)[]): ApiSpec<K> {
  const minVersion = versions.findIndex((v) => v !== undefined);
  return Object.freeze({ key, name, minVersion, maxVersion: versions.length - 1, versions: Object.freeze([...versions]) });
}

const NO_BODIES = { requestBody: 'none', responseBody: 'none' } as const;

export const API_TABLE: { readonly [K in ApiKey]: ApiSpec<K> } = Object.freeze({
  [ApiKeys.Hello]: api(ApiKeys.Hello, 'Hello', [{ request: helloRequest, response: helloResponse, ...NO_BODIES }]),
  [ApiKeys.Metadata]: api(ApiKeys.Metadata, 'Metadata', [{ request: metadataRequest, response: metadataResponse, ...NO_BODIES }]),
  [ApiKeys.CreateTopics]: api(ApiKeys.CreateTopics, 'CreateTopics', [
    { request: createTopicsRequest, response: createTopicsResponse, ...NO_BODIES },
  ]),
  [ApiKeys.DeleteTopics]: api(ApiKeys.DeleteTopics, 'DeleteTopics', [
    { request: deleteTopicsRequest, response: deleteTopicsResponse, ...NO_BODIES },
  ]),
  [ApiKeys.ListTopics]: api(ApiKeys.ListTopics, 'ListTopics', [{ request: listTopicsRequest, response: listTopicsResponse, ...NO_BODIES }]),
  [ApiKeys.DescribeTopics]: api(ApiKeys.DescribeTopics, 'DescribeTopics', [
    { request: describeTopicsRequest, response: describeTopicsResponse, ...NO_BODIES },
  ]),
  [ApiKeys.Produce]: api(ApiKeys.Produce, 'Produce', [
    { request: produceRequest, response: produceResponse, requestBody: 'records', responseBody: 'none' },
  ]),
  [ApiKeys.Fetch]: api(ApiKeys.Fetch, 'Fetch', [
    {
      request: fetchRequest,
      response: fetchResponse,
      requestBody: 'none',
      responseBody: 'records',
      checkResponseBody: checkFetchResponseBody,
    },
  ]),
  [ApiKeys.ListOffsets]: api(ApiKeys.ListOffsets, 'ListOffsets', [
    { request: listOffsetsRequest, response: listOffsetsResponse, ...NO_BODIES },
  ]),
  [ApiKeys.InitProducerId]: api(ApiKeys.InitProducerId, 'InitProducerId', [
    { request: initProducerIdRequest, response: initProducerIdResponse, ...NO_BODIES },
  ]),
  [ApiKeys.FindCoordinator]: api(ApiKeys.FindCoordinator, 'FindCoordinator', [{ request: findCoordinatorRequest, response: findCoordinatorResponse, ...NO_BODIES }]),
  [ApiKeys.JoinGroup]: api(ApiKeys.JoinGroup, 'JoinGroup', [{ request: joinGroupRequest, response: joinGroupResponse, ...NO_BODIES }]),
  [ApiKeys.SyncGroup]: api(ApiKeys.SyncGroup, 'SyncGroup', [{ request: syncGroupRequest, response: syncGroupResponse, ...NO_BODIES }]),
  [ApiKeys.Heartbeat]: api(ApiKeys.Heartbeat, 'Heartbeat', [{ request: heartbeatRequest, response: heartbeatResponse, ...NO_BODIES }]),
  [ApiKeys.LeaveGroup]: api(ApiKeys.LeaveGroup, 'LeaveGroup', [{ request: leaveGroupRequest, response: leaveGroupResponse, ...NO_BODIES }]),
  [ApiKeys.OffsetCommit]: api(ApiKeys.OffsetCommit, 'OffsetCommit', [{ request: offsetCommitRequest, response: offsetCommitResponse, ...NO_BODIES }]),
  [ApiKeys.OffsetFetch]: api(ApiKeys.OffsetFetch, 'OffsetFetch', [{ request: offsetFetchRequest, response: offsetFetchResponse, ...NO_BODIES }]),
  [ApiKeys.ListGroups]: api(ApiKeys.ListGroups, 'ListGroups', [{ request: listGroupsRequest, response: listGroupsResponse, ...NO_BODIES }]),
  [ApiKeys.DescribeGroups]: api(ApiKeys.DescribeGroups, 'DescribeGroups', [{ request: describeGroupsRequest, response: describeGroupsResponse, ...NO_BODIES }]),
  [ApiKeys.DeleteGroups]: api(ApiKeys.DeleteGroups, 'DeleteGroups', [{ request: deleteGroupsRequest, response: deleteGroupsResponse, ...NO_BODIES }]),
  [ApiKeys.ClusterStatus]: api(ApiKeys.ClusterStatus, 'ClusterStatus', [{ request: clusterStatusRequest, response: clusterStatusResponse, ...NO_BODIES }]),
  [ApiKeys.Rebalance]: api(ApiKeys.Rebalance, 'Rebalance', [{ request: rebalanceRequest, response: rebalanceResponse, ...NO_BODIES }]),
  [ApiKeys.CreatePartitions]: api(ApiKeys.CreatePartitions, 'CreatePartitions', [
    { request: createPartitionsRequest, response: createPartitionsResponse, ...NO_BODIES },
  ]),
  [ApiKeys.ReplicaFetch]: api(ApiKeys.ReplicaFetch, 'ReplicaFetch', [
    { request: replicaFetchRequest, response: replicaFetchResponse, requestBody: 'none', responseBody: 'records', checkResponseBody: checkReplicaFetchResponseBody },
  ]),
  [ApiKeys.OffsetForLeaderEpoch]: api(ApiKeys.OffsetForLeaderEpoch, 'OffsetForLeaderEpoch', [
    { request: offsetForLeaderEpochRequest, response: offsetForLeaderEpochResponse, ...NO_BODIES },
  ]),
  [ApiKeys.AlterIsr]: api(ApiKeys.AlterIsr, 'AlterIsr', [{ request: alterIsrRequest, response: alterIsrResponse, ...NO_BODIES }]),
});

const byKey: readonly (ApiSpec | undefined)[] = (() => {
  const table: (ApiSpec | undefined)[] = [];
  for (const spec of Object.values(API_TABLE) as ApiSpec[]) table[spec.key] = spec;
  return table;
})();

/** The spec of an api key, or undefined for a key this side does not know. */
export function apiSpec(key: number): ApiSpec | undefined {
  return byKey[key];
}

export function isApiKey(key: number): key is ApiKey {
  return byKey[key] !== undefined;
}

/** The name of an api key for messages: 'Produce', or 'api 42' for an unknown key. */
export function apiName(key: number): string {
  return byKey[key]?.name ?? `api ${key}`;
}

/** This side's versions, per api, as Hello lists them. */
export function supportedApis(): ApiVersionRange[] {
  return byKey
    .filter((spec): spec is ApiSpec => spec !== undefined)
    .map((spec) => ({ apiKey: spec.key, minVersion: spec.minVersion, maxVersion: spec.maxVersion }));
}

/** False only for Produce with acks 0, which gets no response frame at all. */
export function expectsResponse<K extends ApiKey>(apiKey: K, header: RequestHeaders[K]): boolean {
  return !(apiKey === ApiKeys.Produce && (header as ProduceRequest).acks === 0);
}

/**
 * Checks a request header (a decoded msgpack map, or JSON from the HTTP API) against its api's
 * schema. Returns the typed header — a fresh object with only the declared fields — or an error
 * naming the field: INVALID_REQUEST, INVALID_TOPIC_EXCEPTION for a bad topic name, or
 * UNSUPPORTED_VERSION for an api or version this side does not know. The ids only go into the error.
 */
export function validateRequestHeader<K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  header: unknown,
  correlationId?: number,
): RequestHeaders[K] | ProtocolError {
  const version = versionSpec(apiKey, apiVersion, correlationId);
  if (isProtocolError(version)) return version;
  return check(version.request as Field<RequestHeaders[K]>, header, `${apiName(apiKey)} v${apiVersion} request header`, correlationId, apiKey);
}

/** Checks a response header against its api's schema, as validateRequestHeader does a request's. */
export function validateResponseHeader<K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  header: unknown,
  correlationId?: number,
): ResponseHeaders[K] | ProtocolError {
  const version = versionSpec(apiKey, apiVersion, correlationId);
  if (isProtocolError(version)) return version;
  return check(version.response as Field<ResponseHeaders[K]>, header, `${apiName(apiKey)} v${apiVersion} response header`, correlationId, apiKey);
}

/** The spec of an api's version, or UNSUPPORTED_VERSION. */
export function versionSpec(apiKey: number, apiVersion: number, correlationId?: number): ApiVersionSpec | ProtocolError {
  const api = byKey[apiKey];
  if (api === undefined) return protocolError(Errors.UNSUPPORTED_VERSION, `unknown api key ${apiKey}`, false, correlationId, apiKey);
  const version = api.versions[apiVersion];
  if (version === undefined) {
    return protocolError(
      Errors.UNSUPPORTED_VERSION,
      `${api.name} v${apiVersion} is not supported (supported: v${api.minVersion} to v${api.maxVersion})`,
      false,
      correlationId,
      apiKey,
    );
  }
  return version;
}

/** Runs a schema; a Violation becomes an error whose message starts with `what`. */
export function check<T>(field: Field<T>, value: unknown, what: string, correlationId?: number, apiKey?: number): T | ProtocolError {
  try {
    return field(value);
  } catch (error) {
    if (!(error instanceof Violation)) throw error;
    return protocolError(error.spec, `${what}: ${error.describe()}`, false, correlationId, apiKey);
  }
}
