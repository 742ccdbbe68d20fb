import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, hydrated } from './helpers';

const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

test('the login page has no WCAG 2.1 AA violations', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  const results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);
});

test('the home page has no WCAG 2.1 AA violations', async ({ page }) => {
  await signIn(page, 'analyst');
  await hydrated(page);
  const results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);
});
