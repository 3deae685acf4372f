import { describe, expect, it } from 'vitest';
import { Errors } from '../../src/errors.js';
import {
  API_TABLE,
  ApiKeys,
  apiName,
  apiSpec,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  expectsResponse,
  isApiKey,
  negotiateVersions,
  supportedApis,
  validateRequestHeader,
  validateResponseHeader,
  type ApiKey,
  type ProtocolError,
  type RequestHeaders,
  type ResponseHeaders,
} from '../../src/protocol/index.js';

describe('the API table', () => {
  it('keeps its keys: they are part of the wire format and never change or get reused', () => {
    expect(ApiKeys).toEqual({
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
      ClusterStatus: 20,
      Rebalance: 21,
      CreatePartitions: 22,
      ReplicaFetch: 30,
      OffsetForLeaderEpoch: 31,
      AlterIsr: 32,
    });
  });

  it('declares each api under its own key, with version 0 and schemas for both directions', () => {
    for (const [name, key] of Object.entries(ApiKeys)) {
      const spec = API_TABLE[key];
      expect(spec).toMatchObject({ key, name, minVersion: 0, maxVersion: 0 });
      expect(apiSpec(key)).toBe(spec);
      expect(apiName(key)).toBe(name);
      expect(isApiKey(key)).toBe(true);
      expect(typeof spec.versions[0]?.request).toBe('function');
      expect(typeof spec.versions[0]?.response).toBe('function');
    }
    expect(apiSpec(99)).toBeUndefined();
    expect(isApiKey(99)).toBe(false);
    expect(apiName(99)).toBe('api 99');
  });

  it('carries a record set only in Produce requests and Fetch / ReplicaFetch responses', () => {
    const bodies = Object.values(API_TABLE).map((s) => [s.name, s.versions[0]?.requestBody, s.versions[0]?.responseBody]);
    expect(bodies.filter(([, req]) => req === 'records').map(([n]) => n)).toEqual(['Produce']);
    expect(bodies.filter(([, , res]) => res === 'records').map(([n]) => n)).toEqual(['Fetch', 'ReplicaFetch']);
  });

  it('lists its versions for Hello', () => {
    expect(supportedApis()).toEqual(Object.values(ApiKeys).map((apiKey) => ({ apiKey, minVersion: 0, maxVersion: 0 })));
  });
});

describe('negotiateVersions', () => {
  it('picks the highest common version per api and drops apis without one', () => {
    const ours = [
      { apiKey: 0, minVersion: 0, maxVersion: 3 },
      { apiKey: 1, minVersion: 2, maxVersion: 4 },
      { apiKey: 2, minVersion: 0, maxVersion: 0 },
      { apiKey: 3, minVersion: 0, maxVersion: 1 },
    ];
    const theirs = [
      { apiKey: 0, minVersion: 0, maxVersion: 1 },
      { apiKey: 1, minVersion: 0, maxVersion: 1 },
      { apiKey: 2, minVersion: 0, maxVersion: 5 },
    ];
    expect([...negotiateVersions(ours, theirs)]).toEqual([
      [0, 1],
      [2, 0],
    ]);
  });
});

describe('expectsResponse', () => {
  it('is false only for Produce with acks 0', () => {
    const produce = { topic: 't', partition: 0, acks: 0 as const, timeoutMs: 1 };
    expect(expectsResponse(ApiKeys.Produce, produce)).toBe(false);
    expect(expectsResponse(ApiKeys.Produce, { ...produce, acks: 1 })).toBe(true);
    expect(expectsResponse(ApiKeys.Metadata, {})).toBe(true);
  });
});

