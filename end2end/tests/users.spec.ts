import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, hydrated, addUser } from './helpers';

const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

test('Users: an admin demotes and disables a user, whose open session is refused at once', async ({ page, browser }) => {
  addUser('e2e-carol', 'search-and-purge');
  const carolContext = await browser.newContext();
  const carol = await carolContext.newPage();
  await signIn(carol, 'e2e-carol');
  const listIncidents = () =>
    carol.evaluate(async () => {
      const response = await fetch('/rpc/list_incidents', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: {} }),
      });
      return response.status;
    });
  expect(await listIncidents()).toBe(200);

  await signIn(page, 'admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
  await hydrated(page);
  const role = page.getByRole('combobox', { name: 'Role of e2e-carol' });
  await expect(role).toHaveValue('search_and_purge');
  await role.selectOption('reader');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('combobox', { name: 'Role of e2e-carol' })).toHaveValue('reader');

  await page.getByRole('button', { name: 'Disable e2e-carol' }).click();
  await expect(page.getByRole('button', { name: 'Enable e2e-carol' })).toBeVisible();
  await expect(page.getByRole('row', { name: /e2e-carol/ })).toContainText('Disabled');
  // Her open session is refused on its next request.
  expect(await listIncidents()).toBe(401);

  // The last enabled admin cannot disable themselves: refused with the reason, nothing changed.
  await page.getByRole('button', { name: 'Disable admin' }).click();
  await expect(page.getByRole('alert')).toContainText('last enabled admin');
  await expect(page.getByRole('button', { name: 'Disable admin' })).toBeVisible();

  const results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);
  await carolContext.close();
});

test('Users: a reader sees no link, and the page refuses them', async ({ page }) => {
  await signIn(page, 'reader');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' })).toHaveCount(0);
  await page.goto('/users');
  await expect(page.getByRole('alert')).toContainText(/admin|Admin|not allowed|Forbidden/);
  await expect(page.getByRole('table', { name: 'Users' })).toHaveCount(0);
});
