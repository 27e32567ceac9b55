import { expect, test } from '@playwright/test';
import { LoginPage, Shell } from './support/pages';
import { ADMIN } from './support/env';
import { createSuperadmin } from './support/roster';

test('the admin signs in and out', async ({ page }) => {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\/main\/iam\/users/);
  await expect(new Shell(page).signedInUser()).toHaveText(ADMIN.username);
  await new Shell(page).signOut();
  await expect(page.getByText('You are signed out.')).toBeVisible();
  await page.goto('/instance/tenants');
  await expect(page).toHaveURL(/\/login\?next=/);
});

test('a wrong password shows an error and keeps the username', async ({ page }) => {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, 'not the password');
  await expect(login.alert()).toHaveText(/Wrong username or password\./);
  await expect(page.getByLabel('Username or email')).toHaveValue(ADMIN.username);
});

test('ten wrong passwords lock the account, even against the right one', async ({ page }) => {
  createSuperadmin('locked-js', 'the right password');
  const login = new LoginPage(page);
  await login.open();
  for (let i = 0; i < 10; i++) {
    await login.signIn('locked-js', `wrong ${i}`);
    await expect(login.alert()).toBeVisible();
  }
  await login.signIn('locked-js', 'the right password');
  await expect(login.alert()).toHaveText(/Too many failed sign-ins\. Try again in 30 minutes\./);
  await expect(page).toHaveURL(/\/login/);
});
