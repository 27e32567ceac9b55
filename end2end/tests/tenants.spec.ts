import { expect, test } from '@playwright/test';
import { LoginPage } from './support/pages';
import { TenantsPage } from './support/pages';
import { ADMIN } from './support/env';

test.beforeEach(async ({ page }) => {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\//);
});

test('a superadmin creates and renames a tenant, and it appears in the switcher', async ({ page }) => {
  const tenants = new TenantsPage(page);
  await tenants.open();
  await tenants.create('dev-js', 'Development');
  await expect(page.getByRole('status')).toHaveText(/Tenant dev-js created\./);
  await expect(tenants.row('dev-js')).toContainText('Development');

  await tenants.rename('dev-js', 'Dev & Test');
  await expect(page.getByRole('status')).toHaveText(/Tenant dev-js renamed\./);
  await expect(tenants.row('dev-js')).toContainText('Dev & Test');

  await page.getByTestId('tenant-switcher').locator('summary').click();
  await page.getByRole('link', { name: /Dev & Test/ }).click();
  await expect(page).toHaveURL(/\/t\/dev-js\/iam\/users/);
});

test('an invalid or taken tenant id is reported beside the field', async ({ page }) => {
  const tenants = new TenantsPage(page);
  await tenants.open();
  await tenants.create('main', 'Again');
  await expect(page.getByText('A tenant with the ID `main` already exists.')).toBeVisible();
  await expect(tenants.idField()).toHaveAttribute('aria-invalid', 'true');
});

test('the page hydrates: typing an id is checked in the browser without a navigation', async ({ page }) => {
  const tenants = new TenantsPage(page);
  await tenants.open();
  // A marker on window survives only if no navigation happens.
  await page.evaluate(() => ((window as unknown as { rosterMarker: number }).rosterMarker = 42));
  const feedback = page.getByTestId('tenant-id-feedback');
  await expect(async () => {
    await tenants.idField().fill('');
    await tenants.idField().pressSequentially('Bad ID');
    await expect(feedback).toHaveText('Use lowercase letters, digits and hyphens only.', { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await tenants.idField().fill('');
  await tenants.idField().pressSequentially('qa');
  await expect(feedback).toHaveText('✓ Available as /t/qa');

  // Creating through the hydrated form is a client-side action: still the same document.
  await tenants.nameField().fill('Quality');
  await page.getByRole('button', { name: 'Create tenant' }).click();
  await expect(tenants.row('qa')).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { rosterMarker?: number }).rosterMarker)).toBe(42);
});