/** Decodes a request with `header` (and a body where the api needs one) and returns its error. */
function requestError(apiKey: ApiKey, header: unknown): ProtocolError {
  const body = apiKey === ApiKeys.Produce ? Uint8Array.of(1) : undefined;
  const result = decodeRequest(encodeRequest(apiKey, 0, 1, header as RequestHeaders[ApiKey], body));
  if (result.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(result.header)}`);
  return result;
}

const produce = { topic: 'orders', partition: 0, acks: 1, timeoutMs: 1000 };
const fetchPartition = { topic: 'orders', partition: 0, offset: 0, maxBytes: 1024 };
const fetch = { partitions: [fetchPartition], maxWaitMs: 500, minBytes: 1, maxBytes: 1 << 20 };

describe('request validators reject bad fields with a message naming the field', () => {
  const INVALID = Errors.INVALID_REQUEST;
  const TOPIC = Errors.INVALID_TOPIC_EXCEPTION;
  const cases: [string, ApiKey, unknown, { code: number }, string][] = [
    // Hello
    ['Hello without clientId', ApiKeys.Hello, { apis: [] }, INVALID, "Hello v0 request header: 'clientId' is missing"],
    ['Hello with a numeric clientId', ApiKeys.Hello, { clientId: 7, apis: [] }, INVALID, "'clientId' must be a string, got 7"],
    ['Hello with a 256-char clientId', ApiKeys.Hello, { clientId: 'x'.repeat(256), apis: [] }, INVALID, "'clientId' must be a string of 0..255 characters, got 256"],
    ['Hello with apis not a list', ApiKeys.Hello, { clientId: 'c', apis: {} }, INVALID, "'apis' must be an array, got a map"],
    ['Hello with min above max', ApiKeys.Hello, { clientId: 'c', apis: [{ apiKey: 1, minVersion: 2, maxVersion: 1 }] }, INVALID, "'apis[0]' has minVersion 2 above maxVersion 1"],
    ['Hello with a negative api key', ApiKeys.Hello, { clientId: 'c', apis: [{ apiKey: -1, minVersion: 0, maxVersion: 0 }] }, INVALID, "'apis[0].apiKey' must be a u16, got -1"],
    ['Hello listing an api twice', ApiKeys.Hello, { clientId: 'c', apis: [{ apiKey: 1, minVersion: 0, maxVersion: 0 }, { apiKey: 1, minVersion: 0, maxVersion: 0 }] }, INVALID, "'apis[1]' repeats apiKey \"1\" of element [0]"],
    // Metadata
    ['Metadata with topics not a list', ApiKeys.Metadata, { topics: 'orders' }, INVALID, "'topics' must be an array, got \"orders\""],
    ['Metadata with topic ".."', ApiKeys.Metadata, { topics: ['ok', '..'] }, TOPIC, "'topics[1]' must not be \"..\", got \"..\""],
    // CreateTopics
    ['CreateTopics with no topics', ApiKeys.CreateTopics, { topics: [] }, INVALID, "'topics' must have at least 1 element, got 0"],
    ['CreateTopics with an internal name', ApiKeys.CreateTopics, { topics: [{ name: '__consumer_offsets' }] }, TOPIC, "'topics[0].name' must not start with \"__\""],
    ['CreateTopics with a bad character', ApiKeys.CreateTopics, { topics: [{ name: 'a/b' }] }, TOPIC, "'topics[0].name' may contain only ASCII letters"],
    ['CreateTopics with 0 partitions', ApiKeys.CreateTopics, { topics: [{ name: 'a', partitions: 0 }] }, INVALID, "'topics[0].partitions' must be a positive int32, got 0"],
    ['CreateTopics with a numeric config', ApiKeys.CreateTopics, { topics: [{ name: 'a', configs: { 'retention.ms': 5 } }] }, INVALID, "'topics[0].configs[\"retention.ms\"]' must be a string, got 5"],
    ['CreateTopics with validateOnly "yes"', ApiKeys.CreateTopics, { topics: [{ name: 'a' }], validateOnly: 'yes' }, INVALID, "'validateOnly' must be a boolean, got \"yes\""],
    ['CreateTopics naming a topic twice', ApiKeys.CreateTopics, { topics: [{ name: 'a' }, { name: 'a' }] }, INVALID, "'topics[1]' repeats name \"a\" of element [0]"],
    // DeleteTopics
    ['DeleteTopics with a name not a string', ApiKeys.DeleteTopics, { topics: [1] }, INVALID, "'topics[0]' must be a topic name (a string), got 1"],
    ['DeleteTopics of an internal topic', ApiKeys.DeleteTopics, { topics: ['__queue_state'] }, TOPIC, "'topics[0]' must not start with \"__\""],
    ['DeleteTopics with a negative timeout', ApiKeys.DeleteTopics, { topics: ['a'], timeoutMs: -1 }, INVALID, "'timeoutMs' must be a non-negative int32, got -1"],
    // ListTopics
    ['ListTopics with includeInternal 1', ApiKeys.ListTopics, { includeInternal: 1 }, INVALID, "'includeInternal' must be a boolean, got 1"],
    // DescribeTopics
    ['DescribeTopics without topics', ApiKeys.DescribeTopics, {}, INVALID, "'topics' is missing"],
    ['DescribeTopics with an empty name', ApiKeys.DescribeTopics, { topics: [''] }, TOPIC, "'topics[0]' must not be empty"],
    ['DescribeTopics with a 250-char name', ApiKeys.DescribeTopics, { topics: ['a'.repeat(250)] }, TOPIC, "'topics[0]' must be at most 249 characters, got 250"],
    // Produce
    ['Produce without partition', ApiKeys.Produce, { ...produce, partition: undefined }, INVALID, "Produce v0 request header: 'partition' is missing"],
    ['Produce with partition "3"', ApiKeys.Produce, { ...produce, partition: '3' }, INVALID, "'partition' must be a non-negative int32, got \"3\""],
    ['Produce with partition -1', ApiKeys.Produce, { ...produce, partition: -1 }, INVALID, "'partition' must be a non-negative int32, got -1"],
    ['Produce with partition 2^31', ApiKeys.Produce, { ...produce, partition: 2 ** 31 }, INVALID, "'partition' must be a non-negative int32, got 2147483648"],
    ['Produce with partition nil', ApiKeys.Produce, { ...produce, partition: null }, INVALID, "'partition' must be a non-negative int32, got nil"],
    ['Produce with acks 2', ApiKeys.Produce, { ...produce, acks: 2 }, INVALID, "'acks' must be 0 or 1 or -1, got 2"],
    ['Produce with a topic list', ApiKeys.Produce, { ...produce, topic: ['a'] }, INVALID, "'topic' must be a topic name (a string), got an array"],
    ['Produce to an internal topic', ApiKeys.Produce, { ...produce, topic: '__consumer_offsets' }, TOPIC, "'topic' must not start with \"__\""],
    ['Produce with a space in the topic', ApiKeys.Produce, { ...produce, topic: 'my topic' }, TOPIC, "'topic' may contain only ASCII letters, digits, \".\", \"_\" and \"-\", got \"my topic\""],
    ['Produce with timeoutMs 1.5', ApiKeys.Produce, { ...produce, timeoutMs: 1.5 }, INVALID, "'timeoutMs' must be a non-negative int32, got 1.5"],
    // Fetch
    ['Fetch without partitions', ApiKeys.Fetch, { ...fetch, partitions: undefined }, INVALID, "'partitions' is missing"],
    ['Fetch with no partitions', ApiKeys.Fetch, { ...fetch, partitions: [] }, INVALID, "'partitions' must have at least 1 element, got 0"],
    ['Fetch with a partition not a map', ApiKeys.Fetch, { ...fetch, partitions: [fetchPartition, 5] }, INVALID, "'partitions[1]' must be a map, got 5"],
    ['Fetch with a negative offset', ApiKeys.Fetch, { ...fetch, partitions: [fetchPartition, { ...fetchPartition, partition: 1, offset: -5 }] }, INVALID, "Fetch v0 request header: 'partitions[1].offset' must be a non-negative safe integer, got -5"],
    ['Fetch with offset 2^53', ApiKeys.Fetch, { ...fetch, partitions: [{ ...fetchPartition, offset: 2 ** 53 }] }, INVALID, "'partitions[0].offset' must be a non-negative safe integer, got 9007199254740992"],
    ['Fetch with a fractional offset', ApiKeys.Fetch, { ...fetch, partitions: [{ ...fetchPartition, offset: 0.5 }] }, INVALID, "'partitions[0].offset' must be a non-negative safe integer, got 0.5"],
    ['Fetch with a partition maxBytes of 0', ApiKeys.Fetch, { ...fetch, partitions: [{ ...fetchPartition, maxBytes: 0 }] }, INVALID, "'partitions[0].maxBytes' must be a positive int32, got 0"],
    ['Fetch with the same partition twice', ApiKeys.Fetch, { ...fetch, partitions: [fetchPartition, fetchPartition] }, INVALID, "'partitions[1]' repeats topic-partition \"orders/0\" of element [0]"],
    ['Fetch with minBytes true', ApiKeys.Fetch, { ...fetch, minBytes: true }, INVALID, "'minBytes' must be a non-negative int32, got true"],
    ['Fetch without maxWaitMs', ApiKeys.Fetch, { ...fetch, maxWaitMs: undefined }, INVALID, "'maxWaitMs' is missing"],
    // ListOffsets
    ['ListOffsets with timestamp -3', ApiKeys.ListOffsets, { partitions: [{ topic: 'a', partition: 0, timestamp: -3 }] }, INVALID, "'partitions[0].timestamp' must be a timestamp in ms, -1 (latest) or -2 (earliest), got -3"],
    ['ListOffsets without topic', ApiKeys.ListOffsets, { partitions: [{ partition: 0, timestamp: -1 }] }, INVALID, "'partitions[0].topic' is missing"],
  ];

  it.each(cases)('%s', (_name, apiKey, header, spec, message) => {
    const error = requestError(apiKey, header);
    expect(error.code).toBe(spec.code);
    expect(error.message).toContain(message);
    expect(error.closeConnection).toBe(false);
  });

  it('truncate long bad values in messages', () => {
    const error = requestError(ApiKeys.Produce, { ...produce, topic: 'a b'.repeat(1000) });
    expect(error.message.length).toBeLessThan(250);
    expect(error.message).toContain('(3000 chars)');
  });

  it('accept internal topics in requests that only read', () => {
    const cases: [ApiKey, unknown][] = [
      [ApiKeys.Metadata, { topics: ['__consumer_offsets'] }],
      [ApiKeys.DescribeTopics, { topics: ['__consumer_offsets'] }],
      [ApiKeys.Fetch, { ...fetch, partitions: [{ ...fetchPartition, topic: '__consumer_offsets' }] }],
      [ApiKeys.ListOffsets, { partitions: [{ topic: '__consumer_offsets', partition: 0, timestamp: -2 }] }],
    ];
    for (const [apiKey, header] of cases) {
      expect(decodeRequest(encodeRequest(apiKey, 0, 1, header as RequestHeaders[ApiKey])).kind).toBe('request');
    }
  });
});

describe('response validators reject bad fields with a message naming the field', () => {
  function responseError(apiKey: ApiKey, header: unknown, body?: Uint8Array): ProtocolError {
    const result = decodeResponse(encodeResponse(1, apiKey, header as ResponseHeaders[ApiKey], body));
    if (result.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(result)}`);
    expect(result.code).toBe(Errors.INVALID_REQUEST.code);
    return result;
  }
  const produceResponse = { topic: 'a', partition: 0, errorCode: 0, baseOffset: 5, logAppendTime: -1, logStartOffset: 0 };

  it.each([
    ['Produce baseOffset a string', ApiKeys.Produce, { ...produceResponse, baseOffset: '5' }, "Produce v0 response header: 'baseOffset' must be an offset or -1, got \"5\""],
    ['Produce errorCode beyond int16', ApiKeys.Produce, { ...produceResponse, errorCode: 40000 }, "'errorCode' must be an int16, got 40000"],
    ['Produce without logStartOffset', ApiKeys.Produce, { ...produceResponse, logStartOffset: undefined }, "'logStartOffset' is missing"],
    ['Metadata with port 0', ApiKeys.Metadata, { clusterId: 'c', brokers: [{ nodeId: 1, host: 'h', port: 0 }], topics: [] }, "'brokers[0].port' must be a TCP port (1..65535), got 0"],
    ['Metadata with leader -2', ApiKeys.Metadata, { clusterId: 'c', brokers: [], topics: [{ name: 't', errorCode: 0, internal: false, partitions: [{ partition: 0, errorCode: 0, leader: -2 }] }] }, "'topics[0].partitions[0].leader' must be a node id (-1 or a non-negative int32), got -2"],
    ['Hello without authMechanisms', ApiKeys.Hello, { nodeId: 1, clusterId: 'c', apis: [], maxFrameBytes: 1 }, "'authMechanisms' is missing"],
    ['DescribeTopics with configs a list', ApiKeys.DescribeTopics, { topics: [{ name: 't', errorCode: 0, internal: false, configs: [], partitions: [] }] }, "'topics[0].configs' must be a map, got an array"],
  ])('%s', (_name, apiKey, header, message) => {
    expect(responseError(apiKey, header).message).toContain(message);
  });
});

