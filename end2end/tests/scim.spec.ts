// Tenant → IAM → SCIM Provisioning with JavaScript: the admin creates an integration, copies its
// URL and token from the page, and authentik-shaped SCIM requests use them; the page then shows
// counts and the request log; disabling and rotating take effect on the endpoint.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { LoginPage, TenantsPage } from './support/pages';
import { ADMIN, dataDir } from './support/env';
import { AuthentikClient, IntegrationPage, ScimListPage } from './support/scim-pages';

// Hydration or other script errors fail the test: the page must really run with JavaScript.
let pageErrors: string[] = [];

test.beforeEach(async ({ page }) => {
  pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\//);
});

test('an admin connects authentik through the SCIM Provisioning page', async ({ page, request }) => {
  const stamp = Date.now().toString().slice(-7);
  const tenant = `scim-${stamp}`;
  const tenants = new TenantsPage(page);
  await tenants.open();
  await tenants.create(tenant, `SCIM ${stamp}`);
  await expect(page.getByRole('status')).toHaveText(new RegExp(`Tenant ${tenant} created`));

  // An empty list says what to do next.
  const list = new ScimListPage(page);
  await list.open(tenant);
  await expect(list.emptyState()).toBeVisible();
  await expect(page.getByText('paste its endpoint URL and Secret Token into your identity provider')).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('scim-list-empty.png'), fullPage: true });

  // Create: the page shows the endpoint and the token once, with the next step.
  await list.create('authentik', 'Company directory');
  const integration = new IntegrationPage(page, 'authentik');
  await expect(page.getByText('Integration authentik created.')).toBeVisible();
  await expect(integration.tokenPanel()).toContainText('paste both into your identity provider');
  await expect(integration.tokenPanel()).toContainText('authentik');
  const { endpoint, token } = await integration.readConnection();
  expect(page.url()).not.toContain(token);
  await page.screenshot({ path: test.info().outputPath('scim-created.png'), fullPage: true });

  // Act as authentik.
  const authentik = new AuthentikClient(request, endpoint, token);
  expect((await authentik.serviceProviderConfig()).status()).toBe(200);
  const ada = await authentik.createUser(`ada.${stamp}`, 'ada provisioned password');
  expect(ada.status()).toBe(201);
  const grace = await authentik.createUser(`grace.${stamp}`, 'grace provisioned password');
  expect(grace.status()).toBe(201);
  const adaId = (await ada.json()).id as string;
  const graceId = (await grace.json()).id as string;
  const group = await authentik.createGroup(`Engineering ${stamp}`, [adaId]);
  expect(group.status()).toBe(201);
  const patched = await authentik.addMember((await group.json()).id, graceId);
  expect([200, 204]).toContain(patched.status());

  // A second load no longer shows the token.
  await page.reload();
  await expect(integration.tokenPanel()).toHaveCount(0);
  await expect(page.getByTestId('integration-users')).toHaveText('2');
  await expect(page.getByTestId('integration-groups')).toHaveText('1');
  await expect(integration.logEntries()).toHaveCount(5);
  await expect(integration.logEntries().first()).toContainText('PATCH');
  await expect(integration.logEntries().last()).toContainText('GET');
  await expect(integration.logEntries().last()).toContainText('/ServiceProviderConfig');

  // The list shows the counts and the last request.
  await list.open(tenant);
  const row = list.row('authentik');
  await expect(row).toContainText('Company directory');
  await expect(row).toContainText('Enabled');
  await expect(row.getByTestId('integration-users')).toHaveText('2');
  await expect(row.getByTestId('integration-groups')).toHaveText('1');
  await expect(row).toContainText(/20[04]/);
  await page.screenshot({ path: test.info().outputPath('scim-list.png'), fullPage: true });

  // The log shows the integration's failures and why, with passwords redacted. Disabling makes
  // the next SCIM call fail; refused calls (401) are not the integration's and stay out of its
  // log (the server log counts them).
  const again = await authentik.createUser(`ada.${stamp}`, 'secret password here');
  expect(again.status()).toBe(409);
  await row.getByRole('link', { name: 'authentik' }).click();
  await integration.disable();
  expect((await authentik.listUsers()).status()).toBe(401);
  const late = await authentik.createUser(`late.${stamp}`, 'secret password here');
  expect(late.status()).toBe(401);
  await page.reload();
  await integration.showFailuresOnly();
  await expect(integration.logEntries()).toHaveCount(1);
  const failure = integration.logEntries().first();
  await expect(failure).toContainText('409');
  await expect(failure).toContainText('POST');
  await failure.locator('summary').click();
  await expect(failure.getByTestId('log-error')).toContainText('already has a user');
  await expect(failure).toContainText('[redacted]');
  await expect(failure).not.toContainText('secret password here');
  await page.screenshot({ path: test.info().outputPath('scim-integration-log.png'), fullPage: true });

  // Rotating invalidates the old token; the new one works.
  await integration.enable();
  expect((await authentik.listUsers()).status()).toBe(200);
  await integration.rotate();
  const renewed = await integration.readConnection();
  expect(renewed.token).not.toBe(token);
  expect(renewed.endpoint).toBe(endpoint);
  expect((await authentik.listUsers()).status()).toBe(401);
  expect((await new AuthentikClient(request, endpoint, renewed.token).listUsers()).status()).toBe(200);
  await page.screenshot({ path: test.info().outputPath('scim-rotated.png'), fullPage: true });

  // Links to what the integration created.
  await expect(page.getByRole('link', { name: 'SCIMProvisioner' })).toHaveAttribute('href', new RegExp(`/t/${tenant}/iam/roles/`));
  await expect(page.getByRole('link', { name: /^scim-/ })).toHaveAttribute('href', new RegExp(`/t/${tenant}/iam/service-accounts/`));

  // Deleting says what stays, and the endpoint stops working. (Deleted from a second tab, so
  // the first one then meets an integration that is gone.)
  const second = await page.context().newPage();
  await second.goto(page.url());
  const secondIntegration = new IntegrationPage(second, 'authentik');
  const dialog = await secondIntegration.openDelete();
  await expect(dialog).toContainText('users and groups it provisioned remain');
  await dialog.getByRole('button', { name: 'Delete integration' }).click();
  await expect(second).toHaveURL(new RegExp(`/t/${tenant}/iam/scim\\?notice=`));
  await expect(second.getByRole('status')).toContainText('remain');
  await expect(new ScimListPage(second).emptyState()).toBeVisible();
  await second.close();
  expect((await new AuthentikClient(request, endpoint, renewed.token).listUsers()).status()).toBe(404);

  // The first tab still shows it; acting on it leads back to the list, saying why.
  expect(pageErrors).toEqual([]);
  await page.getByRole('button', { name: 'Disable', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${tenant}/iam/scim\\?error=`));
  await expect(page.getByRole('alert')).toContainText('has no SCIM integration');
  await expect(list.emptyState()).toBeVisible();
  // (Meanwhile the page's data reload met the integration gone: 404, as it should.)
  pageErrors = pageErrors.filter((e) => !e.includes('404'));

  // Neither token went into the server's log.
  const log = fs.readFileSync(path.join(dataDir, 'server.log'), 'utf8');
  expect(log).not.toContain(token);
  expect(log).not.toContain(renewed.token);
  expect(pageErrors).toEqual([]);
});
