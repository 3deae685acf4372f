import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { describeBrokerSettings, envFor, flagFor, readConfigFile, resolveBrokerConfig } from '../../src/broker/config.js';
import { tempDirs } from '../helpers/temp-dir.js';

const tempDir = tempDirs();

describe('broker configuration', () => {
  it('has the documented defaults', () => {
    const { config } = resolveBrokerConfig();
    expect(config).toMatchObject({
      dataDir: './data',
      host: '127.0.0.1',
      port: 9400,
      httpPort: 9480,
      clusterPort: 9440,
      nodeId: 1,
      workers: availableParallelism(),
      maxFrameBytes: 2_000_000,
      logLevel: 'info',
      defaultPartitions: 1,
    });
    expect(config.logDefaults).toMatchObject({ segmentBytes: 1024 ** 3, flushMode: 'async', flushIntervalMs: 1000 });
  });

  it('takes file < environment < flags, for broker settings and log defaults alike', () => {
    const { config } = resolveBrokerConfig({
      file: { port: 1000, 'http.port': 1001, workers: 3, 'log.flush.mode': 'sync', 'log.segment.bytes': 1048576 },
      env: { RILL_HTTP_PORT: '2001', RILL_WORKERS: '5', RILL_LOG_SEGMENT_BYTES: '2097152', PATH: '/bin' },
      flags: { workers: 7 },
    });
    expect(config.port).toBe(1000);
    expect(config.httpPort).toBe(2001);
    expect(config.workers).toBe(7);
    expect(config.logDefaults.flushMode).toBe('sync');
    expect(config.logDefaults.segmentBytes).toBe(2097152);
  });

  it('reads JSON and YAML files, flat or nested', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'rill.json'), JSON.stringify({ data: { dir: '/srv/rill' }, 'node.id': 4 }));
    writeFileSync(join(dir, 'rill.yaml'), 'data:\n  dir: /srv/yaml\nlog:\n  retention.ms: 60000\nworkers: 2\n');
    expect(resolveBrokerConfig({ file: readConfigFile(join(dir, 'rill.json')) }).config).toMatchObject({ dataDir: '/srv/rill', nodeId: 4 });
    const yaml = resolveBrokerConfig({ file: readConfigFile(join(dir, 'rill.yaml')) }).config;
    expect(yaml).toMatchObject({ dataDir: '/srv/yaml', workers: 2 });
    expect(yaml.logDefaults.retentionMs).toBe(60000);
  });

  it('names the setting and the source of every bad value', () => {
    const cases: [Parameters<typeof resolveBrokerConfig>[0], RegExp][] = [
      [{ flags: { port: 70000 } }, /port \(from --port\) must be between 0 and 65535/],
      [{ env: { RILL_WORKERS: 'many' } }, /workers \(from RILL_WORKERS\) must be an integer/],
      [{ env: { RILL_WORKERS: '0' } }, /workers .* between 1 and 1024/],
      [{ file: { 'log.level': 'loud' } }, /log.level .* must be one of/],
      [{ file: { 'data.dir': '' } }, /data.dir .* must not be empty/],
      [{ file: { prot: 9400 } }, /unknown setting 'prot'/],
      [{ file: { 'log.flush.mode': 'sometimes' } }, /flush.mode/],
    ];
    for (const [sources, message] of cases) {
      expect(() => resolveBrokerConfig(sources)).toThrow(expect.objectContaining({ type: 'INVALID_CONFIG', message: expect.stringMatching(message) }));
    }
  });

  it('reports unknown RILL_* variables instead of failing on them', () => {
    const { unknownEnv } = resolveBrokerConfig({ env: { RILL_PROT: '1', RILL_PORT: '9500', HOME: '/root' } });
    expect(unknownEnv).toEqual(['RILL_PROT']);
  });

  it('refuses unreadable or malformed config files clearly', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.json'), '{ "port": ');
    writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
    expect(() => readConfigFile(join(dir, 'missing.yaml'))).toThrow(/cannot read config file .*ENOENT/);
    expect(() => readConfigFile(join(dir, 'bad.json'))).toThrow(/not valid JSON/);
    expect(() => readConfigFile(join(dir, 'list.yaml'))).toThrow(/must hold an object of settings/);
  });

  it('derives one flag and one environment variable per setting', () => {
    expect(flagFor('log.segment.bytes')).toBe('--log-segment-bytes');
    expect(envFor('log.segment.bytes')).toBe('RILL_LOG_SEGMENT_BYTES');
    const described = describeBrokerSettings();
    expect(new Set(described.map((d) => d.env)).size).toBe(described.length);
    expect(described.find((d) => d.name === 'data.dir')).toMatchObject({ flag: '--data-dir', env: 'RILL_DATA_DIR', default: './data' });
  });
});

describe('request ring size', () => {
  it('holds two of the largest frames, rounded up to a power of two: 4 MiB for the default', async () => {
    const { requestRingBytes } = await import('../../src/broker/broker.js');
    const { maxEntryBytes } = await import('../../src/threads/ring-layout.js');
    expect(requestRingBytes(2_000_000)).toBe(4 * 1024 * 1024);
    for (const frame of [1024, 2_000_000, 2 * 1024 * 1024, 16 * 1024 * 1024]) {
      const ring = requestRingBytes(frame);
      expect(Math.log2(ring) % 1).toBe(0);
      expect(maxEntryBytes(ring)).toBeGreaterThanOrEqual(frame + 32 * 1024); // the frame and its routing meta
    }
  });
});
