// Tenant → IAM → Audit log: a change made in the UI is in the log, with who made it; a page's
// History shows its changes alone, and the filters keep to one kind of change or to what
// identity providers changed over SCIM.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { createIntegration, GroupsPage, scim, scimUser, signInAsAdmin } from './support/iam-pages';
import { ADMIN } from './support/env';

test.beforeEach(async ({ page }) => {
  await signInAsAdmin(page);
});

test('a group made in the UI is in the audit log with who made it, and the filter keeps to groups', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const name = `Audited ${stamp}`;
  const groups = new GroupsPage(page);
  await groups.open();
  await groups.create(name);

  // The group page's History: its changes alone.
  await page.getByRole('link', { name: 'History' }).click();
  await expect(page).toHaveURL(/\/t\/main\/iam\/audit\?target=[0-9a-f-]{36}$/);
  await expect(page.getByTestId('audit-target')).toContainText(`Changes to ${name} only.`);
  await expect(page.getByTestId(/^audit-/).filter({ has: page.locator('td') })).toHaveCount(1);
  await page.getByRole('link', { name: 'Show all changes' }).click();
  await expect(page.getByTestId('audit-target')).toHaveCount(0);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible();
  const row = page.getByTestId('audit-group.create').filter({ hasText: name });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(ADMIN.username);
  await expect(row).toContainText('Group created');
  await expect(row.getByRole('link', { name })).toHaveAttribute('href', /\/t\/main\/iam\/groups\/[0-9a-f-]{36}$/);
  await page.screenshot({ path: 'test-results/audit-log.png', fullPage: true });

  await page.getByLabel('Kind of change').selectOption('role');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/\/t\/main\/iam\/audit\?area=role&by=$/);
  await expect(page.getByLabel('Kind of change')).toHaveValue('role');
  await expect(page.getByTestId('audit-group.create')).toHaveCount(0);

  await page.getByLabel('Kind of change').selectOption('group');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/area=group&by=$/);
  await expect(page.getByTestId('audit-group.create').filter({ hasText: name })).toHaveCount(1);
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^roster-main-audit-log-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = readFileSync(await file.path(), 'utf8');
  expect(text.split('\r\n')[0]).toBe('time,actor,actor_type,change,action,target,target_id,detail');
  expect(text).toContain(`Group created,group.create,${name}`);
  expect(text).not.toContain('role.create');
  await row.getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
});

test('what an identity provider changes over SCIM is in the log, by its integration', async ({ page, request }) => {
  const stamp = Date.now().toString(36);
  const integ = createIntegration(`Audit IdP ${stamp}`);
  const userName = `scim-audited-${stamp}`;
  const id = await scimUser(request, integ, userName);
  await scim(request, integ, 'PATCH', `/Users/${id}`, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
  });

  await page.goto('/t/main/iam/audit');
  await page.getByLabel('Made by').selectOption('scim');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/\/t\/main\/iam\/audit\?area=&by=scim$/);
  const updated = page.getByTestId('audit-user.update').filter({ hasText: userName });
  await expect(updated).toHaveCount(1);
  await expect(updated).toContainText('User updated');
  await expect(updated).toContainText('Deactivated.');
  await expect(updated).toContainText('SCIM');
  await expect(page.getByTestId('audit-user.provision').filter({ hasText: userName })).toHaveCount(1);
  await expect(page.getByTestId('audit-group.create')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/audit-log-scim.png', fullPage: true });

  // The user's page: its History holds what the identity provider did, newest first.
  await updated.getByRole('link', { name: userName }).click();
  await page.getByRole('link', { name: 'History' }).click();
  await expect(page.getByTestId('audit-target')).toContainText(`Changes to ${userName} only.`);
  const rows = page.getByTestId(/^audit-/).filter({ has: page.locator('td') });
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText('Deactivated.');

  // The actor links to the integration's page.
  await rows.first().getByRole('link', { name: `Audit IdP ${stamp}` }).click();
  await expect(page.getByRole('heading', { name: `Audit IdP ${stamp}`, level: 1 })).toBeVisible();
});
