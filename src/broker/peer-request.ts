// One request from this broker to another node's binary listener, answered once: how an admin
// request that reached a node which is not the active controller is forwarded to the one that is.
// Main thread.
//
// A fresh connection per request: these are rare (topic creation and deletion, rebalance) and a
// pooled connection to a controller that may change at any time would only add states. Bounded by
// `timeoutMs` and by the frame reader's max.frame.bytes.

import { connect } from 'node:net';
import { Errors, RillError, errorSpecByCode } from '../errors.js';
import { decodeResponse, encodeRequest, FrameReader, isProtocolError, type ApiKey, type RequestHeaders, type ResponseHeaders } from '../protocol/index.js';

export function peerRequest<K extends ApiKey>(
  address: { host: string; port: number },
  apiKey: K,
  header: RequestHeaders[K],
  options: { timeoutMs: number; maxFrameBytes: number },
): Promise<ResponseHeaders[K]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port, noDelay: true });
    const reader = new FrameReader({ maxFrameBytes: options.maxFrameBytes });
    let settled = false;
    const finish = (error: Error | null, value?: ResponseHeaders[K]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== null) reject(error);
      else resolve(value!);
    };
    const where = `${address.host}:${address.port}`;
    const timer = setTimeout(() => finish(new RillError(Errors.REQUEST_TIMED_OUT, `node at ${where} did not answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    socket.on('connect', () => socket.write(encodeRequest(apiKey, 0, 1, header)));
    socket.on('error', (error) => finish(new RillError(Errors.NETWORK_EXCEPTION, `node at ${where}: ${error.message}`)));
    socket.on('close', () => finish(new RillError(Errors.NETWORK_EXCEPTION, `node at ${where} closed the connection before answering`)));
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (let frame = reader.next(); frame !== undefined; frame = reader.next()) {
        if (isProtocolError(frame)) return finish(new RillError(errorSpecByCode(frame.code), frame.message));
        const response = decodeResponse(frame);
        if (isProtocolError(response)) return finish(new RillError(errorSpecByCode(response.code), response.message));
        if (response.kind === 'error-response') return finish(new RillError(errorSpecByCode(response.errorCode), response.header.message ?? `error ${response.errorCode} from ${where}`));
        return finish(null, response.header as ResponseHeaders[K]);
      }
    });
  });
}
