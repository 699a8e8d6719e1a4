import { lookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { addressRefusal, type WebhookTargetPolicy } from '../domain/webhook-target';

/** Resolves a host name to all its addresses (node:dns `lookup` with `all: true`; tests inject their own). */
export type HostResolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolver: HostResolver = (hostname, options, callback) => lookup(hostname, options, callback);

/** A connection the relay would not make: the address is not a public one. Says nothing of which. */
export class AddressNotAllowedError extends Error {
  override name = 'AddressNotAllowedError';
  readonly code = 'ERR_ADDRESS_NOT_ALLOWED';
  constructor() {
    super('address not allowed');
  }
}

/**
 * The `lookup` sockets connect with: resolves every address of the name and refuses the connection
 * unless all of them are allowed, so the address checked is the address connected to (no window for
 * DNS rebinding between a check and the connect).
 */
function guardedLookup(policy: WebhookTargetPolicy, resolve: HostResolver): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const allowed =
        addresses.length > 0 &&
        addresses.every(({ address }) => !addressRefusal(address, policy.allowLoopback));
      if (!allowed) return callback(new AddressNotAllowedError(), '', 0);
      if (options.all) return callback(null, addresses);
      const [first] = addresses as [LookupAddress];
      return callback(null, first.address, first.family);
    });
  };
}

/**
 * The undici dispatcher webhooks are sent through: every new connection goes to an allowed address.
 * An IP literal host is checked here (sockets do not look literals up); a name through
 * `guardedLookup`. Pooled connections stay with the address that was checked when they opened.
 */
export function createWebhookDispatcher(
  policy: WebhookTargetPolicy,
  resolve: HostResolver = systemResolver,
): Agent {
  const connector = buildConnector({ lookup: guardedLookup(policy, resolve) });
  return new Agent({
    connect: (options, callback) => {
      if (isIP(options.hostname) && addressRefusal(options.hostname, policy.allowLoopback)) {
        callback(new AddressNotAllowedError(), null);
        return;
      }
      connector(options, callback);
    },
  });
}
