import { describe, expect, it } from 'vitest';
import { addressRefusal, webhookUrlRefusal, type WebhookTargetPolicy } from '../../domain/webhook-target';

const PRODUCTION: WebhookTargetPolicy = { allowLoopback: false, requireHttps: true };
const DEVELOPMENT: WebhookTargetPolicy = { allowLoopback: false, requireHttps: false };
const LOOPBACK_ALLOWED: WebhookTargetPolicy = { allowLoopback: true, requireHttps: false };

/** The SSRF rule: webhooks reach public unicast addresses only, whatever the URL spells. */
describe('webhook URL rule', () => {
  it.each([
    [
      'http://169.254.169.254/latest/meta-data/',
      /^169\.254\.169\.254 is a link-local address \(where cloud metadata/,
    ],
    ['http://[fe80::1]/', /^fe80::1 is a link-local address/],
    ['http://[::ffff:127.0.0.1]:7233/', /^::ffff:7f00:1 is a loopback address/],
    ['http://[::ffff:169.254.169.254]/', /is a link-local address/],
    ['http://0x7f000001/', /^127\.0\.0\.1 is a loopback address/],
    ['http://2130706433/', /^127\.0\.0\.1 is a loopback address/],
    ['http://0177.0.0.1/', /^127\.0\.0\.1 is a loopback address/],
    ['http://0x7f.1/', /^127\.0\.0\.1 is a loopback address/],
    ['http://127.1/', /^127\.0\.0\.1 is a loopback address/],
    ['http://[::1]:8080/', /^::1 is a loopback address/],
    ['http://10.0.0.5/', /^10\.0\.0\.5 is a private address/],
    ['http://0x0a000005/', /^10\.0\.0\.5 is a private address/],
    ['http://172.16.3.4/', /^172\.16\.3\.4 is a private address/],
    ['http://172.31.255.255/', /is a private address/],
    ['http://192.168.1.10/', /^192\.168\.1\.10 is a private address/],
    ['http://100.64.0.1/', /^100\.64\.0\.1 is a carrier-grade NAT address/],
    ['http://[fd00::1]/', /^fd00::1 is a unique local \(private\) IPv6 address/],
    ['http://[fd12:3456::7]/', /is a unique local/],
    ['http://0.0.0.0:7233/', /^0\.0\.0\.0 is the unspecified address/],
    ['http://0/', /^0\.0\.0\.0 is the unspecified address/],
    ['http://[::]/', /^:: is the unspecified address/],
    ['http://255.255.255.255/', /is the broadcast address/],
    ['http://224.0.0.1/', /is a multicast address/],
    ['http://[64:ff9b::7f00:1]/', /is a NAT64 address/],
    ['http://[2002:7f00:1::]/', /is a 6to4 address/],
    ['http://192.0.2.1/', /is a reserved address \(reserved\)/],
    ['http://localhost:3000/', /^localhost is a loopback name/],
    ['http://LOCALHOST./', /^localhost is a loopback name/],
    ['http://api.localhost/', /^api\.localhost is a loopback name/],
    [
      'http://metadata.google.internal/computeMetadata/v1/',
      /^metadata\.google\.internal is an internal name \(\.internal\)/,
    ],
    ['http://printer.local/', /is an internal name \(\.local\)/],
    ['http://router.home.arpa/', /is an internal name \(\.home\.arpa\)/],
    ['http://postgres:5432/', /^postgres is a name without a domain/],
  ])('refuses %s', (url, reason) => {
    expect(webhookUrlRefusal(url, DEVELOPMENT)).toMatch(reason);
    expect(webhookUrlRefusal(url, DEVELOPMENT)).toMatch(/webhooks are sent to public addresses only/);
  });

  it.each([
    'https://hooks.example.com/aftercare',
    'http://203.0.113.0.example.org/',
    'https://8.8.8.8/',
    'https://[2606:4700::1111]/hook',
    'http://172.32.0.1/',
    'http://100.128.0.1/',
    'https://local.example.com/',
  ])('accepts the public target %s', (url) => {
    expect(webhookUrlRefusal(url, DEVELOPMENT)).toBeUndefined();
  });

  it('says how loopback receivers are allowed, and allows only loopback with WEBHOOK_ALLOW_LOOPBACK', () => {
    expect(webhookUrlRefusal('http://127.0.0.1:9/', DEVELOPMENT)).toMatch(/WEBHOOK_ALLOW_LOOPBACK=true/);
    for (const url of [
      'http://127.0.0.1:9/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://localhost/',
    ]) {
      expect(webhookUrlRefusal(url, LOOPBACK_ALLOWED)).toBeUndefined();
    }
    for (const url of [
      'http://169.254.169.254/',
      'http://10.0.0.1/',
      'http://[fd00::1]/',
      'http://0.0.0.0/',
    ]) {
      expect(webhookUrlRefusal(url, LOOPBACK_ALLOWED)).toMatch(/public addresses only/);
    }
    expect(webhookUrlRefusal('http://10.0.0.1/', LOOPBACK_ALLOWED)).not.toMatch(/WEBHOOK_ALLOW_LOOPBACK/);
  });

  it('requires https in production', () => {
    expect(webhookUrlRefusal('http://hooks.example.com/', PRODUCTION)).toBe(
      'must be an https URL (NODE_ENV=production)',
    );
    expect(webhookUrlRefusal('https://hooks.example.com/', PRODUCTION)).toBeUndefined();
    expect(webhookUrlRefusal('https://10.1.2.3/', PRODUCTION)).toMatch(/is a private address/);
  });
});

describe('resolved address rule', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['10.255.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.1.1', 'carrier-grade NAT'],
    ['fd00::1', 'unique local'],
    ['fd00:ec2::254', 'unique local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
  ])('refuses %s (%s)', (address, kind) => {
    expect(addressRefusal(address, false)).toContain(kind);
  });

  it('allows public unicast, and loopback only when allowed', () => {
    expect(addressRefusal('93.184.215.14', false)).toBeUndefined();
    expect(addressRefusal('2606:2800:21f:cb07:6820:80da:af6b:8b2c', false)).toBeUndefined();
    expect(addressRefusal('127.0.0.1', true)).toBeUndefined();
    expect(addressRefusal('::ffff:127.0.0.1', true)).toBeUndefined();
    expect(addressRefusal('10.0.0.1', true)).toContain('private');
    expect(addressRefusal('not-an-address', false)).toBe('not-an-address is not an IP address');
  });
});
