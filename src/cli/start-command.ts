// `rill start`: runs a broker until SIGTERM or SIGINT. Main thread.

import { Command, Option } from 'commander';
import { RillError } from '../errors.js';
import { createLogger } from '../logger.js';
import { Broker, clusterSettingsOf, isClustered } from '../broker/broker.js';
import { describeBrokerSettings, readConfigFile, resolveBrokerConfig } from '../broker/config.js';

/** commander's attribute name for a --kebab-case flag. */
function attributeOf(flag: string): string {
  return flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function startCommand(): Command {
  const command = new Command('start')
    .description('run a broker: binary protocol, partition-owner workers, data on disk')
    .addOption(new Option('--config <file>', 'read settings from a JSON or YAML file').env('RILL_CONFIG'));
  const settings = describeBrokerSettings();
  for (const s of settings) {
    command.addOption(new Option(`${s.flag} <value>`, `${s.description} [env ${s.env}]`).default(s.default));
  }
  command.addHelpText(
    'after',
    `
Precedence: defaults < --config file < RILL_* environment < flags.

Examples:
  $ rill start
  $ rill start --data-dir /var/lib/rill --port 9400 --workers 4
  $ RILL_LOG_FLUSH_MODE=sync rill start --config rill.yaml
  $ rill start --node-id 2 --port 9401 --http-port 9481 --cluster-port 9441 --seeds 127.0.0.1:9440 --controller-voters 1,2,3`,
  );
  command.action(async (options: Record<string, unknown>) => {
    // Only flags the user typed count as flags; commander fills in the defaults for help.
    const flags: Record<string, unknown> = {};
    for (const s of settings) {
      const attribute = attributeOf(s.flag);
      if (command.getOptionValueSource(attribute) === 'cli') flags[s.name] = options[attribute];
    }
    const file = typeof options.config === 'string' ? options.config : undefined;
    let resolved;
    try {
      resolved = resolveBrokerConfig({ file: file === undefined ? undefined : readConfigFile(file), fileName: file, env: process.env, flags });
      if (isClustered(resolved.config)) clusterSettingsOf(resolved.config); // bad seeds or voters: a usage error
    } catch (error) {
      if (error instanceof RillError) {
        console.error(`rill start: ${error.message}`);
        process.exit(2);
      }
      throw error;
    }
    const logger = createLogger({}, resolved.config.logLevel);
    for (const variable of resolved.unknownEnv) logger.warn({ variable }, 'ignoring an environment variable that names no setting');
    let broker: Broker;
    try {
      broker = await Broker.start(resolved.config, logger);
    } catch (error) {
      logger.fatal({ err: error }, 'broker failed to start');
      process.exit(1);
    }
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      broker.stop().then(
        () => process.exit(0),
        (error) => {
          logger.fatal({ err: error }, 'unclean shutdown');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return command;
}
