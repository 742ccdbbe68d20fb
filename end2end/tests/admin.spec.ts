import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, hydrated, addUser, PASSWORD } from './helpers';

const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

async function axeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);
}

/** A server function called from the page, as the portal calls it; its HTTP status. */
async function rpc(page: Page, endpoint: string, body: object = {}) {
  return page.evaluate(
    async ([endpoint, body]) => {
      const response = await fetch(`/rpc/${endpoint}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return response.status;
    },
    [endpoint, body] as const,
  );
}

test('API tokens: an admin makes a token (its secret shown once), the API takes it, and after revoking refuses it', async ({ page, request }) => {
  await signIn(page, 'admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API tokens' }).click();
  await expect(page.getByRole('heading', { name: 'API tokens', level: 1 })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('For user').fill('analyst');
  await page.getByLabel('Label').fill('e2e-siem');
  await page.getByLabel('Ingest').check();
  await page.getByLabel('Expires after (days; 0 = never)').fill('30');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.locator('code.token-secret').textContent()) ?? '';
  expect(secret).toMatch(/^adk_[0-9a-f]{64}$/);
  const row = page.getByRole('row', { name: /e2e-siem/ });
  await expect(row).toContainText('analyst');
  await expect(row).toContainText('read, ingest');
  await expect(row).toContainText('Active');
  await axeClean(page);

  const api = () => request.get('/api/v1/incidents', { headers: { Authorization: `Bearer ${secret}` } });
  expect((await api()).status()).toBe(200);
  // Shown once: a reload lists the token, never its secret.
  await page.reload();
  await hydrated(page);
  await expect(page.locator('code.token-secret')).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);
  await expect(page.getByRole('row', { name: /e2e-siem/ })).not.toContainText('Never', { useInnerText: true });

  await page.getByRole('button', { name: 'Revoke e2e-siem' }).click();
  await expect(page.getByRole('row', { name: /e2e-siem/ })).toContainText('Revoked');
  expect((await api()).status()).toBe(401);
});

test('Sessions: an admin sees everyone\'s sessions and revokes one, which is refused at its next request', async ({ page, browser }) => {
  addUser('e2e-frank', 'reader');
  const frankContext = await browser.newContext();
  const frank = await frankContext.newPage();
  await signIn(frank, 'e2e-frank');
  expect(await rpc(frank, 'my_account')).toBe(200);

  await signIn(page, 'admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sessions' }).click();
  await expect(page.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
  await hydrated(page);
  await expect(page.getByRole('row', { name: /admin \(this browser\)/ })).toBeVisible();
  await page.getByRole('button', { name: /Revoke the session of e2e-frank/ }).click();
  await expect(page.getByRole('row', { name: /e2e-frank/ })).toHaveCount(0);
  expect(await rpc(frank, 'my_account')).toBe(401);
  await axeClean(page);
  await frankContext.close();
});

test('Settings: the configuration in force, with every secret masked', async ({ page }) => {
  await signIn(page, 'admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  const rules = page.getByRole('region', { name: 'Rules' });
  await expect(rules).toContainText('Duplicate window');
  await expect(rules).toContainText('1h');
  const signInSection = page.getByRole('region', { name: 'Sign-in' });
  await expect(signInSection).toContainText('soc-admins=admin');
  await expect(signInSection).toContainText('set (hidden)');
  await expect(page.getByRole('region', { name: 'Approval policy' })).toContainText('policy.toml');
  const html = await page.content();
  expect(html).not.toContain('e2e-oidc-client-secret-000');
  expect(html).not.toContain('e2e-webhook-signing-secret-000');
  await hydrated(page);
  await axeClean(page);
});

test('My account: who I am and where my role comes from; my password changed; signed out everywhere', async ({ page, browser }) => {
  addUser('e2e-gina', 'search-and-purge');
  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  await signIn(other, 'e2e-gina');

  await signIn(page, 'e2e-gina');
  await page.getByRole('link', { name: /e2e-gina · Search and purge/ }).click();
  await expect(page.getByRole('heading', { name: 'My account' })).toBeVisible();
  await expect(page.locator('dl.facts')).toContainText('a local account');
  await hydrated(page);
  await axeClean(page);

  await page.getByLabel('Current password').fill('not my password!');
  await page.getByLabel('New password (12 characters or more)').fill('a brand new passphrase');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toContainText('current password is wrong');
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status')).toContainText('Password changed');
  // Her other session ended with the change; this one goes on.
  expect(await rpc(other, 'my_account')).toBe(401);
  expect(await rpc(page, 'my_account')).toBe(200);

  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await expect(page).toHaveURL(/\/login/);
  expect(await rpc(page, 'my_account')).toBe(401);
  await otherContext.close();
});

test('Admin pages: a reader sees no admin navigation and every admin server function answers 403', async ({ page }) => {
  await signIn(page, 'reader');
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const name of ['Users', 'API tokens', 'Sessions', 'Settings', 'Deliveries']) {
    await expect(nav.getByRole('link', { name })).toHaveCount(0);
  }
  await hydrated(page);
  expect(await rpc(page, 'list_tokens')).toBe(403);
  expect(await rpc(page, 'create_token', { username: 'reader', label: 'x', scopes: 'admin', expires_days: null })).toBe(403);
  expect(await rpc(page, 'revoke_token', { id: 'any' })).toBe(403);
  expect(await rpc(page, 'list_sessions', { everyone: true })).toBe(403);
  expect(await rpc(page, 'get_settings')).toBe(403);
  expect(await rpc(page, 'list_users')).toBe(403);
  expect(await rpc(page, 'add_user', { username: 'x', password: 'long enough password', role: 'admin' })).toBe(403);
  expect(await rpc(page, 'change_user', { username: 'reader', change: { Role: 'admin' } })).toBe(403);
  expect(await rpc(page, 'change_user', { username: 'admin', change: 'Unlock' })).toBe(403);
  // Her own sessions are hers to see.
  expect(await rpc(page, 'list_sessions', { everyone: false })).toBe(200);
  for (const path of ['/users', '/tokens', '/sessions', '/settings']) {
    await page.goto(path);
    await expect(page.getByRole('alert')).toContainText(/Admin/);
  }
});

test('Users: an admin adds a local user on the page, who then signs in', async ({ page, browser }) => {
  await signIn(page, 'admin');
  await page.goto('/users');
  await hydrated(page);
  await page.getByLabel('Username').fill('e2e-hal');
  await page.getByLabel('Role', { exact: true }).selectOption('search_and_purge');
  await page.getByLabel('First password (12 characters or more)').fill(PASSWORD);
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByRole('status')).toContainText('User added');
  await expect(page.getByRole('combobox', { name: 'Role of e2e-hal' })).toHaveValue('search_and_purge');
  await axeClean(page);
  const halContext = await browser.newContext();
  const hal = await halContext.newPage();
  await signIn(hal, 'e2e-hal');
  await expect(hal.locator('.who')).toContainText('e2e-hal · Search and purge');
  await halContext.close();
});
