// Service accounts: create one, bind a role, make a token shown once with a copy button, revoke it.
import { expect, test } from '@playwright/test';
import { LoginPage } from './support/pages';
import { ADMIN } from './support/env';
import { BindingsPage, ServiceAccountPage, ServiceAccountsPage, notice } from './support/roles-pages';

const shots = process.env.ROSTER_E2E_SCREENSHOTS;

test.beforeEach(async ({ page }) => {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\//);
});

test('a service account gets a role and a token that is shown once, then revoked', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const name = `ci-${Date.now()}`;
  const accounts = new ServiceAccountsPage(page);
  await accounts.open();
  await accounts.create(name, 'Deploys from CI');
  await expect(notice(page)).toHaveText(new RegExp(`Service account ${name} created`));

  const account = new ServiceAccountPage(page);
  await account.bindRole('Viewer');
  await expect(notice(page)).toHaveText(/Role Viewer bound to the service account\./);
  await expect(page.getByTestId(`binding-row-${name}-Viewer`)).toBeVisible();

  await account.createToken('GitHub Actions', '30');
  await expect(account.newTokenPanel()).toContainText('shown only this once');
  const token = await account.revealToken();
  expect(token.length).toBeGreaterThan(150);
  const copy = account.newTokenPanel().getByRole('button', { name: 'Copy token' });
  await expect(async () => {
    await copy.click();
    await expect(copy).toHaveText('Copied ✓', { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  // Made by the hydrated page: the token is the action's answer, not a redirect's.
  await expect(page).not.toHaveURL(/notice=Token/);
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  await expect(account.tokenRow('GitHub Actions')).toContainText(token.slice(0, 8));
  if (shots) await page.screenshot({ path: `${shots}/service-account.png`, fullPage: true });

  // A later page load never shows it again.
  await page.reload();
  await expect(account.tokenRow('GitHub Actions')).toBeVisible();
  await expect(account.newTokenPanel()).toHaveCount(0);
  expect(await page.content()).not.toContain(token);

  await account.revoke('GitHub Actions');
  await expect(notice(page)).toHaveText(/Token GitHub Actions revoked/);
  await expect(account.tokenRow('GitHub Actions')).toHaveCount(0);

  await accounts.open();
  await expect(accounts.row(name)).toContainText('Viewer');
  if (shots) await page.screenshot({ path: `${shots}/service-accounts.png`, fullPage: true });

  // The account is offered on the Bindings page too.
  const bindings = new BindingsPage(page);
  await bindings.open();
  await expect(bindings.row(name, 'Viewer')).toBeVisible();
});
