import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, hydrated } from './helpers';
import { ingest, approveAndSettle, token } from './api';

test('Office action center: remediation → Mail submissions → Action → change the action type', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E office');
  await approveAndSettle(request, investigation.actions[0]);
  await signIn(page, 'analyst');
  await page.getByRole('link', { name: 'Office action center' }).click();
  await expect(page.getByRole('heading', { name: 'Office action center' })).toBeVisible();
  await hydrated(page);
  await page.getByRole('button', { name: investigation.cluster }).click();

  const panel = page.getByRole('dialog', { name: investigation.cluster });
  const actionButton = panel.getByRole('button', { name: 'Action', exact: true });
  await expect(actionButton).toBeDisabled();
  await panel.getByRole('button', { name: /^Mail submissions/ }).click();
  // The messages the remediation covers and what execution did to each (the helper delivered
  // this one to alice's Maildir, and the soft delete moved it).
  const submissions = panel.getByRole('table', { name: 'Mail submissions' });
  await expect(submissions.getByRole('row', { name: /Invoice overdue billing@evil.test alice@example.test .* Success Recoverable Items$/ })).toBeVisible();
  await expect(actionButton).toBeEnabled();
  await actionButton.click();
  await panel.getByRole('button', { name: 'Move to junk' }).click();

  await expect(panel.getByRole('status')).toContainText('Move to junk: Completed', { timeout: 15_000 });
  const list = await request.get('/api/v1/actions?type=move_to_junk&limit=100', {
    headers: { Authorization: `Bearer ${token('analyst')}` },
  });
  const changed = (await list.json()).items.find((a: { changed_from: string }) => a.changed_from === investigation.actions[0]);
  expect(changed.decided_by).toBe('analyst');
});

test('the Office action center and its panel have no WCAG 2.1 AA violations', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E office axe');
  await approveAndSettle(request, investigation.actions[0]);
  await signIn(page, 'reader');
  await page.goto('/threatincidents');
  await hydrated(page);
  await page.getByRole('button', { name: investigation.cluster }).click();
  await page.getByRole('button', { name: /^Mail submissions/ }).click();
  await expect(page.getByRole('table', { name: 'Mail submissions' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Action', exact: true })).toBeDisabled(); // a Reader
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  expect(results.violations).toEqual([]);
});
