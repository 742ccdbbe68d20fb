import { test, expect, Page } from '@playwright/test';
import { signIn, hydrated } from './helpers';
import { ingest, token } from './api';

// Every page fits a 1,280-pixel window without horizontal scrolling, even when the mail an
// attacker wrote carries a subject and a URL with no place to break: long entities wrap (the
// full text stays on the page), nothing pushes the tables or the header past the window.

test.use({ viewport: { width: 1280, height: 800 } });

async function fits(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  expect(scroll, `${path} is ${scroll} px wide in a ${inner} px window`).toBeLessThanOrEqual(inner);
}

test('Layout: every page fits 1,280 px with a long subject and URL in its tables', async ({ page, request }) => {
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  const subject = `Invoice${'Overdue'.repeat(40)}`;
  const urlPath = `pay/${'a1b2c3d4'.repeat(50)}`;
  const investigation = await ingest(request, 'E2E layout', { subject, urlPath });
  await signIn(page, 'admin');

  const incident = await request.get(`/api/v1/investigations/${investigation.id}`, {
    headers: { Authorization: `Bearer ${token('admin')}` },
  });
  expect(incident.status()).toBe(200);
  const incidentId = (await incident.json()).incident_id as string;

  for (const path of [
    '/',
    '/incidents',
    `/incidents/${incidentId}`,
    '/action-center',
    '/action-center?tab=history',
    '/investigations',
    `/investigations/${investigation.id}`,
    '/threatincidents',
    '/policy',
    '/deliveries',
    '/users',
    '/tokens',
    '/sessions',
    '/settings',
    '/account',
  ]) {
    await fits(page, path);
  }
  // The full entity stays readable on the page (wrapped, not cut).
  await page.goto('/action-center');
  await hydrated(page);
  await expect(page.getByRole('row', { name: new RegExp(urlPath) })).toBeVisible();
  expect(errors).toEqual([]);
});
