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
