import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { addClientOptions, clientOptions, DEFAULT_TIMEOUT_MS, parseBrokers } from '../../src/cli/client-options.js';
import { clientConfig } from '../../src/cli/broker-session.js';

describe('--brokers and --timeout-ms', () => {
  it('parses host:port lists, filling in the default port', () => {
    expect(parseBrokers('127.0.0.1:9400')).toEqual(['127.0.0.1:9400']);
    expect(parseBrokers('a:1, b:2 ,c')).toEqual(['a:1', 'b:2', 'c:9400']);
    expect(parseBrokers('[::1]:9500,[::1]')).toEqual(['[::1]:9500', '[::1]:9400']);
    expect(parseBrokers('broker-1.example.com:9400,')).toEqual(['broker-1.example.com:9400']);
  });

  it('refuses what is not host:port', () => {
    for (const [bad, message] of [
      ['', /at least one broker/],
      [',', /at least one broker/],
      ['a:b', /'a:b' is not host:port/],
      ['a:0', /port outside 1..65535/],
      ['a:70000', /port outside/],
      ['::1:9400', /is not host:port/],
      ['a b:1', /is not host:port/],
    ] as const) {
      expect(() => parseBrokers(bad), bad).toThrow(message);
    }
  });

  function parse(argv: string[], env: Record<string, string> = {}) {
    const saved = process.env.RILL_BROKERS;
    delete process.env.RILL_BROKERS;
    Object.assign(process.env, env);
    try {
      const command = addClientOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => undefined }));
      command.parse(argv, { from: 'user' });
      return clientOptions(command);
    } finally {
      if (saved === undefined) delete process.env.RILL_BROKERS;
      else process.env.RILL_BROKERS = saved;
    }
  }

  it('defaults to 127.0.0.1:9400, takes RILL_BROKERS, and the flag over both', () => {
    expect(parse([])).toEqual({ brokers: ['127.0.0.1:9400'], timeoutMs: DEFAULT_TIMEOUT_MS, timeoutGiven: false });
    expect(parse([], { RILL_BROKERS: 'h1:1,h2:2' }).brokers).toEqual(['h1:1', 'h2:2']);
    expect(parse(['--brokers', 'h3:3'], { RILL_BROKERS: 'h1:1' }).brokers).toEqual(['h3:3']);
    expect(parse(['-b', 'h4'])).toMatchObject({ brokers: ['h4:9400'] });
    expect(parse(['--timeout-ms', '2500'])).toMatchObject({ timeoutMs: 2500, timeoutGiven: true });
    expect(() => parse(['--timeout-ms', '0'])).toThrow(/invalid/);
  });

  it('fits the client timeouts inside --timeout-ms', () => {
    const config = clientConfig({ brokers: ['h:1'], timeoutMs: 2000, timeoutGiven: true });
    expect(config.brokers).toEqual(['h:1']);
    expect(config.connectionTimeoutMs).toBeLessThanOrEqual(2000);
    expect(config.requestTimeoutMs).toBeLessThanOrEqual(2000);
    expect(config.retry!.maxRetryTimeMs).toBeLessThanOrEqual(2000);
  });
});
