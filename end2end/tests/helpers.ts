import { execFileSync } from 'node:child_process';
import { expect, Page } from '@playwright/test';

export const PASSWORD = 'e2e-demo-password';

/** Signs in through the login form and waits for the incidents queue. */
export async function signIn(page: Page, username: string) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Signed in, people land on the Dashboard; the specs start from the Incidents queue.
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await hydrated(page);
  await page.goto('/incidents');
  await expect(page.getByRole('heading', { name: 'Incidents' })).toBeVisible();
}

/** Waits until the WASM client has hydrated the page (the boot script sets no flag of its
 * own, so we wait for the module to be fetched and the network to go quiet). */
export async function hydrated(page: Page) {
  await page.waitForLoadState('networkidle');
}

/** Runs the binary's own command line on the test database (as an operator would). */
export function cli(args: string[], input?: string) {
  const root = process.env.AIRDESK_E2E_ROOT ?? '/tmp/airdesk-e2e';
  return execFileSync(`${root}/airdesk`, ['--database-url', `sqlite://${root}/e2e.db`, '--log', 'error', ...args], {
    input,
    encoding: 'utf8',
  });
}

/** Adds a user with the command line. */
export function addUser(name: string, role: string) {
  cli(['user', 'add', name, '--role', role, '--password-stdin'], `${PASSWORD}\n`);
}
