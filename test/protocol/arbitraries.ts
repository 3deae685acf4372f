// fast-check arbitraries for every API's request and response header (and body), shared by the
// round-trip and fuzz tests.

import fc from 'fast-check';
import { ApiKeys, type ApiKey, type RequestHeaders, type ResponseHeaders } from '../../src/protocol/index.js';

const INT32_MAX = 2 ** 31 - 1;

export const userTopic = fc
  .stringMatching(/^[a-zA-Z0-9._-]{1,40}$/)
  .filter((name) => name !== '.' && name !== '..' && !name.startsWith('__'));
export const anyTopic = fc.oneof(userTopic, userTopic.map((name) => `__${name}`.slice(0, 249)));
const partition = fc.integer({ min: 0, max: INT32_MAX });
const int32nn = fc.integer({ min: 0, max: INT32_MAX });
const int32pos = fc.integer({ min: 1, max: INT32_MAX });
const errorCode = fc.integer({ min: -32768, max: 32767 });
const offset = fc.maxSafeNat();
const offsetOrNone = fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER });
const nodeIdOrNone = fc.integer({ min: -1, max: INT32_MAX });
const text = fc.string({ maxLength: 60, unit: 'grapheme' });
const u16 = fc.integer({ min: 0, max: 0xffff });
const configKey = fc.string({ minLength: 1, maxLength: 30 }).filter((k) => k !== '__proto__');
const configs = fc.dictionary(configKey, text, { maxKeys: 5 });

const apiRange = fc
  .tuple(u16, u16, u16)
  .map(([apiKey, a, b]) => ({ apiKey, minVersion: Math.min(a, b), maxVersion: Math.max(a, b) }));
const apiRanges = fc.uniqueArray(apiRange, { selector: (r) => r.apiKey, maxLength: 10 });

function uniqueBy<T>(arb: fc.Arbitrary<T>, key: (t: T) => string, minLength = 1): fc.Arbitrary<T[]> {
  return fc.uniqueArray(arb, { selector: key, minLength, maxLength: 8 });
}
const tpKey = (p: { topic: string; partition: number }) => `${p.topic}/${p.partition}`;


// ---- consumer groups
const groupId = fc.string({ minLength: 1, maxLength: 60 });
const memberId = fc.string({ maxLength: 40 });
const instanceId = fc.string({ minLength: 1, maxLength: 40 });
const generationId = fc.integer({ min: -1, max: INT32_MAX });
const protocolName = fc.constantFrom('range', 'roundrobin', 'cooperative-sticky');
const topicPartitions = fc.uniqueArray(
  fc.record({ topic: anyTopic, partitions: fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { maxLength: 6 }) }),
  { selector: (t) => t.topic, maxLength: 4 },
);
const subscription = fc.record({ topics: fc.uniqueArray(anyTopic, { maxLength: 4 }), ownedPartitions: topicPartitions });
const groupState = fc.constantFrom('Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead');
const tpOffset = uniqueBy(fc.record({ topic: anyTopic, partition, offset, metadata: text }, { requiredKeys: ['topic', 'partition', 'offset'] }), tpKey);

