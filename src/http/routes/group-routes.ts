// Consumer-group administration over HTTP: list groups, describe one (members, assignments,
// committed offsets, log end offsets and lag), delete one. Main thread.
//
//   GET    /v1/groups             ?state=Stable,Empty
//   GET    /v1/groups/{group}
//   DELETE /v1/groups/{group}     only an empty group (NON_EMPTY_GROUP otherwise), as Kafka
//
// These go through the client library's group admin (admin-groups.ts) over the HTTP members'
// loopback client, so they ask each group's coordinator exactly as `rill groups` does.

import { Errors, RillError } from '../../errors.js';
import { ok, type Reply } from '../http-call.js';
import { type MemberClient } from '../groups/client-member-session.js';
import { validGroupId } from '../groups/group-id.js';
import { type Route } from '../router.js';

const STATES = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

export function groupRoutes(client: MemberClient): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/groups',
      api: 'groups_list',
      handler: async (call): Promise<Reply> => {
        const raw = call.query.get('state');
        const states = raw === null || raw === '' ? undefined : raw.split(',');
        const unknown = states?.find((s) => !STATES.includes(s));
        if (unknown !== undefined) throw new RillError(Errors.INVALID_REQUEST, `unknown group state ${JSON.stringify(unknown)}; known: ${STATES.join(', ')}`);
        const admin = await client.admin();
        const groups = await admin.listGroups(states === undefined ? {} : { states });
        return ok({ groups: groups.sort((a, b) => a.groupId.localeCompare(b.groupId)) });
      },
    },
    {
      method: 'GET',
      path: '/v1/groups/{group}',
      api: 'groups_describe',
      handler: async (call): Promise<Reply> => {
        const groupId = validGroupId(call.params.group);
        const admin = await client.admin();
        const [description, offsets] = await Promise.all([admin.describeGroup(groupId), admin.fetchOffsets({ groupId })]);
        if (description.state === 'Dead' && description.members.length === 0 && offsets.length === 0) {
          throw new RillError(Errors.GROUP_ID_NOT_FOUND, `group ${groupId} has no members and no committed offsets`, { group: groupId });
        }
        return ok({
          ...description,
          offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, committedOffset: o.committedOffset < 0 ? null : o.committedOffset, logEndOffset: o.logEndOffset, lag: o.lag, metadata: o.metadata })),
        });
      },
    },
    {
      method: 'DELETE',
      path: '/v1/groups/{group}',
      api: 'groups_delete',
      handler: async (call): Promise<Reply> => {
        const groupId = validGroupId(call.params.group);
        const admin = await client.admin();
        await admin.deleteGroups([groupId]);
        return { status: 204 };
      },
    },
  ];
}
