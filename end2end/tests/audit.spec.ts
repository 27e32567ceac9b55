// Tenant → IAM → Audit log: a change made in the UI is in the log, with who made it; a page's
// History shows its changes alone, and the filter keeps to one kind of change.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { GroupsPage, signInAsAdmin } from './support/iam-pages';
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
  await expect(page).toHaveURL(/\/t\/main\/iam\/audit\?area=role$/);
  await expect(page.getByLabel('Kind of change')).toHaveValue('role');
  await expect(page.getByTestId('audit-group.create')).toHaveCount(0);

  await page.getByLabel('Kind of change').selectOption('group');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/area=group$/);
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
