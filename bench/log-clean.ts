// Log compaction throughput: MB/s of sealed segments a cleaning pass reads and rewrites, on one
// thread (the owner's), for a few key-cardinality / overwrite mixes. Writes bench/results/log-clean.json.
// Run: npm run bench:clean   (--quick for a smaller log)

import { PartitionLog, encodeRecordBatch, isCleanSkip } from '../src/storage/index.js';
import { MB, MiB, collectGarbage, makeTempDir, now, parseOptions, removeDir, writeJson } from './bench-util.js';

const { quick } = parseOptions();
const LOG_BYTES = (quick ? 32 : 512) * MiB;
const VALUE_BYTES = 200;
const PER_BATCH = 50;

interface Case {
  name: string;
  keys: number;
}

const CASES: Case[] = [
  { name: '10k keys (each overwritten many times)', keys: 10_000 },
  { name: '1M keys (few overwrites)', keys: 1_000_000 },
];

const value = new Uint8Array(VALUE_BYTES).fill(0x61);

async function run(c: Case): Promise<Record<string, number | string>> {
  const dir = makeTempDir('rill-bench-clean-');
  try {
    const log = await PartitionLog.open(dir, { config: { cleanupPolicy: 'compact', segmentBytes: 64 * MiB } });
    let n = 0;
    while (log.size < LOG_BYTES) {
      const records = Array.from({ length: PER_BATCH }, () => ({ key: `key-${(n++ * 7919) % c.keys}`, value }));
      log.write(encodeRecordBatch({ records }));
    }
    log.roll();
    await log.flush();
    const before = log.size;
    collectGarbage();
    const started = now();
    const outcome = await log.clean(undefined, { force: true });
    const seconds = (now() - started) / 1000;
    if (isCleanSkip(outcome)) throw new Error(`pass skipped: ${outcome.skipped}`);
    await log.close();
    return {
      case: c.name,
      readMB: Math.round(outcome.bytesRead / MB),
      writtenMB: Math.round(outcome.bytesWritten / MB),
      records: outcome.recordsRead,
      removed: outcome.recordsRemoved,
      seconds: Number(seconds.toFixed(2)),
      'MB/s': Math.round(outcome.bytesRead / MB / seconds),
      logMBBefore: Math.round(before / MB),
    };
  } finally {
    removeDir(dir);
  }
}

const results = [];
for (const c of CASES) results.push(await run(c));
console.table(results);
writeJson('bench/results/log-clean.json', { quick, logBytes: LOG_BYTES, valueBytes: VALUE_BYTES, results });
