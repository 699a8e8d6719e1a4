import { Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import { temporalRuntimeLogging } from '../logger';

/**
 * Installs the Temporal Runtime (once per process, before any connection) with its logs on `logger`
 * (see `temporalRuntimeLogging`) and the SDK's metrics —
 * workflow and activity task latencies, schedule-to-start, sticky cache, poller counts, … — served
 * for Prometheus at `http://<metricsAddress>/metrics`.
 *
 * A worker that cannot bind its metrics address (the port is taken) still runs, without metrics,
 * and says so in an error log: escalations matter more than their graphs.
 *
 * @returns the address metrics are served on, or undefined when they are off or could not bind.
 */
export function installWorkerTelemetry(options: {
  readonly metricsAddress: string | undefined;
  readonly logger: Logger;
}): string | undefined {
  const { metricsAddress, logger } = options;
  const logging = temporalRuntimeLogging(logger);
  if (!metricsAddress) {
    Runtime.install(logging);
    return undefined;
  }
  try {
    Runtime.install({
      ...logging,
      telemetryOptions: {
        ...logging.telemetryOptions,
        metrics: { prometheus: { bindAddress: metricsAddress } },
      },
    });
    logger.info({ metricsAddress }, `worker metrics on http://${metricsAddress}/metrics`);
    return metricsAddress;
  } catch (error) {
    logger.error(
      { err: error, metricsAddress },
      'worker metrics are off: cannot serve them on WORKER_METRICS_ADDRESS (set another address, or off)',
    );
    Runtime.install(logging);
    return undefined;
  }
}