export const requestHeaders: { [K in ApiKey]: fc.Arbitrary<RequestHeaders[K]> } = {
  [ApiKeys.Hello]: fc.record({ clientId: fc.string({ maxLength: 255 }), apis: apiRanges }),
  [ApiKeys.Metadata]: fc.record({ topics: fc.uniqueArray(anyTopic, { maxLength: 8 }) }, { requiredKeys: [] }),
  [ApiKeys.CreateTopics]: fc.record(
    {
      topics: uniqueBy(
        fc.record(
          {
            name: userTopic,
            partitions: int32pos,
            replicationFactor: fc.integer({ min: 1, max: 0x7fff }),
            configs,
          },
          { requiredKeys: ['name'] },
        ),
        (t) => t.name,
      ),
      timeoutMs: int32nn,
      validateOnly: fc.boolean(),
    },
    { requiredKeys: ['topics'] },
  ),
  [ApiKeys.DeleteTopics]: fc.record(
    { topics: fc.uniqueArray(userTopic, { minLength: 1, maxLength: 8 }), timeoutMs: int32nn },
    { requiredKeys: ['topics'] },
  ),
  [ApiKeys.ListTopics]: fc.record({ includeInternal: fc.boolean() }, { requiredKeys: [] }),
  [ApiKeys.DescribeTopics]: fc.record({ topics: fc.uniqueArray(anyTopic, { minLength: 1, maxLength: 8 }) }),
  [ApiKeys.Produce]: fc.record({
    topic: userTopic,
    partition,
    acks: fc.constantFrom(0 as const, 1 as const, -1 as const),
    timeoutMs: int32nn,
  }),
  [ApiKeys.Fetch]: fc.record({
    partitions: uniqueBy(fc.record({ topic: anyTopic, partition, offset, maxBytes: int32pos }), tpKey),
    maxWaitMs: int32nn,
    minBytes: int32nn,
    maxBytes: int32pos,
  }),
  [ApiKeys.ListOffsets]: fc.record({
    partitions: uniqueBy(
      fc.record({ topic: anyTopic, partition, timestamp: fc.integer({ min: -2, max: Number.MAX_SAFE_INTEGER }) }),
      tpKey,
    ),
  }),
  [ApiKeys.InitProducerId]: fc.record(
    { producerId: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), producerEpoch: fc.integer({ min: 0, max: 0x7fff }) },
    { requiredKeys: [] },
  ),
  [ApiKeys.FindCoordinator]: fc.record({ groupId }),
  [ApiKeys.JoinGroup]: fc.record(
    {
      groupId,
      memberId,
      groupInstanceId: instanceId,
      clientId: fc.string({ maxLength: 40 }),
      sessionTimeoutMs: int32nn,
      rebalanceTimeoutMs: fc.integer({ min: 1000, max: 30 * 60 * 1000 }),
      protocolType: fc.constant('consumer'),
      protocols: fc.uniqueArray(fc.record({ name: protocolName }), { selector: (p) => p.name, minLength: 1, maxLength: 3 }),
      subscription,
    },
    { requiredKeys: ['groupId', 'memberId', 'sessionTimeoutMs', 'rebalanceTimeoutMs', 'protocolType', 'protocols', 'subscription'] },
  ),
  [ApiKeys.SyncGroup]: fc.record(
    {
      groupId,
      generationId,
      memberId,
      groupInstanceId: instanceId,
      assignments: fc.uniqueArray(fc.record({ memberId: instanceId, partitions: topicPartitions }), { selector: (a) => a.memberId, maxLength: 4 }),
    },
    { requiredKeys: ['groupId', 'generationId', 'memberId'] },
  ),
  [ApiKeys.Heartbeat]: fc.record({ groupId, generationId, memberId, groupInstanceId: instanceId }, { requiredKeys: ['groupId', 'generationId', 'memberId'] }),
  [ApiKeys.LeaveGroup]: fc.record({ groupId, members: fc.array(fc.record({ memberId, groupInstanceId: instanceId }, { requiredKeys: ['memberId'] }), { minLength: 1, maxLength: 4 }) }),
  [ApiKeys.OffsetCommit]: fc.record(
    { groupId, generationId, memberId, groupInstanceId: instanceId, partitions: tpOffset },
    { requiredKeys: ['groupId', 'generationId', 'memberId', 'partitions'] },
  ),
  [ApiKeys.OffsetFetch]: fc.record({ groupId, partitions: uniqueBy(fc.record({ topic: anyTopic, partition }), tpKey, 0) }, { requiredKeys: ['groupId'] }),
  [ApiKeys.ListGroups]: fc.record({ states: fc.array(groupState, { maxLength: 3 }) }, { requiredKeys: [] }),
  [ApiKeys.DescribeGroups]: fc.record({ groups: fc.uniqueArray(groupId, { minLength: 1, maxLength: 4 }) }),
  [ApiKeys.DeleteGroups]: fc.record({ groups: fc.uniqueArray(groupId, { minLength: 1, maxLength: 4 }) }),
  [ApiKeys.ClusterStatus]: fc.constant({}),
  [ApiKeys.Rebalance]: fc.record({ dryRun: fc.boolean(), topics: fc.array(anyTopic, { maxLength: 3 }), list: fc.boolean(), cancel: fc.boolean() }, { requiredKeys: [] }),
  [ApiKeys.CreatePartitions]: fc.record(
    { topics: uniqueBy(fc.record({ name: anyTopic, count: int32pos }), (t) => t.name), timeoutMs: int32nn, validateOnly: fc.boolean() },
    { requiredKeys: ['topics'] },
  ),
  [ApiKeys.ReplicaFetch]: fc.record({
    replicaId: int32nn,
    partitions: uniqueBy(fc.record({ topic: anyTopic, partition, leaderEpoch: int32nn, fetchOffset: offset, maxBytes: int32pos }), tpKey),
    maxWaitMs: int32nn,
    minBytes: int32nn,
    maxBytes: int32pos,
  }),
  [ApiKeys.OffsetForLeaderEpoch]: fc.record({
    replicaId: nodeIdOrNone,
    partitions: uniqueBy(fc.record({ topic: anyTopic, partition, currentLeaderEpoch: int32nn, leaderEpoch: fc.integer({ min: -1, max: INT32_MAX }) }), tpKey),
  }),
  [ApiKeys.AlterIsr]: fc.record({ topic: anyTopic, partition, leader: int32nn, leaderEpoch: int32nn, isr: fc.array(int32nn, { minLength: 1, maxLength: 5 }) }),
};

