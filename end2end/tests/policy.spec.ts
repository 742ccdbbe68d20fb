import { test, expect } from '@playwright/test';
import { signIn, hydrated } from './helpers';
import { ingest, action, token } from './api';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// playwright.config.ts serves with end2end/policy.toml: informational alerts need four eyes.

test('Four eyes: the dialog shows the impact and rule; the first approval leaves it Awaiting second approval; the same person cannot give the second', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E four eyes', { severity: 'informational' });
  await signIn(page, 'analyst');
  await page.goto('/action-center');
  await hydrated(page);
  const row = page.getByRole('row', { name: new RegExp(escape(investigation.cluster)) });
  await row.getByRole('button', { name: 'Approve' }).click();

  const dialog = page.getByRole('dialog', { name: `Approve: ${investigation.cluster}` });
  await expect(dialog.getByTestId('impact')).toHaveText(
    /^Touches \d+ cop(y|ies) in \d+ mailbox(es)? now · rule informational-four-eyes: 2 approvals from different people$/,
  );
  await expect(dialog).toContainText('low-confidence alerts get a second look');
  await dialog.getByRole('button', { name: 'Approve' }).click();
  await expect(dialog).toBeHidden();

  // Still Pending, in the list and over the API, with who approved.
  await expect(row).toContainText('Awaiting second approval — approved by analyst');
  const first = await action(request, investigation.actions[0]);
  expect(first.status).toBe('pending');
  expect(first.approvals_required).toBe(2);
  expect(first.approvals.map((a: { by: string }) => a.by)).toEqual(['analyst']);

  // The same person again: refused with the reason, and nothing changes.
  await row.getByRole('button', { name: 'Approve' }).click();
  await expect(dialog.locator('.awaiting')).toHaveText('Awaiting second approval — approved by analyst');
  await dialog.getByRole('button', { name: 'Approve' }).click();
  await expect(dialog.getByRole('alert')).toContainText('already approved');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  const still = await action(request, investigation.actions[0]);
  expect(still.status).toBe('pending');
  expect(still.approvals).toHaveLength(1);
});

test('Policy page: a reader sees the policy in force, its hash, groups and rules', async ({ page, request }) => {
  const response = await request.get('/api/v1/policy', { headers: { Authorization: `Bearer ${token('reader')}` } });
  expect(response.status()).toBe(200);
  const policy = await response.json();
  await signIn(page, 'reader');
  await hydrated(page);
  await page.getByRole('link', { name: 'Policy', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Approval policy' })).toBeVisible();
  await expect(page.locator('.policy-origin')).toContainText('policy.toml');
  await expect(page.locator('.policy-origin .hash')).toHaveText(policy.hash);
  const rule = page.getByRole('row', { name: /informational-four-eyes/ });
  await expect(rule).toContainText('severity == "informational"');
  await expect(rule).toContainText('Two approvals (four eyes)');
  await expect(page.getByRole('row', { name: /executives/ })).toContainText('ceo@example.test');
  await expect(page.getByRole('row', { name: /Hard delete needs/ })).toContainText('2 approvals from different people');
  // Read-only: nothing on the page edits it.
  await expect(page.locator('main').locator('button, input, textarea, select, form')).toHaveCount(0);
});
