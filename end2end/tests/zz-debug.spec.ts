import { expect, test } from '@playwright/test';
import { LoginPage } from './support/pages';
import { ADMIN } from './support/env';
test('debug', async ({ page }) => {
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\//);
  for (const p of ['roles', 'bindings', 'service-accounts']) {
    await page.goto(`/t/main/iam/${p}`);
    await page.waitForTimeout(3000);
    logs.push(`---- after ${p}`);
  }
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('dbg-1');
  await page.getByRole('button', { name: 'Create service account' }).click();
  await page.waitForTimeout(3000);
  logs.push('url ' + page.url());
  console.log(logs.join('\n'));
});
