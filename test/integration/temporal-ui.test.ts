import { mkdirSync, rmSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../api/app';
import { customerIdOf } from '../../api/customer-id';
import { loadConfig, type AppConfig } from '../../config';
import { connectDatabase, type DatabaseHandle } from '../../db/client';
import { startTemporalDevServer, type RunningDevServer } from '../../dev/temporal-dev-server';
import { workflowIdOf } from '../../domain/ticket';
import { PROJECT_ROOT } from '../../temporal/binaries';
import { launchChromium } from '../support/browser';
import { connectClient } from '../../temporal/connection';
import { createDataConverter } from '../../temporal/data-converter';
import { untilNotShedding, writePolicyFile } from '../support/stack';
import { runWorkerFor } from '../support/temporal';
import { TEST_PAYLOAD_KEYS } from '../support/fixtures';

/**
 * An operator in Temporal UI, in a real browser: filters for the escalated ticket, opens it, reads
 * its summary and named timers, sees the customer's data encrypted until signing in to Aftercare's
 * codec endpoint, and decoded after. Every step leaves a screenshot in test-results/temporal-ui/.
 */
const SCREENSHOTS = path.join(PROJECT_ROOT, 'test-results', 'temporal-ui');
const ADMIN_KEY = 'ui-test-admin-key-01';
const AGENT_KEY = 'ui-test-agent-key-07';
const customer = { name: `诸葛${randomInt(1000, 9999)}`, phone: `137${randomInt(10_000_000, 99_999_999)}` };

let devServer: RunningDevServer;
let database: DatabaseHandle;
let temporal: Client;
let app: FastifyInstance;
let config: AppConfig;
let apiUrl: string;
let uiUrl: string;
let browser: Browser;
let page: Page;
let stopWorker: () => Promise<void>;
let ticketNumber: string;
let shot = 0;

async function screenshot(name: string): Promise<void> {
  shot += 1;
  await page.screenshot({
    path: path.join(SCREENSHOTS, `${String(shot).padStart(2, '0')}-${name}.png`),
    fullPage: true,
  });
}

/** Temporal UI renders user metadata (summaries, details) as markdown inside a sandboxed frame. */
async function waitForTextInAnyFrame(text: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (
        (await frame
          .getByText(text)
          .count()
          .catch(() => 0)) > 0
      )
        return;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`"${text}" did not appear in Temporal UI within ${timeoutMs} ms`);
}

beforeAll(async () => {
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  const apiPort = randomInt(41_000, 45_000);
  const uiPort = randomInt(45_000, 49_000);
  apiUrl = `http://localhost:${apiPort}`;
  uiUrl = `http://localhost:${uiPort}`;
  devServer = await startTemporalDevServer({ uiPort, codecEndpoint: `${apiUrl}/codec` });
  config = loadConfig({
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: devServer.address,
    TEMPORAL_TASK_QUEUE: `temporal-ui-${process.pid}`,
    SLA_POLICY_FILE: writePolicyFile({ firstResponse: '2s' }),
    API_KEYS: `${ADMIN_KEY}:admin:ops-1,${AGENT_KEY}:agent:agent-7`,
    CODEC_CORS_ORIGINS: uiUrl,
  });
  const dataConverter = createDataConverter(config.payloadKeys);
  database = connectDatabase(inject('databaseUrl'), { max: 4, payloadKeys: TEST_PAYLOAD_KEYS });
  temporal = await connectClient(config.temporal, dataConverter);
  app = await buildApp({ config, db: database.db, temporal, logger: pino({ level: 'silent' }) });
  await untilNotShedding(app);
  await app.listen({ host: '127.0.0.1', port: apiPort });
  stopWorker = await runWorkerFor(config, database.db);
  const created = await app.inject({
    method: 'POST',
    url: '/v1/tickets',
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    payload: {
      channel: 'phone',
      category: 'complaint',
      priority: 'critical',
      customer,
      description: 'Gas smell near the water heater',
    },
  });
  ticketNumber = created.json().number;
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
});

afterAll(async () => {
  await browser?.close();
  await stopWorker?.();
  await app?.close();
  await temporal?.connection.close();
  await database?.close();
  await devServer?.stop();
});

