import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../temporal/binaries';
import { launchChromium } from '../support/browser';
import { startApi, type ApiStack } from '../support/stack';

/** A new integrator opens /docs in a browser and finds every route of the API there. */
const SCREENSHOTS = path.join(PROJECT_ROOT, 'test-results', 'api-docs');
let stack: ApiStack;
let browser: Browser;
let docsUrl: string;

beforeAll(async () => {
  stack = await startApi({ taskQueue: `api-docs-${process.pid}`, policy: {} });
  docsUrl = `${await stack.app.listen({ host: '127.0.0.1', port: 0 })}/docs`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('the interactive API docs', () => {
  it('open in a browser and list every route', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(docsUrl);
    await page.getByText('Aftercare API').first().waitFor({ timeout: 15_000 });
    const document = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const routes = Object.keys(document.paths).filter(
      (route) => route.startsWith('/v1') || route.startsWith('/codec'),
    );
    expect(routes.length).toBeGreaterThanOrEqual(12);
    for (const route of routes) {
      await page.locator(`[data-path="${route}"]`).first().waitFor({ timeout: 5_000 });
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, 'docs.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