export const responseHeaders: { [K in ApiKey]: fc.Arbitrary<ResponseHeaders[K]> } = {
  [ApiKeys.Hello]: fc.record({
    nodeId: int32nn,
    clusterId: fc.string({ minLength: 1, maxLength: 40 }),
    apis: apiRanges,
    authMechanisms: fc.array(fc.constantFrom('PLAIN', 'SCRAM-SHA-256'), { maxLength: 2 }),
    maxFrameBytes: int32nn,
  }),
  [ApiKeys.Metadata]: fc.record({
    clusterId: fc.string({ minLength: 1, maxLength: 40 }),
    brokers: fc.array(
      fc.record({ nodeId: int32nn, host: fc.domain(), port: fc.integer({ min: 1, max: 65535 }) }),
      { maxLength: 4 },
    ),
    topics: fc.array(
      fc.record({
        name: anyTopic,
        errorCode,
        internal: fc.boolean(),
        partitions: fc.array(
          fc.record(
            {
              partition,
              errorCode,
              leader: nodeIdOrNone,
              replicas: fc.array(int32nn, { maxLength: 3 }),
              isr: fc.array(int32nn, { maxLength: 3 }),
            },
            { requiredKeys: ['partition', 'errorCode', 'leader'] },
          ),
          { maxLength: 4 },
        ),
      }),
      { maxLength: 4 },
    ),
  }),
  [ApiKeys.CreateTopics]: fc.record({
    topics: fc.array(
      fc.record(
        {
          name: userTopic,
          errorCode,
          message: text,
          partitions: int32pos,
          replicationFactor: fc.integer({ min: 1, max: 0x7fff }),
        },
        { requiredKeys: ['name', 'errorCode'] },
      ),
      { maxLength: 4 },
    ),
  }),
  [ApiKeys.DeleteTopics]: fc.record({
    topics: fc.array(fc.record({ name: userTopic, errorCode, message: text }, { requiredKeys: ['name', 'errorCode'] }), {
      maxLength: 4,
    }),
  }),
  [ApiKeys.ListTopics]: fc.record({
    topics: fc.array(fc.record({ name: anyTopic, partitions: int32nn, internal: fc.boolean() }), { maxLength: 6 }),
  }),
  [ApiKeys.DescribeTopics]: fc.record({
    topics: fc.array(
      fc.record(
        {
          name: anyTopic,
          errorCode,
          message: text,
          internal: fc.boolean(),
          configs,
          partitions: fc.array(
            fc.record({
              partition,
              errorCode,
              leader: nodeIdOrNone,
              logStartOffset: offsetOrNone,
              logEndOffset: offsetOrNone,
              highWatermark: offsetOrNone,
              sizeBytes: offsetOrNone,
            }),
            { maxLength: 4 },
          ),
        },
        { requiredKeys: ['name', 'errorCode', 'internal', 'configs', 'partitions'] },
      ),
      { maxLength: 3 },
    ),
  }),
  [ApiKeys.Produce]: fc.record(
    {
      topic: userTopic,
      partition,
      errorCode,
      message: text,
      baseOffset: offsetOrNone,
      logAppendTime: offsetOrNone,
      logStartOffset: offsetOrNone,
    },
    { requiredKeys: ['topic', 'partition', 'errorCode', 'baseOffset', 'logAppendTime', 'logStartOffset'] },
  ),
  [ApiKeys.Fetch]: fc.record({
    partitions: fc.array(
      fc.record(
        {
          topic: anyTopic,
          partition,
          errorCode,
          highWatermark: offsetOrNone,
          logStartOffset: offsetOrNone,
          lastStableOffset: offsetOrNone,
          bytes: fc.integer({ min: 0, max: 64 }),
        },
        { requiredKeys: ['topic', 'partition', 'errorCode', 'highWatermark', 'logStartOffset', 'bytes'] },
      ),
      { maxLength: 5 },
    ),
  }),
  [ApiKeys.ListOffsets]: fc.record({
    partitions: fc.array(
      fc.record({ topic: anyTopic, partition, errorCode, offset: offsetOrNone, timestamp: offsetOrNone }),
      { maxLength: 5 },
    ),
  }),
  [ApiKeys.InitProducerId]: fc.record(
    {
      errorCode,
      message: text,
      producerId: fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }),
      producerEpoch: fc.integer({ min: -1, max: 0x7fff }),
    },
    { requiredKeys: ['errorCode', 'producerId', 'producerEpoch'] },
  ),
  [ApiKeys.FindCoordinator]: fc.record(
    { errorCode, message: text, nodeId: nodeIdOrNone, host: fc.domain(), port: fc.integer({ min: -1, max: 65535 }), partition },
    { requiredKeys: ['errorCode', 'nodeId', 'host', 'port', 'partition'] },
  ),
  [ApiKeys.JoinGroup]: fc.record(
    {
      errorCode,
      message: text,
      generationId,
      protocolName: fc.string({ maxLength: 40 }),
      leader: memberId,
      memberId,
      members: fc.array(fc.record({ memberId, groupInstanceId: instanceId, subscription }, { requiredKeys: ['memberId', 'subscription'] }), { maxLength: 4 }),
      skipAssignment: fc.boolean(),
    },
    { requiredKeys: ['errorCode', 'generationId', 'protocolName', 'leader', 'memberId', 'members'] },
  ),
  [ApiKeys.SyncGroup]: fc.record({ errorCode, message: text, protocolName: fc.string({ maxLength: 40 }), assignment: topicPartitions }, { requiredKeys: ['errorCode', 'protocolName', 'assignment'] }),
  [ApiKeys.Heartbeat]: fc.record({ errorCode, message: text }, { requiredKeys: ['errorCode'] }),
  [ApiKeys.LeaveGroup]: fc.record(
    { errorCode, message: text, members: fc.array(fc.record({ memberId, groupInstanceId: instanceId, errorCode }, { requiredKeys: ['memberId', 'errorCode'] }), { maxLength: 4 }) },
    { requiredKeys: ['errorCode', 'members'] },
  ),
  [ApiKeys.OffsetCommit]: fc.record(
    { errorCode, message: text, partitions: fc.array(fc.record({ topic: anyTopic, partition, errorCode }), { maxLength: 5 }) },
    { requiredKeys: ['errorCode', 'partitions'] },
  ),
  [ApiKeys.OffsetFetch]: fc.record(
    {
      errorCode,
      message: text,
      partitions: fc.array(fc.record({ topic: anyTopic, partition, offset: offsetOrNone, metadata: text, commitTimestamp: offsetOrNone, errorCode }), { maxLength: 5 }),
    },
    { requiredKeys: ['errorCode', 'partitions'] },
  ),
  [ApiKeys.ListGroups]: fc.record(
    { errorCode, message: text, groups: fc.array(fc.record({ groupId, protocolType: fc.constantFrom('', 'consumer'), state: groupState }), { maxLength: 5 }) },
    { requiredKeys: ['errorCode', 'groups'] },
  ),
  [ApiKeys.DescribeGroups]: fc.record({
    groups: fc.array(
      fc.record(
        {
          groupId,
          errorCode,
          message: text,
          state: groupState,
          protocolType: fc.constantFrom('', 'consumer'),
          protocolName: fc.string({ maxLength: 40 }),
          generationId,
          leader: memberId,
          members: fc.array(
            fc.record(
              { memberId, groupInstanceId: instanceId, clientId: fc.string({ maxLength: 40 }), clientHost: fc.string({ maxLength: 40 }), sessionTimeoutMs: int32nn, subscription, assignment: topicPartitions },
              { requiredKeys: ['memberId', 'clientId', 'clientHost', 'sessionTimeoutMs', 'subscription', 'assignment'] },
            ),
            { maxLength: 3 },
          ),
        },
        { requiredKeys: ['groupId', 'errorCode', 'state', 'protocolType', 'protocolName', 'generationId', 'leader', 'members'] },
      ),
      { maxLength: 3 },
    ),
  }),
  [ApiKeys.DeleteGroups]: fc.record({ groups: fc.array(fc.record({ groupId, errorCode, message: text }, { requiredKeys: ['groupId', 'errorCode'] }), { maxLength: 4 }) }),
  [ApiKeys.ClusterStatus]: fc.record(
    {
      errorCode,
      message: text,
      nodeId: int32nn,
      clusterId: fc.string({ maxLength: 20 }),
      controllerId: nodeIdOrNone,
      controllerTerm: offset,
      raftRole: fc.constantFrom('leader', 'follower', 'candidate', 'pre-candidate'),
      voters: fc.array(int32nn, { maxLength: 5 }),
      metadataVersion: offset,
      members: fc.array(
        fc.record(
          {
            id: int32nn,
            state: fc.constantFrom('alive', 'suspect', 'dead', 'left'),
            address: fc.constant('127.0.0.1:9440'),
            host: fc.constant('127.0.0.1'),
            ports: fc.dictionary(configKey, int32nn, { maxKeys: 3 }),
            rack: text,
            incarnation: offset,
            load: fc.dictionary(configKey, int32nn, { maxKeys: 3 }),
          },
          { requiredKeys: ['id', 'state', 'address', 'host', 'ports', 'incarnation', 'load'] },
        ),
        { maxLength: 3 },
      ),
      brokers: fc.array(fc.record({ id: int32nn, host: fc.constant('127.0.0.1'), port: u16, rack: text, fenced: fc.boolean() }, { requiredKeys: ['id', 'host', 'port', 'fenced'] }), { maxLength: 3 }),
      partitions: fc.array(fc.record({ topic: userTopic, partition, replicas: fc.array(int32nn, { maxLength: 3 }), leader: nodeIdOrNone, leaderEpoch: int32nn }), { maxLength: 4 }),
      drops: fc.dictionary(configKey, int32nn, { maxKeys: 3 }),
    },
    { requiredKeys: ['errorCode', 'nodeId', 'clusterId', 'controllerId', 'controllerTerm', 'raftRole', 'voters', 'metadataVersion', 'members', 'brokers', 'partitions', 'drops'] },
  ),
  [ApiKeys.CreatePartitions]: fc.record({
    topics: fc.array(fc.record({ name: anyTopic, errorCode, message: text, partitions: int32pos }, { requiredKeys: ['name', 'errorCode'] }), { maxLength: 4 }),
  }),
  [ApiKeys.Rebalance]: fc.record(
    {
      errorCode,
      message: text,
      moves: fc.array(
        fc.record({ topic: userTopic, partition, from: nodeIdOrNone, to: nodeIdOrNone, replicas: fc.array(int32nn, { maxLength: 3 }), target: fc.array(int32nn, { maxLength: 3 }) }, { requiredKeys: ['topic', 'partition', 'from', 'to'] }),
        { maxLength: 4 },
      ),
      skipped: int32nn,
      reassignments: fc.array(
        fc.record({
          topic: userTopic,
          partition,
          state: fc.constantFrom('queued' as const, 'moving' as const),
          replicas: fc.array(int32nn, { maxLength: 3 }),
          target: fc.array(int32nn, { maxLength: 3 }),
          adding: fc.array(int32nn, { maxLength: 3 }),
          removing: fc.array(int32nn, { maxLength: 3 }),
          leader: nodeIdOrNone,
          leaderLogEndOffset: offsetOrNone,
          progress: fc.array(fc.record({ replica: int32nn, logEndOffset: offsetOrNone }), { maxLength: 3 }),
        }),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ['errorCode', 'moves', 'skipped'] },
  ),
  [ApiKeys.ReplicaFetch]: fc.record({
    partitions: fc.array(
      fc.record({ topic: anyTopic, partition, errorCode, highWatermark: offsetOrNone, logStartOffset: offsetOrNone, logEndOffset: offsetOrNone, bytes: fc.integer({ min: 0, max: 64 }) }),
      { maxLength: 4 },
    ),
  }),
  [ApiKeys.OffsetForLeaderEpoch]: fc.record({
    partitions: fc.array(fc.record({ topic: anyTopic, partition, errorCode, leaderEpoch: fc.integer({ min: -1, max: INT32_MAX }), endOffset: offsetOrNone }), { maxLength: 4 }),
  }),
  [ApiKeys.AlterIsr]: fc.record({ topic: anyTopic, partition, errorCode, message: text, isr: fc.array(int32nn, { maxLength: 5 }) }, { requiredKeys: ['topic', 'partition', 'errorCode', 'isr'] }),
};

