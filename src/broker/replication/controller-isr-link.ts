// An IsrChannel from a partition leader's worker to the active controller over the binary
// protocol (AlterIsr, api 32): the worker cannot reach the Raft group on its node's main thread
// directly, and the controller may be another node anyway. Worker thread only.
//
// One connection, opened on first use and again after a failure; where the controller is comes
// from the node's leadership tasks. A proposal that cannot be delivered fails (the leader keeps
// its committed ISR and proposes again on its next check).

import { Connection } from '../../client/connection.js';
import { ApiKeys, DEFAULT_MAX_FRAME_BYTES } from '../../protocol/index.js';
import { Errors, RillError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { IsrChannel } from './isr-channel.js';
import type { BrokerAddress } from './tcp-leader-link.js';

/** `isCut` (fault tests): whether an injected network cut separates this node from the controller now. */
export function controllerLinkIsrChannel(controller: () => BrokerAddress | undefined, logger: Logger, isCut: () => boolean = () => false): IsrChannel {
  let connection: Promise<Connection> | null = null;
  let connectedTo = '';
  const connect = (): Promise<Connection> => {
    const address = controller();
    if (address === undefined) return Promise.reject(new RillError(Errors.NOT_CONTROLLER, 'no controller address known yet'));
    const key = `${address.host}:${address.port}`;
    if (connection !== null && connectedTo === key) return connection;
    void connection?.then((c) => c.close(), () => {});
    connectedTo = key;
    const opening = Connection.open({ host: address.host, port: address.port, clientId: 'rill-isr', connectionTimeoutMs: 5_000, requestTimeoutMs: 30_000, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, logger });
    connection = opening;
    const forget = () => {
      if (connection === opening) connection = null;
    };
    opening.then((c) => c.onClose(forget), forget);
    return opening;
  };
  // Across a cut a proposal fails as over a lost connection, its answer too if it comes after.
  const failIfCut = () => {
    if (!isCut()) return;
    void connection?.then((c) => c.close(), () => {});
    connection = null;
    throw new RillError(Errors.NETWORK_EXCEPTION, 'the network to the active controller is cut (injected fault)');
  };
  return {
    async alterIsr(request) {
      failIfCut();
      const c = await connect();
      const answer = (await c.request(ApiKeys.AlterIsr, request)).header;
      failIfCut();
      if (answer.errorCode === 0) return { ok: true, isr: answer.isr };
      return { ok: false, code: answer.errorCode, message: answer.message ?? 'AlterIsr refused', isr: answer.isr.length > 0 ? answer.isr : undefined };
    },
  };
}
