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