export const ALL_API_KEYS = Object.values(ApiKeys) as ApiKey[];

/** A request body the api accepts: a non-empty record-set stand-in for Produce, else nothing. */
export function requestBody(apiKey: ApiKey): fc.Arbitrary<Uint8Array | undefined> {
  return apiKey === ApiKeys.Produce ? fc.uint8Array({ minLength: 1, maxLength: 200 }) : fc.constant(undefined);
}

/** A response body matching the header: for Fetch, exactly the partitions' byte counts. */
export function responseBodyFor<K extends ApiKey>(apiKey: K, header: ResponseHeaders[K]): Uint8Array | undefined {
  if (apiKey !== ApiKeys.Fetch && apiKey !== ApiKeys.ReplicaFetch) return undefined;
  const fetch = header as ResponseHeaders[typeof ApiKeys.Fetch];
  const total = fetch.partitions.reduce((sum, p) => sum + p.bytes, 0);
  const body = new Uint8Array(total);
  let at = 0;
  fetch.partitions.forEach((p, i) => {
    body.fill(i + 1, at, at + p.bytes);
    at += p.bytes;
  });
  return body;
}

/** A valid request frame of any api. */
export const anyRequestFrame: fc.Arbitrary<{ apiKey: ApiKey; header: unknown; body: Uint8Array | undefined; correlationId: number }> =
  fc.constantFrom(...ALL_API_KEYS).chain((apiKey) =>
    fc.record({
      apiKey: fc.constant(apiKey),
      header: requestHeaders[apiKey] as fc.Arbitrary<unknown>,
      body: requestBody(apiKey),
      correlationId: fc.integer({ min: 0, max: 0xffff_ffff }),
    }),
  );
