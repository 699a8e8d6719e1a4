import { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveTemporalBinary, TEMPORAL_CLI } from '../temporal/binaries';
import { TICKET_SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { dynamicConfigArguments } from './temporal-dynamic-config';

/**
 * The Temporal CLI's development server, with its UI and Aftercare's search attributes registered.
 * SQLite is tuned the way the SDK's own CI runs it: one connection, so WAL and no fsync per write.
 */
export interface DevServerOptions {
  readonly dbFilename?: string;
  readonly port?: number;
  readonly uiPort?: number;
  /** Where Temporal UI sends payloads to be decoded: Aftercare's `/codec` endpoint. */
  readonly codecEndpoint?: string;
  /**
   * True for a server whose namespaces or search attributes are added while it runs (the test suite's
   * `createOwnNamespace`): every search-attribute read then goes to SQLite, the dev server's own
   * default, so a new attribute is known at once. Otherwise they are read from the server's cache.
   */
  readonly searchAttributesChange?: boolean;
  readonly log?: (line: string) => void;
}

/**
 * The dev server reads search attributes from SQLite on every use unless told otherwise: each
 * search-attribute upsert (a ticket makes a few) cost reads of the cluster metadata and the
 * namespace, 21,000 of them for 300 tickets, on the one SQLite connection every timer and workflow
 * task also waits for (issue 19: `npm run dev`, 300 climbing tickets at 10/s without receivers,
 * lateness p99 1.93 s before, 0.81 s cached, 0.59 s with the task-queue partitions of
 * deploy/temporal/dynamicconfig.yaml as well).
 */
function searchAttributeCache(searchAttributesChange: boolean): string[] {
  return [
    '--dynamic-config-value',
    `system.forceSearchAttributesCacheRefreshOnRead=${String(searchAttributesChange)}`,
  ];
}

export interface RunningDevServer {
  readonly address: string;
  readonly uiUrl: string | undefined;
  readonly stop: () => Promise<void>;
}

export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<RunningDevServer> {
  const { executable } = await resolveTemporalBinary(TEMPORAL_CLI, {
    allowSdkDownload: true,
    log: options.log,
  });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      dbFilename: options.dbFilename,
      ip: '127.0.0.1',
      port: options.port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      searchAttributes: TICKET_SEARCH_ATTRIBUTES,
      extraArgs: [
        '--sqlite-pragma',
        'journal_mode=WAL',
        '--sqlite-pragma',
        'synchronous=OFF',
        ...dynamicConfigArguments(),
        ...searchAttributeCache(options.searchAttributesChange ?? false),
        ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
      ],
    },
  });
  const address = env.connection.options.address;
  return {
    address,
    uiUrl: options.uiPort !== undefined ? `http://localhost:${options.uiPort}` : undefined,
    stop: () => env.teardown(),
  };
}

/** The Temporal UI search that lists escalated tickets (by their `EscalationLevel` search attribute). */
export const ESCALATED_QUERY = 'EscalationLevel >= 1';

/** The Temporal UI page of `namespace`'s workflows filtered to escalated tickets. */
export function escalatedTicketsUrl(uiUrl: string, namespace: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(ESCALATED_QUERY)}`;
}
