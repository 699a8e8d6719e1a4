import ipaddr from 'ipaddr.js';

/**
 * Where webhooks may be sent: public unicast addresses only, so a subscription cannot make the relay
 * reach the cloud metadata service, the Temporal frontend, PostgreSQL or anything else on the
 * deployment's own networks. Checked twice: on the URL when a subscription is written, and on every
 * address a host name resolves to when the relay connects (a name may resolve elsewhere later: DNS
 * rebinding). Pure: the API, the relay and the tests share it.
 */
export interface WebhookTargetPolicy {
  /** Loopback receivers (127.0.0.0/8, ::1, localhost): for development and tests only. */
  readonly allowLoopback: boolean;
  /** Plain http refused (production). */
  readonly requireHttps: boolean;
}

const PUBLIC_ONLY = 'webhooks are sent to public addresses only';
const LOOPBACK_HINT = ' (WEBHOOK_ALLOW_LOOPBACK=true allows loopback receivers in development)';

/** What each ipaddr.js range other than `unicast` is, in words. */
const RANGE_NAMES: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  linkLocal: 'a link-local address (where cloud metadata services answer)',
  uniqueLocal: 'a unique local (private) IPv6 address',
  carrierGradeNat: 'a carrier-grade NAT address',
  unspecified: 'the unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  rfc6052: 'a NAT64 address (it embeds an IPv4 one)',
  rfc6145: 'an IPv4-translated address',
  '6to4': 'a 6to4 address (it embeds an IPv4 one)',
  teredo: 'a Teredo address (it embeds an IPv4 one)',
};

/**
 * Why a connection to `address` (an IP literal) is refused, or undefined when it may be made.
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address it maps to.
 */
export function addressRefusal(address: string, allowLoopback: boolean): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const range = ipaddr.process(address).range();
  if (range === 'unicast' || (range === 'loopback' && allowLoopback)) return undefined;
  const name = RANGE_NAMES[range] ?? `a reserved address (${range})`;
  return `${address} is ${name}; ${PUBLIC_ONLY}${range === 'loopback' ? LOOPBACK_HINT : ''}`;
}

/** Suffixes of names that only resolve inside a network (RFC 6761, 6762, 8375 and common practice). */
const INTERNAL_SUFFIXES = ['.local', '.localdomain', '.internal', '.intranet', '.lan', '.home.arpa'];

function nameRefusal(name: string, allowLoopback: boolean): string | undefined {
  if (name === 'localhost' || name.endsWith('.localhost')) {
    return allowLoopback ? undefined : `${name} is a loopback name; ${PUBLIC_ONLY}${LOOPBACK_HINT}`;
  }
  if (!name.includes('.')) return `${name} is a name without a domain (an internal host); ${PUBLIC_ONLY}`;
  const suffix = INTERNAL_SUFFIXES.find((end) => name.endsWith(end));
  if (suffix) return `${name} is an internal name (${suffix}); ${PUBLIC_ONLY}`;
  return undefined;
}

/**
 * Why a webhook URL is refused before anything is resolved, or undefined: plain http where https is
 * required, an IP literal outside public unicast (in any spelling: the WHATWG URL parser turns
 * `0x7f000001`, `2130706433` and `0177.0.0.1` into `127.0.0.1`), or an obviously internal name. A
 * name that passes may still resolve to an internal address: the relay checks that when it connects.
 */
export function webhookUrlRefusal(url: string, policy: WebhookTargetPolicy): string | undefined {
  if (!URL.canParse(url)) return 'is not a URL';
  const { protocol, hostname } = new URL(url);
  if (policy.requireHttps && protocol !== 'https:') return 'must be an https URL (NODE_ENV=production)';
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname.replace(/\.$/, '');
  return ipaddr.isValid(host)
    ? addressRefusal(host, policy.allowLoopback)
    : nameRefusal(host, policy.allowLoopback);
}
