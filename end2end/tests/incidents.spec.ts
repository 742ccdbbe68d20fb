import { test, expect } from '@playwright/test';
import { signIn, hydrated } from './helpers';
import { ingest, action, token } from './api';

test('Incident queue: filter Pending action, open the incident, Evidence and Response, approve from the flyout', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E incident');
  await signIn(page, 'analyst');
  await hydrated(page);
  await page.getByLabel('Automated investigation state').selectOption({ label: 'Pending action' });
  await expect(page).toHaveURL(/state=pending_action/);
  await page.getByRole('link', { name: investigation.incident, exact: true }).click();
  await expect(page.getByRole('heading', { name: investigation.incident })).toBeVisible();
  await hydrated(page);

  await page.getByRole('tab', { name: 'Evidence and Response' }).click();
  await expect(page.getByRole('tab', { name: 'Evidence and Response' })).toHaveAttribute('aria-selected', 'true');
  await page.getByLabel('Remediation status').selectOption({ label: 'Pending approval' });
  await expect(page).toHaveURL(/remediation=pending/);
  const table = page.getByRole('table', { name: 'Evidence and Response' });
  await expect(table.getByRole('row', { name: new RegExp(investigation.clusterEntity.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')) })).toContainText('Pending approval');
  await table.getByRole('button', { name: investigation.clusterEntity }).click();

  const flyout = page.getByRole('dialog', { name: investigation.clusterEntity });
  await expect(flyout).toContainText('Malicious');
  await flyout.getByRole('button', { name: 'Approve' }).click();
  await page.getByRole('dialog', { name: `Approve: ${investigation.cluster}` }).getByRole('button', { name: 'Approve' }).click();

  await expect(table.getByRole('button', { name: investigation.clusterEntity })).toBeHidden();
  expect(['approved', 'in_progress', 'completed']).toContain((await action(request, investigation.actions[0])).status);
});

test('Incident flyout: reject the pending action', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E incident reject');
  await signIn(page, 'analyst');
  const found = await request.get(`/api/v1/investigations/${investigation.id}`, {
    headers: { Authorization: `Bearer ${token('analyst')}` },
  });
  const incidentId = (await found.json()).incident_id;
  await page.goto(`/incidents/${incidentId}?tab=evidence`);
  await hydrated(page);
  await page.getByRole('button', { name: investigation.clusterEntity }).click();
  const flyout = page.getByRole('dialog', { name: investigation.clusterEntity });
  await flyout.getByRole('button', { name: 'Reject' }).click();
  await page.getByRole('dialog', { name: `Reject: ${investigation.cluster}` }).getByRole('button', { name: 'Reject' }).click();
  await expect(page.getByRole('row', { name: new RegExp('Rejected') })).toBeVisible();
  expect((await action(request, investigation.actions[0])).status).toBe('rejected');
});

test('an incident lists the alerts behind it', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E incident alerts', { severity: 'low' });
  await signIn(page, 'reader');
  const found = await request.get(`/api/v1/investigations/${investigation.id}`, {
    headers: { Authorization: `Bearer ${token('analyst')}` },
  });
  await page.goto(`/incidents/${(await found.json()).incident_id}`);
  await page.getByRole('tab', { name: 'Alerts' }).click();
  await expect(page.getByRole('tab', { name: 'Alerts' })).toHaveAttribute('aria-selected', 'true');
  const row = page.getByRole('table', { name: 'Alerts' }).getByRole('row', { name: new RegExp(investigation.incident) });
  await expect(row).toContainText('Low');
  await row.getByRole('link', { name: investigation.title }).click();
  await expect(page.getByRole('heading', { name: investigation.title })).toBeVisible();
});
