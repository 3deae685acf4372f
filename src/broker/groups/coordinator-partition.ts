// Which __consumer_offsets partition holds a group. Any thread (the main thread routes by it, the
// owner of that partition coordinates the group).
//
// Kafka's rule, so that tools that know it find the same partition: Utils.abs(groupId.hashCode())
// % partitions, with Java's String.hashCode over UTF-16 code units.

export const OFFSETS_TOPIC = '__consumer_offsets';

export function coordinatorPartition(groupId: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < groupId.length; i++) hash = (Math.imul(hash, 31) + groupId.charCodeAt(i)) | 0;
  // Kafka's Utils.abs maps Integer.MIN_VALUE to 0 rather than to itself.
  return (hash === -0x8000_0000 ? 0 : Math.abs(hash)) % partitions;
}
