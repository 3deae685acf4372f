// Which partition a message goes to. Application thread (the producer's send path).
//
// Keyed messages: Kafka's default partitioner exactly, so that a key lands where a Java, librdkafka
// or kafkajs producer would put it: toPositive(murmur2(keyBytes)) % numPartitions, with murmur2
// seeded 0x9747b28c and toPositive(n) = n & 0x7fffffff (org.apache.kafka.common.utils.Utils).
// String keys are hashed as their UTF-8 bytes, written into a scratch buffer rather than a new one
// per message.
//
// Keyless messages: sticky partitioning (Kafka's KIP-480). Spreading keyless messages round-robin
// makes many small batches, one per partition, and the per-request cost dominates; sticking to one
// partition until its batch is sent fills whole batches, then the producer moves on. The
// accumulator calls onNewBatch() whenever the sticky partition would need a new batch (the old one
// is full or was sent), and the partitioner picks another partition at random.

export const MURMUR2_SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (Utils.murmur2) of bytes[start, end): a signed 32-bit int, as Java returns it. */
export function murmur2(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const length = end - start;
  let h = MURMUR2_SEED ^ length;
  const whole = start + (length & ~3);
  for (let i = start; i < whole; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= bytes[whole + 2] << 16;
  if (rest >= 2) h ^= bytes[whole + 1] << 8;
  if (rest >= 1) {
    h ^= bytes[whole];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which fails for -2^31). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

let scratch = Buffer.allocUnsafe(1024);

/** The partition Kafka's default partitioner gives a key. */
export function partitionForKey(key: Uint8Array | string, numPartitions: number): number {
  if (typeof key !== 'string') return toPositive(murmur2(key)) % numPartitions;
  if (key.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(Math.max(key.length * 3, scratch.length * 2));
  const length = scratch.write(key, 0, 'utf8');
  return toPositive(murmur2(scratch, 0, length)) % numPartitions;
}

/** The sticky partition of each topic, for keyless messages (KIP-480). */
export class StickyPartitioner {
  private readonly current = new Map<string, number>();
  private readonly random: () => number;

  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  /**
   * The topic's sticky partition, chosen at random the first time. With `partitions` (their leaders;
   * -1: none now), the choice is among available partitions while there are any — Kafka's
   * availablePartitionsForTopic — so unkeyed messages keep flowing while a node is down.
   */
  partition(topic: string, numPartitions: number, partitions?: readonly { readonly leader: number }[]): number {
    const sticky = this.current.get(topic);
    if (sticky !== undefined && sticky < numPartitions && (partitions === undefined || isAvailable(partitions, sticky))) return sticky;
    const chosen = this.pick(numPartitions, -1, partitions) ?? Math.floor(this.random() * numPartitions);
    this.current.set(topic, chosen);
    return chosen;
  }

  /** A random available partition other than `except`, or undefined when none is. */
  private pick(numPartitions: number, except: number, partitions?: readonly { readonly leader: number }[]): number | undefined {
    if (partitions === undefined) return undefined;
    const candidates: number[] = [];
    for (let p = 0; p < numPartitions; p++) if (p !== except && isAvailable(partitions, p)) candidates.push(p);
    return candidates.length === 0 ? undefined : candidates[Math.floor(this.random() * candidates.length)];
  }

  /**
   * The sticky partition `previous` needs a new batch: move on to another partition, chosen at
   * random among the others, and return it. (With one partition, it stays.)
   */
  onNewBatch(topic: string, numPartitions: number, previous: number, partitions?: readonly { readonly leader: number }[]): number {
    if (this.current.get(topic) !== previous) return this.partition(topic, numPartitions, partitions);
    const picked = this.pick(numPartitions, previous, partitions);
    if (picked !== undefined) {
      this.current.set(topic, picked);
      return picked;
    }
    let next = previous;
    if (numPartitions > 1) {
      next = Math.floor(this.random() * (numPartitions - 1));
      if (next >= previous) next++;
    }
    this.current.set(topic, next);
    return next;
  }
}

function isAvailable(partitions: readonly { readonly leader: number }[], partition: number): boolean {
  return (partitions[partition]?.leader ?? -1) >= 0;
}
