import { test, expect, Browser } from '@playwright/test';
import { signIn, hydrated } from './helpers';
import { ingest, action, approveAndSettle, token } from './api';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function pendingPage(browser: Browser, user: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, user);
  await page.goto('/action-center');
  await hydrated(page);
  return { context, page };
}

test('Action center: approve a pending action with a comment; it leaves Pending and shows in History', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E approve');
  await signIn(page, 'analyst');
  await page.getByRole('link', { name: 'Action center', exact: true }).click();
  await expect(page.getByRole('tab', { name: 'Pending' })).toHaveAttribute('aria-selected', 'true');
  await hydrated(page);
  const row = page.getByRole('row', { name: new RegExp(escape(investigation.cluster)) });
  await row.getByRole('button', { name: 'Approve' }).click();

  const dialog = page.getByRole('dialog', { name: `Approve: ${investigation.cluster}` });
  await dialog.getByLabel('Comment (optional)').fill('confirmed by e2e');
  await dialog.getByRole('button', { name: 'Approve' }).click();

  await expect(dialog).toBeHidden();
  await expect(row).toHaveCount(0);
  const decided = await action(request, investigation.actions[0]);
  expect(['approved', 'in_progress', 'completed']).toContain(decided.status);
  expect(decided.decided_by).toBe('analyst');
  expect(decided.comment).toBe('confirmed by e2e');
  await page.getByRole('tab', { name: 'History' }).click();
  await expect(page).toHaveURL(/tab=history/);
  const history = page.getByRole('row', { name: new RegExp(escape(investigation.cluster)) });
  await expect(history).toContainText('analyst');
  await expect(history).toContainText('confirmed by e2e');
});

test('Action center: reject a pending action', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E reject');
  await signIn(page, 'analyst');
  await page.goto('/action-center');
  await hydrated(page);
  const row = page.getByRole('row', { name: new RegExp(escape(investigation.cluster)) });
  await row.getByRole('button', { name: 'Reject' }).click();
  const dialog = page.getByRole('dialog', { name: `Reject: ${investigation.cluster}` });
  await dialog.getByRole('button', { name: 'Reject' }).click();
  await expect(row).toHaveCount(0);
  expect((await action(request, investigation.actions[0])).status).toBe('rejected');
});

test('Action center: Open investigation page goes to the investigation', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E open');
  await signIn(page, 'reader');
  await page.goto('/action-center');
  const row = page.getByRole('row', { name: new RegExp(escape(investigation.cluster)) });
  await row.getByRole('link', { name: 'Open investigation page' }).click();
  await expect(page.getByRole('heading', { name: investigation.title })).toBeVisible();
});

test('Action center: select several actions of one type and approve them at once', async ({ page, request }) => {
  const first = await ingest(request, 'E2E bulk one');
  const second = await ingest(request, 'E2E bulk two');
  await signIn(page, 'analyst');
  await page.goto('/action-center');
  await hydrated(page);
  await page.getByRole('checkbox', { name: `Select ${first.cluster}` }).check();
  await page.getByRole('checkbox', { name: `Select ${second.cluster}` }).check();
  await expect(page.getByText('2 selected')).toBeVisible();
  await page.getByRole('button', { name: 'Approve selected' }).click();

  await expect(page.getByRole('status')).toContainText('Decided 2 of 2 selected actions.');
  for (const id of [first.actions[0], second.actions[0]]) {
    expect(['approved', 'in_progress', 'completed']).toContain((await action(request, id)).status);
  }
  await expect(page.getByRole('row', { name: new RegExp(escape(first.cluster)) })).toHaveCount(0);
});

