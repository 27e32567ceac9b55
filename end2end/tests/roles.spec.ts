// Custom roles (create, edit the matrix, delete), bindings and the managed roles' read-only view.
import { expect, test } from '@playwright/test';
import { LoginPage } from './support/pages';
import { ADMIN } from './support/env';
import { BindingsPage, RoleForm, RolesPage, provisionUser, notice } from './support/roles-pages';

const shots = process.env.ROSTER_E2E_SCREENSHOTS;

test.beforeEach(async ({ page }) => {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\//);
});

test('managed roles are listed with a badge and shown read-only', async ({ page }) => {
  const roles = new RolesPage(page);
  await roles.open();
  await expect(roles.row('Admin')).toContainText('Managed');
  await expect(roles.row('Viewer')).toContainText('Managed');
  if (shots) await page.screenshot({ path: `${shots}/roles-list.png`, fullPage: true });
  await roles.openRole('Viewer');
  const form = new RoleForm(page);
  await expect(page.getByRole('note')).toContainText('Managed role');
  await expect(form.mark('Users', 'read', true)).toBeVisible();
  await expect(form.mark('Users', 'delete', false)).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save role' })).toHaveCount(0);
  await expect(page.locator('summary[aria-label^="Delete role"]')).toHaveCount(0);
  if (shots) await page.screenshot({ path: `${shots}/role-managed.png`, fullPage: true });
});

test('a custom role is created, its matrix edited, then deleted', async ({ page }) => {
  const name = `Auditors ${Date.now()}`;
  const roles = new RolesPage(page);
  await roles.open();
  await roles.startCreate();
  const form = new RoleForm(page);
  await form.fill(name, 'Reads users and the audit log', [
    ['Users', 'read'],
    ['Audit log', 'read'],
  ]);
  await form.create();
  await expect(notice(page)).toHaveText(new RegExp(`Role ${name} created\\.`));
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  await expect(form.cell('Users', 'read')).toBeChecked();
  await expect(form.cell('Audit log', 'read')).toBeChecked();
  await expect(form.cell('Groups', 'read')).not.toBeChecked();

  // A name taken (in another case) is refused beside the field.
  await form.name().fill('viewer');
  await form.cell('Roles', 'read').check();
  await form.save();
  await expect(page.getByText('A role named “viewer” already exists')).toBeVisible();
  await expect(form.name()).toHaveAttribute('aria-invalid', 'true');
  await expect(form.cell('Roles', 'read')).toBeChecked(); // what was ticked is kept
  await form.cell('Roles', 'read').uncheck();

  await form.name().fill(name);
  await form.cell('Audit log', 'read').uncheck();
  await form.cell('Groups', 'read').check();
  await form.cell('Groups', 'update').check();
  await form.save();
  await expect(notice(page)).toHaveText(new RegExp(`Role ${name} saved\\.`));
  await page.reload();
  await expect(form.cell('Groups', 'update')).toBeChecked();
  await expect(form.cell('Audit log', 'read')).not.toBeChecked();
  await expect(form.cell('Users', 'read')).toBeChecked();
  if (shots) await page.screenshot({ path: `${shots}/role-custom.png`, fullPage: true });

  await form.delete(name);
  await expect(page).toHaveURL(/\/iam\/roles\?/);
  await expect(notice(page)).toHaveText(new RegExp(`Role ${name} deleted\\.`));
  await expect(roles.row(name)).toHaveCount(0);
});

test('a role is bound to a user and the binding removed', async ({ page }) => {
  const user = `bea-${Date.now()}`;
  await provisionUser(page.request, user);
  const bindings = new BindingsPage(page);
  await bindings.open();
  await bindings.bind('Viewer', user);
  await expect(notice(page)).toHaveText(/Role Viewer bound to the user\./);
  const row = bindings.row(user, 'Viewer');
  await expect(row).toContainText('User');
  await expect(row.getByRole('link', { name: user })).toHaveAttribute('href', /\/t\/main\/iam\/users\//);
  await expect(row.getByRole('link', { name: 'Viewer' })).toHaveAttribute('href', /\/t\/main\/iam\/roles\//);
  // Twice is a conflict, said plainly; picking the user by email finds the same person.
  await bindings.bindUser('Viewer', `${user}@example.com`);
  await expect(page.getByRole('alert')).toHaveText(/already bound to this user/);
  if (shots) await page.screenshot({ path: `${shots}/bindings.png`, fullPage: true });
  await bindings.remove(user, 'Viewer');
  await expect(notice(page)).toHaveText(/Binding removed\./);
  await expect(bindings.row(user, 'Viewer')).toHaveCount(0);
});

test('a Viewer sees roles, bindings and service accounts read-only, and a crafted write is refused', async ({ page, browser }) => {
  const user = `vic-${Date.now()}`;
  await provisionUser(page.request, user, 'viewer password');
  const bindings = new BindingsPage(page);
  await bindings.open();
  await bindings.bind('Viewer', user);
  await expect(bindings.row(user, 'Viewer')).toBeVisible();

  const context = await browser.newContext();
  const viewer = await context.newPage();
  const login = new LoginPage(viewer);
  await login.open();
  await login.signIn(user, 'viewer password');
  await expect(viewer).toHaveURL(/\/t\/main\//);
  const roles = new RolesPage(viewer);
  await roles.open();
  await expect(roles.row('Admin')).toBeVisible();
  await expect(viewer.getByRole('link', { name: 'Create role' })).toHaveCount(0);
  const viewerBindings = new BindingsPage(viewer);
  await viewerBindings.open();
  await expect(viewerBindings.row(user, 'Viewer')).toBeVisible();
  await expect(viewer.getByRole('button', { name: 'Bind role' })).toHaveCount(0);
  await expect(viewer.locator('summary', { hasText: 'Remove' })).toHaveCount(0);
  await viewer.goto('/t/main/iam/service-accounts');
  await expect(viewer.getByRole('heading', { name: 'Service Accounts', level: 1 })).toBeVisible();
  await expect(viewer.getByRole('button', { name: 'Create service account' })).toHaveCount(0);
  const res = await viewer.request.post('/api/roles/create', {
    form: { tenant: 'main', name: 'Sneaky' },
    headers: { Accept: 'application/json' },
  });
  expect(res.status()).toBe(403);
  await context.close();
});
