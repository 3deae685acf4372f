// Well-formed failure answers for the group APIs, for when the request never reaches a
// coordinator (its owner is restarting, the offsets partition is not placed). Main thread; the
// coordinator builds its own answers.

import { ApiKeys, type RequestHeaders, type ResponseHeaders } from '../../protocol/index.js';
import type { GroupApiKey } from './coordinator-host.js';

export function groupFailure<K extends GroupApiKey>(apiKey: K, header: RequestHeaders[K], errorCode: number, message: string): ResponseHeaders[K] {
  const failure = { errorCode, message };
  switch (apiKey) {
    case ApiKeys.JoinGroup:
      return { ...failure, generationId: -1, protocolName: '', leader: '', memberId: (header as RequestHeaders[typeof ApiKeys.JoinGroup]).memberId, members: [] } as unknown as ResponseHeaders[K];
    case ApiKeys.SyncGroup:
      return { ...failure, protocolName: '', assignment: [] } as unknown as ResponseHeaders[K];
    case ApiKeys.Heartbeat:
      return failure as unknown as ResponseHeaders[K];
    case ApiKeys.LeaveGroup:
      return { ...failure, members: [] } as unknown as ResponseHeaders[K];
    case ApiKeys.OffsetCommit:
      return { ...failure, partitions: (header as RequestHeaders[typeof ApiKeys.OffsetCommit]).partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode })) } as unknown as ResponseHeaders[K];
    case ApiKeys.OffsetFetch:
      return { ...failure, partitions: [] } as unknown as ResponseHeaders[K];
    case ApiKeys.ListGroups:
      return { ...failure, groups: [] } as unknown as ResponseHeaders[K];
    case ApiKeys.DescribeGroups:
      return { groups: (header as RequestHeaders[typeof ApiKeys.DescribeGroups]).groups.map((groupId) => describedFailure(groupId, errorCode, message)) } as unknown as ResponseHeaders[K];
    case ApiKeys.DeleteGroups:
      return { groups: (header as RequestHeaders[typeof ApiKeys.DeleteGroups]).groups.map((groupId) => ({ groupId, ...failure })) } as unknown as ResponseHeaders[K];
  }
  throw new Error(`api ${apiKey} is not a group api`);
}

export function describedFailure(groupId: string, errorCode: number, message: string): ResponseHeaders[typeof ApiKeys.DescribeGroups]['groups'][number] {
  return { groupId, errorCode, message, state: 'Dead', protocolType: '', protocolName: '', generationId: -1, leader: '', members: [] };
}
