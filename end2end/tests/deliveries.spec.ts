import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, hydrated } from './helpers';
import { ingest } from './api';

const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// playwright.config.ts sends every event to a webhook on a closed port: deliveries wait.

test('Deliveries: an admin sees each event waiting for its receiver, with the reason', async ({ page, request }) => {
  await ingest(request, 'E2E deliveries');
  await signIn(page, 'admin');
  await hydrated(page);
  await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Deliveries' })).toBeVisible();
  const table = page.getByRole('table', { name: 'Webhook deliveries' });
  await expect(table.getByRole('row', { name: /investigation\.started/ }).first()).toBeVisible();
  await expect(table.getByRole('row', { name: /action\.pending/ }).first()).toContainText('could not connect');
  await page.getByRole('navigation', { name: 'Delivery status' }).getByRole('link', { name: 'Delivered' }).click();
  await expect(page).toHaveURL(/status=delivered/);
  await expect(page.getByText('No deliveries.')).toBeVisible();
  await page.goto('/deliveries');
  await hydrated(page);
  const results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);
});

test('Deliveries: a reader sees no link, and the page refuses them', async ({ page }) => {
  await signIn(page, 'reader');
  await hydrated(page);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deliveries' })).toHaveCount(0);
  await page.goto('/deliveries');
  await expect(page.getByRole('alert')).toContainText(/admin|Admin|not allowed|Forbidden/);
  await expect(page.getByRole('table', { name: 'Webhook deliveries' })).toHaveCount(0);
});
