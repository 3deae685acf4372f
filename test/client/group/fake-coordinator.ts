// A group coordinator that never touches the network, for unit tests of the membership state
// machine and the offset committer: every request is recorded and answered by a handler the test
// sets per api (default answers: success).

import { ApiKeys, type RequestHeaders, type ResponseHeaders } from '../../../src/protocol/index.js';
import { type GroupApi, type GroupChannel } from '../../../src/client/group/coordinator-channel.js';

export type Handler<K extends GroupApi> = (request: RequestHeaders[K]) => ResponseHeaders[K] | Promise<ResponseHeaders[K]>;

export class FakeCoordinator implements GroupChannel {
  readonly calls: { apiKey: GroupApi; request: unknown }[] = [];
  resets = 0;
  private readonly handlers = new Map<GroupApi, Handler<GroupApi>>();

  constructor() {
    this.on(ApiKeys.Heartbeat, () => ({ errorCode: 0 }));
    this.on(ApiKeys.LeaveGroup, (r) => ({ errorCode: 0, members: r.members.map((m) => ({ ...m, errorCode: 0 })) }));
    this.on(ApiKeys.OffsetCommit, (r) => ({ errorCode: 0, partitions: r.partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode: 0 })) }));
    this.on(ApiKeys.OffsetFetch, (r) => ({ errorCode: 0, partitions: (r.partitions ?? []).map((p) => ({ ...p, offset: -1, metadata: '', commitTimestamp: -1, errorCode: 0 })) }));
  }

  on<K extends GroupApi>(apiKey: K, handler: Handler<K>): this {
    this.handlers.set(apiKey, handler as unknown as Handler<GroupApi>);
    return this;
  }

  /** The requests sent for one api, in order. */
  sent<K extends GroupApi>(apiKey: K): RequestHeaders[K][] {
    return this.calls.filter((c) => c.apiKey === apiKey).map((c) => c.request as RequestHeaders[K]);
  }

  async call<K extends GroupApi>(apiKey: K, header: RequestHeaders[K]): Promise<ResponseHeaders[K]> {
    this.calls.push({ apiKey, request: structuredClone(header) });
    const handler = this.handlers.get(apiKey);
    if (handler === undefined) throw new Error(`no handler for api ${apiKey}`);
    return (await handler(header as never)) as ResponseHeaders[K];
  }

  reset(): void {
    this.resets++;
  }
}
