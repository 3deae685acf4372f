// One request to the first of the brokers that answers: the cluster commands' way to the
// cluster (any node answers status; changes are forwarded to the controller). Main thread.

import { Connection, parseAddress } from '../client/connection.js';
import { silentLogger } from '../client/logger.js';
import type { ApiKey, RequestHeaders, ResponseHeaders } from '../protocol/index.js';

/** One request to the first of the brokers that answers. */
export async function askBroker<K extends ApiKey>(brokers: string[], timeoutMs: number, apiKey: K, header: RequestHeaders[K]): Promise<ResponseHeaders[K]> {
  let lastError: unknown;
  for (const broker of brokers) {
    const { host, port } = parseAddress(broker);
    let connection: Connection | undefined;
    try {
      connection = await Connection.open({ host, port, clientId: 'rill-cli', connectionTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs, maxFrameBytes: 64 << 20, logger: silentLogger });
      return (await connection.request(apiKey, header, undefined, timeoutMs)).header;
    } catch (error) {
      lastError = error;
    } finally {
      connection?.close();
    }
  }
  throw lastError;
}

