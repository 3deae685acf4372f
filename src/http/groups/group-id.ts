// A group id from a URL path, checked as the binary protocol checks it. Main thread.

import { Errors, RillError } from '../../errors.js';
import { MAX_GROUP_ID_LENGTH } from '../../protocol/group-fields.js';

/** The group id, or INVALID_GROUP_ID (400): 1..255 characters, as the group APIs accept. */
export function validGroupId(raw: string): string {
  if (raw.length === 0 || raw.length > MAX_GROUP_ID_LENGTH) throw new RillError(Errors.INVALID_GROUP_ID, `the group id must be 1..${MAX_GROUP_ID_LENGTH} characters, got ${raw.length}`);
  return raw;
}