describe('validateRequestHeader / validateResponseHeader (usable without frames, e.g. on JSON from HTTP)', () => {
  it('return a fresh typed header with only the declared fields', () => {
    const input = JSON.parse('{"topic":"orders","partition":2,"acks":1,"timeoutMs":10,"extra":true,"__proto__":{"x":1}}');
    const header = validateRequestHeader(ApiKeys.Produce, 0, input, 5);
    expect(header).toEqual({ topic: 'orders', partition: 2, acks: 1, timeoutMs: 10 });
    expect(header).not.toBe(input);
    expect(Object.getPrototypeOf(header)).toBe(Object.prototype);
  });

  it('return an error with the code, the message naming the field, and the ids', () => {
    expect(validateRequestHeader(ApiKeys.ListOffsets, 0, { partitions: [{ topic: 'a', partition: 0 }] }, 5)).toEqual({
      kind: 'error',
      code: 42,
      type: 'INVALID_REQUEST',
      message: "ListOffsets v0 request header: 'partitions[0].timestamp' is missing",
      closeConnection: false,
      correlationId: 5,
      apiKey: ApiKeys.ListOffsets,
    });
    expect(validateRequestHeader(ApiKeys.Produce, 0, 'not a map')).toMatchObject({
      code: 42,
      message: 'Produce v0 request header: header must be a map, got "not a map"',
    });
    expect(validateResponseHeader(ApiKeys.ListTopics, 0, { topics: [{ name: 't', partitions: -1, internal: false }] })).toMatchObject({
      code: 42,
      message: "ListTopics v0 response header: 'topics[0].partitions' must be a non-negative int32, got -1",
    });
  });

  it('answer UNSUPPORTED_VERSION for an unknown api or version', () => {
    expect(validateRequestHeader(42 as ApiKey, 0, {})).toMatchObject({ code: 35, message: 'unknown api key 42' });
    expect(validateRequestHeader(ApiKeys.Hello, 1, {})).toMatchObject({ code: 35, message: 'Hello v1 is not supported (supported: v0 to v0)' });
  });
});
