// Tenant → IAM → Users: search, paging over SCIM-provisioned users, the user page, passwords.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { LoginPage, Shell } from './support/pages';
import { createIntegration, scimUser, signInAsAdmin, UserPage, UsersPage } from './support/iam-pages';

test.beforeEach(async ({ page }) => {
  await signInAsAdmin(page);
});

test('users provisioned over SCIM are searched and paged', async ({ page, request }) => {
  const stamp = Date.now().toString(36);
  const integ = createIntegration(`seed-${stamp}`);
  for (let n = 0; n < 60; n++) {
    await scimUser(request, integ, `pg${stamp}-${String(n).padStart(2, '0')}`);
  }
  const users = new UsersPage(page);
  await users.open();
  await users.search(`pg${stamp}`);
  await expect(users.rows()).toHaveCount(50);
  await expect(users.summary()).toContainText(`Showing 50 users matching “pg${stamp}” (more on the next pages)`);
  await expect(users.row(`pg${stamp}-00`)).toContainText(`SCIM · seed-${stamp}`);
  await page.screenshot({ path: 'test-results/users-list.png', fullPage: true });

  await users.next().click();
  await expect(users.rows()).toHaveCount(10);
  await expect(users.row(`pg${stamp}-59`)).toBeVisible();
  await expect(users.next()).toHaveCount(0);
  await users.previous().click();
  await expect(users.rows()).toHaveCount(50);
  await expect(users.row(`pg${stamp}-00`)).toBeVisible();

  // By email, and by display name, case-insensitively.
  await users.search(`PG${stamp}-07@EXAMPLE`);
  await expect(users.rows()).toHaveCount(1);
  await expect(users.row(`pg${stamp}-07`)).toBeVisible();
  await users.search(`person pg${stamp}-1`);
  await expect(users.rows()).toHaveCount(10);
  await users.search(`nobody-${stamp}`);
  await expect(page.getByText('No matching users')).toBeVisible();

  // Export CSV downloads every user of the tenant, these 60 among them, one line each.
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^roster-main-users-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = readFileSync(await file.path(), 'utf8');
  const lines = text.split('\r\n');
  expect(lines[0]).toBe('id,username,display_name,email,active,access,groups,roles');
  expect(lines.filter((l) => l.includes(`,pg${stamp}-`))).toHaveLength(60);
});

test('the user page shows access sources and effective permissions, and a password set there signs in by email', async ({ page, request, browser }) => {
  const stamp = Date.now().toString(36);
  const integ = createIntegration(`idp-${stamp}`);
  const username = `ada${stamp}`;
  await scimUser(request, integ, username, { externalId: `ext-${stamp}` });
  const users = new UsersPage(page);
  await users.open(`?q=${username}`);
  await users.openUser(username);
  const user = new UserPage(page);
  await expect(page.getByRole('list', { name: 'Access sources' })).toContainText(`SCIM · idp-${stamp}`);
  await expect(page.getByText(`ext-${stamp}`)).toBeVisible();
  await expect(user.permissions()).toBeVisible();
  await expect(user.permission('USERS', 'READ')).toHaveCount(0);

  await user.setPassword('short');
  await expect(page.getByText('Use at least 8 characters.')).toBeVisible();
  await user.setPassword('ada has a password');
  await expect(page.getByRole('status')).toContainText(`Password set for ${username}`);
  await page.screenshot({ path: 'test-results/user-page.png', fullPage: true });

  const context = await browser.newContext();
  const other = await context.newPage();
  const login = new LoginPage(other);
  await login.open();
  await login.signIn(`${username}@EXAMPLE.test`, 'ada has a password');
  await expect(new Shell(other).signedInUser()).toBeVisible();
  await context.close();
});
