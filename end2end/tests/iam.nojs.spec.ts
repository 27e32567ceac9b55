// Users and Groups with JavaScript disabled: search, grant access, create a group and attach a role.
import { expect, test } from '@playwright/test';
import {
  createIntegration,
  createTenant,
  GroupPage,
  GroupsPage,
  scimUser,
  signInAsAdmin,
  UserPage,
  UsersPage,
} from './support/iam-pages';

test('search, grant access and attach a role work without JavaScript', async ({ page, request }) => {
  const stamp = Date.now().toString(36);
  // A user who exists (provisioned into another tenant) but has no access to `main`.
  const tenant = `nojs-${stamp}`;
  createTenant(tenant);
  const elsewhere = createIntegration(`elsewhere-${stamp}`, tenant);
  const username = `nj${stamp}`;
  await scimUser(request, elsewhere, username);

  await signInAsAdmin(page);
  const users = new UsersPage(page);
  await users.open();
  await users.search(username);
  await expect(page.getByText('No matching users')).toBeVisible();

  await users.grantAccess(`unknown-${stamp}`);
  await expect(page.getByText(`No user has the username or email`)).toBeVisible();
  await users.grantAccess(username);
  await expect(page.getByRole('status')).toContainText(`${username} now has access to this tenant.`);
  await users.search(username.toUpperCase());
  await expect(users.rows()).toHaveCount(1);
  await expect(users.row(username)).toContainText('Granted by hand');

  const groups = new GroupsPage(page);
  await groups.open();
  const name = `NoJS ${stamp}`;
  await groups.create(name);
  const group = new GroupPage(page);
  await group.addMember(username);
  await expect(page.getByRole('status')).toContainText(`${username} added to ${name}`);
  await group.attachRole('Viewer');
  await expect(page.getByRole('status')).toContainText('Role Viewer attached');
  await expect(group.roles()).toContainText('Viewer');

  await group.member(username).getByRole('link').click();
  await expect(new UserPage(page).permission('GROUPS', 'READ')).toContainText(`Viewer, via group ${name}`);
});
