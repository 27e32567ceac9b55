// Roles, bindings and service-account tokens with JavaScript disabled: plain forms and redirects.
import { expect, test } from '@playwright/test';
import { LoginPage } from './support/pages';
import { ADMIN } from './support/env';
import { BindingsPage, RoleForm, RolesPage, ServiceAccountPage, ServiceAccountsPage, provisionUser, notice } from './support/roles-pages';

test.beforeEach(async ({ page }) => {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\//);
});

test('a custom role is created and bound without JavaScript', async ({ page }) => {
  const name = `NoJS ${Date.now()}`;
  const roles = new RolesPage(page);
  await roles.open();
  await roles.startCreate();
  const form = new RoleForm(page);
  await form.fill('viewer', '', [['Groups', 'read']]);
  await form.create();
  await expect(page.getByText('A role named “viewer” already exists')).toBeVisible();
  await expect(form.name()).toHaveValue('viewer');
  await expect(form.cell('Groups', 'read')).toBeChecked();
  await form.fill(name, 'Made without JS', [
    ['Users', 'read'],
    ['Bindings', 'create'],
  ]);
  await form.create();
  await expect(notice(page)).toHaveText(new RegExp(`Role ${name} created\\.`));
  await expect(form.cell('Users', 'read')).toBeChecked();
  await expect(form.cell('Bindings', 'create')).toBeChecked();
  await expect(form.cell('Groups', 'read')).toBeChecked();
  await expect(form.cell('Users', 'delete')).not.toBeChecked();

  const user = `nojs-${Date.now()}`;
  await provisionUser(page.request, user);
  const bindings = new BindingsPage(page);
  await bindings.open();
  await bindings.bindUser(name, user);
  await expect(notice(page)).toHaveText(new RegExp(`Role ${name} bound to the user\\.`));
  await expect(bindings.row(user, name)).toBeVisible();
  await bindings.remove(user, name);
  await expect(notice(page)).toHaveText(/Binding removed\./);
});

test('a service-account token is shown once without JavaScript', async ({ page }) => {
  const name = `nojs-${Date.now()}`;
  const accounts = new ServiceAccountsPage(page);
  await accounts.open();
  await accounts.create(name, 'No JS');
  const account = new ServiceAccountPage(page);
  await account.createToken('cron');
  const token = await account.revealToken();
  expect(token.length).toBeGreaterThan(150);
  await page.reload();
  await expect(account.tokenRow('cron')).toContainText(token.slice(0, 8));
  await expect(account.newTokenPanel()).toHaveCount(0);
  await account.revoke('cron');
  await expect(notice(page)).toHaveText(/Token cron revoked/);
});
