// Public face of the threads layer: the SPSC rings between the main thread and the workers.
// Imports nothing internal.

export { CONSUME_BATCH_ENTRIES, CONSUME_SPIN_CHECKS, Ring, RingClosedError, RingConsumer, RingProducer } from './ring.js';
export type { RingConsumerStats, RingProducerStats } from './ring.js';
export { DATA_OFFSET as RING_HEADER_BYTES, MAX_CAPACITY_BYTES as RING_MAX_CAPACITY_BYTES, MIN_CAPACITY_BYTES as RING_MIN_CAPACITY_BYTES } from './ring-layout.js';
export { entryBytes as ringEntryBytes, maxEntryBytes as ringMaxEntryBytes } from './ring-layout.js';
