// The built-in partition assignors, by protocol name. Application thread.

import { cooperativeStickyAssignor } from './cooperative-sticky-assignor.js';
import { rangeAssignor } from './range-assignor.js';
import { roundRobinAssignor } from './round-robin-assignor.js';
import { type Assignor } from './assignor.js';

export type { Assignor, AssignorMember, RebalanceProtocol } from './assignor.js';
export { flatten, toTopicPartitions, tpKey } from './assignor.js';
export { cooperativeStickyAssignor, rangeAssignor, roundRobinAssignor };

export const BUILT_IN_ASSIGNORS: readonly Assignor[] = [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor];
