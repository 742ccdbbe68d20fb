import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, hydrated } from './helpers';
import { ingest, token } from './api';

const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

test('the login page has no WCAG 2.1 AA violations', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  const results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);
});

test('the home page has no WCAG 2.1 AA violations', async ({ page }) => {
  await signIn(page, 'analyst');
  await hydrated(page);
  const results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);
});

for (const path of ['/', '/deliveries', '/incidents', '/action-center', '/action-center?tab=history', '/investigations', '/policy', '/users', '/tokens', '/sessions', '/settings', '/account']) {
  test(`${path} has no WCAG 2.1 AA violations`, async ({ page }) => {
    await signIn(page, 'analyst');
    // Let the page signed in to finish hydrating first: a navigation started while the WASM
    // client is still loading can be aborted by it (seen once: ERR_ABORTED, frame detached).
    await hydrated(page);
    await page.goto(path);
    await hydrated(page);
    const results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
    expect(results.violations).toEqual([]);
  });
}

test('the decision dialog and the History side panel have no WCAG 2.1 AA violations', async ({ page, request }) => {
  const decided = await ingest(request, 'E2E axe');
  const rejected = await request.post(`/api/v1/actions/${decided.actions[0]}/reject`, {
    headers: { Authorization: `Bearer ${token('analyst')}` },
  });
  expect(rejected.status()).toBe(200);
  await signIn(page, 'analyst');
  await page.goto('/action-center');
  await hydrated(page);
  await page.getByRole('button', { name: 'Approve', exact: true }).first().click();
  await expect(page.getByRole('dialog')).toBeVisible();
  let results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

  await page.goto('/action-center?tab=history');
  await hydrated(page);
  await page.getByRole('button', { name: decided.cluster }).click();
  await expect(page.getByRole('dialog')).toBeVisible();
  results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);
});

test('an incident page (Evidence and Response with its flyout) and an investigation page have no WCAG 2.1 AA violations', async ({ page }) => {
  await signIn(page, 'analyst');
  await hydrated(page);
  await page.getByRole('table', { name: 'Incidents' }).getByRole('row').nth(1).getByRole('link').first().click();
  await hydrated(page);
  await page.getByRole('tab', { name: 'Alerts' }).click();
  await expect(page.getByRole('table', { name: 'Alerts' })).toBeVisible();
  let results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);
  await page.getByRole('tab', { name: 'Evidence and Response' }).click();
  await page.getByRole('table', { name: 'Evidence and Response' }).getByRole('button').first().click();
  await expect(page.getByRole('dialog')).toBeVisible();
  results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);

  await page.goto('/investigations');
  await page.getByRole('link', { name: 'User-reported phish: Invoice overdue', exact: true }).click();
  await hydrated(page);
  for (const tab of ['Alerts', 'Mailboxes', 'Evidence', 'Email clusters', 'Actions', 'Log', 'Pending actions']) {
    await page.getByRole('tab', { name: tab, exact: true }).click();
    await expect(page.getByRole('tab', { name: tab, exact: true })).toHaveAttribute('aria-selected', 'true');
    results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
    expect(results.violations, tab).toEqual([]);
  }
});
