import { test, expect } from '@playwright/test';
import { hydrated } from './helpers';
import { ingest, token } from './api';

const PASSWORD = 'e2e-demo-password';

test('Dashboard: the home page after sign-in shows what waits, decisions by outcome and the top clusters, with no console error', async ({ page, request }) => {
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  const decided = await ingest(request, 'E2E dashboard');
  const rejected = await request.post(`/api/v1/actions/${decided.actions[0]}/reject`, {
    headers: { Authorization: `Bearer ${token('analyst')}` },
  });
  expect(rejected.status()).toBe(200);

  await page.goto('/login');
  await page.getByLabel('Username').fill('reader');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
  await hydrated(page);

  const pending = await request.get('/api/v1/actions?status=pending&limit=500', {
    headers: { Authorization: `Bearer ${token('reader')}` },
  });
  const count = (await pending.json()).items.length;
  await expect(page.getByRole('region', { name: 'Waiting for approval' })).toContainText(`${count} pending action`);
  const outcomes = page.getByRole('region', { name: 'Actions per day by outcome' });
  await expect(outcomes.getByRole('img')).toHaveAttribute('aria-label', /decisions in the last 14 days/);
  await outcomes.getByText('Figures').click();
  const today = new Date().toISOString().slice(0, 10);
  const row = outcomes.getByRole('row', { name: new RegExp(today) });
  await expect(row.getByRole('cell').nth(1)).not.toHaveText('0');
  await expect(page.getByRole('region', { name: 'Top clusters by copies' }).getByRole('table')).toBeVisible();
  expect(errors).toEqual([]);
});
