// The same flows with JavaScript disabled: plain HTML forms and redirects.
import { expect, test } from '@playwright/test';
import { LoginPage, SetupPage, Shell, TenantsPage } from './support/pages';
import { ADMIN } from './support/env';
import { createSuperadmin, startFreshServer } from './support/roster';

test('first-run setup works without JavaScript', async ({ page }) => {
  const server = await startFreshServer(3112);
  try {
    await page.goto(server.url + '/');
    await expect(page).toHaveURL(/\/setup$/);
    const setup = new SetupPage(page);
    await setup.createSuperadmin('grace', 'compiler pioneer', 'different words');
    await expect(page.getByText('The two passwords differ.')).toBeVisible();
    await expect(page.getByLabel('Username')).toHaveValue('grace');
    await setup.createSuperadmin('grace', 'compiler pioneer');
    await expect(page).toHaveURL(/\/t\/main\/iam\/users/);
    await expect(new Shell(page).signedInUser()).toHaveText('grace');
  } finally {
    await server.stop();
  }
});

test('sign-in, wrong password and sign-out work without JavaScript', async ({ page }) => {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, 'wrong again');
  await expect(login.alert()).toHaveText(/Wrong username or password\./);
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\/main\/iam\/users/);
  await new Shell(page).signOut();
});

test('lockout works without JavaScript', async ({ page }) => {
  createSuperadmin('locked-nojs', 'the right password');
  const login = new LoginPage(page);
  await login.open();
  for (let i = 0; i < 10; i++) {
    await login.signIn('locked-nojs', `wrong ${i}`);
  }
  await login.signIn('locked-nojs', 'the right password');
  await expect(login.alert()).toHaveText(/Too many failed sign-ins/);
});

test('tenants are created, refused and renamed without JavaScript', async ({ page }) => {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, ADMIN.password);
  const tenants = new TenantsPage(page);
  await tenants.open();
  await tenants.create('Bad Id', 'Nope');
  await expect(page.getByText('Use lowercase letters, digits and hyphens only.')).toBeVisible();
  await expect(tenants.idField()).toHaveValue('Bad Id');
  await tenants.create('ops-nojs', 'Operations');
  await expect(page.getByRole('status')).toHaveText(/Tenant ops-nojs created\./);
  await tenants.rename('ops-nojs', 'Ops');
  await expect(tenants.row('ops-nojs')).toContainText('Ops');
});

test('a person changes their password and signs out another browser without JavaScript', async ({ page, browser }) => {
  createSuperadmin('nojs-account', 'first password 1');
  const other = await browser.newContext({ javaScriptEnabled: false });
  const otherPage = await other.newPage();
  for (const p of [otherPage, page]) {
    const login = new LoginPage(p);
    await login.open();
    await login.signIn('nojs-account', 'first password 1');
    await expect(new Shell(p).signedInUser()).toHaveText('nojs-account');
  }
  await page.goto('/account');
  await expect(page.getByTestId('account-session')).toHaveCount(2);
  await page.getByLabel('Current password').fill('first password 1');
  await page.getByLabel('New password', { exact: true }).fill('second password 2');
  await page.getByLabel('New password, again').fill('something else 3');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('The two new passwords differ.')).toBeVisible();

  await page.getByLabel('Current password').fill('first password 1');
  await page.getByLabel('New password', { exact: true }).fill('second password 2');
  await page.getByLabel('New password, again').fill('second password 2');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Password changed. Your other sessions are signed out.')).toBeVisible();
  await expect(page.getByTestId('account-session')).toHaveCount(1);
  await otherPage.goto('/account');
  await expect(otherPage).toHaveURL(/\/login\?next=/);
  await other.close();
});