test('a Reader sees the actions but no enabled decision control, and the server refuses anyway', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E reader');
  await signIn(page, 'reader');
  await page.goto('/action-center');
  await hydrated(page);
  const row = page.getByRole('row', { name: new RegExp(escape(investigation.cluster)) });
  await expect(row.getByRole('button', { name: 'Approve' })).toBeDisabled();
  await expect(row.getByRole('button', { name: 'Reject' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Approve selected' })).toBeDisabled();
  const refused = await request.post(`/api/v1/actions/${investigation.actions[0]}/approve`, {
    headers: { Authorization: `Bearer ${token('reader')}` },
  });
  expect(refused.status()).toBe(403);
  expect((await action(request, investigation.actions[0])).status).toBe('pending');
});

test('two people deciding the same action: the second is told who decided first', async ({ browser, request }) => {
  const investigation = await ingest(request, 'E2E race');
  const analyst = await pendingPage(browser, 'analyst');
  const admin = await pendingPage(browser, 'admin');
  const name = new RegExp(escape(investigation.cluster));
  await analyst.page.getByRole('row', { name }).getByRole('button', { name: 'Approve' }).click();
  await admin.page.getByRole('row', { name }).getByRole('button', { name: 'Reject' }).click();

  await analyst.page.getByRole('dialog').getByRole('button', { name: 'Approve' }).click();
  await expect(analyst.page.getByRole('dialog')).toBeHidden();
  await admin.page.getByRole('dialog').getByRole('button', { name: 'Reject' }).click();

  await expect(admin.page.getByRole('dialog').getByRole('alert')).toContainText(/not pending: [A-Za-z ]+ by analyst at /);
  expect((await action(request, investigation.actions[0])).status).not.toBe('rejected');
  await analyst.context.close();
  await admin.context.close();
});

test('History: change a completed action from the side panel, and hard delete asks first', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E change');
  await approveAndSettle(request, investigation.actions[0]);
  await signIn(page, 'analyst');
  await page.goto('/action-center?tab=history');
  await hydrated(page);
  await page.getByRole('button', { name: investigation.cluster }).click();
  const panel = page.getByRole('dialog', { name: investigation.cluster });
  await expect(panel).toContainText('Completed');

  await panel.getByRole('button', { name: 'Hard delete' }).click();
  await expect(panel.getByRole('alertdialog')).toContainText('cannot be undone');
  await panel.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
  await panel.getByRole('button', { name: 'Move to inbox' }).click();

  await expect(panel.getByRole('status')).toContainText('Move to inbox: Completed', { timeout: 15_000 });
  const list = await request.get(`/api/v1/actions?type=move_to_inbox&limit=100`, {
    headers: { Authorization: `Bearer ${token('analyst')}` },
  });
  const changed = (await list.json()).items.find((a: { changed_from: string }) => a.changed_from === investigation.actions[0]);
  expect(changed.decided_by).toBe('analyst');
});

test('History filters live in the URL', async ({ page }) => {
  await signIn(page, 'analyst');
  await page.goto('/action-center?tab=history');
  await hydrated(page);
  await page.getByLabel('Status').selectOption({ label: 'Rejected' });
  await expect(page).toHaveURL(/status=rejected/);
  await page.getByLabel('Time').selectOption({ label: 'Last week' });
  await expect(page).toHaveURL(/time=week/);
  await expect(page).toHaveURL(/status=rejected/);
  const rows = page.getByRole('table', { name: 'Action history' }).locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  for (const row of await rows.all()) {
    await expect(row).toContainText('Rejected');
  }
  // The same view as CSV, through the signed-in session.
  const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
  expect(href).toContain('status=rejected');
  expect(href).toContain('within_days=7');
  const csv = await page.request.get(href!);
  expect(csv.status()).toBe(200);
  const lines = (await csv.text()).trim().split('\n');
  expect(lines[0]).toContain('id,type,status');
  expect(lines.length).toBeGreaterThan(1);
  for (const line of lines.slice(1)) expect(line).toContain(',rejected,');
});

test('clicking anywhere on a Pending row selects it; its buttons and links still do their own thing', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E row click');
  await signIn(page, 'analyst');
  await page.goto('/action-center');
  await hydrated(page);
  const row = page.getByRole('row', { name: new RegExp(escape(investigation.cluster)) });
  const box = row.getByRole('checkbox');
  await expect(box).not.toBeChecked();
  await row.getByRole('cell').nth(5).click();
  await expect(box).toBeChecked();
  await row.getByRole('cell').nth(5).click();
  await expect(box).not.toBeChecked();
  await row.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await expect(box).not.toBeChecked();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
});