describe('an operator in Temporal UI', () => {
  it('filters by search attributes and finds the escalated ticket', async () => {
    const customerId = customerIdOf(customer.phone, config.customerIdSecret);
    const query = `EscalationLevel >= 1 AND TicketStatus = "new" AND CustomerId = "${customerId}"`;
    const link = page.getByRole('link', { name: workflowIdOf(ticketNumber) }).first();
    // Visibility is eventually consistent, and the escalation comes 2 s after creation: reload until
    // listed. A cold UI can take tens of seconds to render (its page's load event waits on requests
    // this closed network never answers), so each load is given time instead of being cut short.
    for (const deadline = Date.now() + 100_000; Date.now() < deadline;) {
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`, {
        waitUntil: 'commit',
      });
      const listed = await link.waitFor({ timeout: 15_000 }).then(
        () => true,
        () => false,
      );
      if (listed) break;
    }
    expect(await link.isVisible()).toBe(true);
    await screenshot('filtered-by-escalation-level');
  }, 120_000);

  it('opens it and reads its summary and named timers, with the customer data still encrypted', async () => {
    await page
      .getByRole('link', { name: workflowIdOf(ticketNumber) })
      .first()
      .click();
    await page.getByText('first-response SLA 2s').first().waitFor({ timeout: 15_000 });
    // The ticket's writes are local activities: the timeline names them, the summary sits in the
    // marker (checked in operators.test.ts through the CLI).
    await page.getByText('recordTicketChange').first().waitFor();
    expect(await page.content()).not.toContain(customer.name);
    await screenshot('workflow-timeline-encrypted');
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    await waitForTextInAnyFrame(`${ticketNumber} · complaint · critical`);
    await screenshot('summary');
  });

  it('keeps the data encrypted with the codec configured but no valid operator key', async () => {
    await page.locator('[data-testid^="data-encoder-status"]').first().click();
    await page.getByTestId('use-local-endpoint-input').check({ force: true });
    await page.getByPlaceholder('Paste your endpoint here').fill(`${apiUrl}/codec`);
    await page.getByText('Include cross-origin credentials').click();
    await page.getByTestId('confirm-modal-button').filter({ hasText: 'Apply' }).first().click();
    const workflowUrl = `${uiUrl}/namespaces/default/workflows/${workflowIdOf(ticketNumber)}`;

    await page.goto(`${apiUrl}/codec/login`);
    await page.fill('#key', AGENT_KEY);
    await page.click('button[type=submit]');
    await page.getByText('role agent may not decode ticket payloads').waitFor();
    await screenshot('codec-sign-in-refused-for-agent');

    await page.goto(workflowUrl);
    await page.getByText('first-response SLA 2s').first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(1_000);
    expect(await page.content()).not.toContain(customer.name);
    await screenshot('codec-without-key-still-encrypted');
  });

  it('sees the decoded customer name after signing in to the codec with an operator key', async () => {
    await page.goto(`${apiUrl}/codec/login`);
    await page.fill('#key', ADMIN_KEY);
    await page.click('button[type=submit]');
    await page.getByText('Signed in').waitFor();
    await screenshot('codec-signed-in');
    await page.goto(`${uiUrl}/namespaces/default/workflows/${workflowIdOf(ticketNumber)}`);
    await page.getByText(customer.phone).first().waitFor({ timeout: 15_000 });
    expect(await page.content()).toContain(customer.name);
    await screenshot('decoded-customer-data');
    // The current details come from a query whose answer is encrypted: readable once decoded.
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    await waitForTextInAnyFrame(`${ticketNumber} · new · escalated L1`);
    await screenshot('decoded-current-details');
  });

  it('signs out of the codec, and the customer data is encrypted again', async () => {
    await page.goto(`${apiUrl}/codec/login`);
    await page.click('#logout');
    await page.getByText('Signed out').waitFor();
    await screenshot('codec-signed-out');
    await page.goto(`${uiUrl}/namespaces/default/workflows/${workflowIdOf(ticketNumber)}`);
    await page.getByText('first-response SLA 2s').first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(1_000);
    expect(await page.content()).not.toContain(customer.name);
    await screenshot('codec-signed-out-encrypted');
  });
});
