import { parseArgs } from 'node:util';
import { runStorm, type ReceiverCondition } from './storm';

/**
 * `npm run bench:storm -- --url http://127.0.0.1:3000 --key dev-admin-key --rate 10 --tickets 300
 * --receivers hanging`: one escalation storm against a running Aftercare (for example `npm run dev`
 * with a policy of `{"firstResponse":"4s","escalationStep":"6s"}`), printed as JSON.
 */
const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000' },
    key: { type: 'string', default: process.env.AFTERCARE_API_KEY ?? 'dev-admin-key' },
    rate: { type: 'string', default: '10' },
    tickets: { type: 'string', default: '300' },
    receivers: { type: 'string', default: 'none' },
    subscriptions: { type: 'string' },
  },
});
const receivers = values.receivers as ReceiverCondition;
if (!['none', 'healthy', 'hanging'].includes(receivers)) {
  process.stderr.write('--receivers must be none, healthy or hanging\n');
  process.exit(2);
}

runStorm({
  apiUrl: values.url,
  apiKey: values.key,
  ratePerSecond: Number(values.rate),
  tickets: Number(values.tickets),
  receivers,
  subscriptions: values.subscriptions === undefined ? undefined : Number(values.subscriptions),
}).then(
  (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
  (error: unknown) => {
    process.stderr.write(`storm failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
