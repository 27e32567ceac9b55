// SCIM Provisioning with JavaScript disabled: plain forms, redirects and <details> toggles.
import { expect, test } from '@playwright/test';
import { LoginPage } from './support/pages';
import { ADMIN } from './support/env';
import { AuthentikClient, IntegrationPage, ScimListPage } from './support/scim-pages';

test('an integration is created, its token shown once and it is disabled without JavaScript', async ({ page, request }) => {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\/main\//);

  const name = `okta-nojs-${Date.now().toString().slice(-7)}`;
  const list = new ScimListPage(page);
  await list.open('main');

  // A blank name comes back beside its field, with the form still open.
  await list.createButton().click();
  await expect(page).toHaveURL(/create=1/);
  const form = page.getByRole('form', { name: 'Create a SCIM integration' });
  await form.getByLabel('Name', { exact: true }).fill('   ');
  await form.getByLabel('Description').fill('kept on error');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Give the integration a name of 1 to 100 characters.')).toBeVisible();
  await expect(form.getByLabel('Description')).toHaveValue('kept on error');
  await page.screenshot({ path: test.info().outputPath('scim-create-form-error-nojs.png'), fullPage: true });

  await list.open('main');
  await list.create(name, 'Without JavaScript');
  const integration = new IntegrationPage(page, name);
  const { endpoint, token } = await integration.readConnection();
  expect(page.url()).not.toContain(token);
  await page.screenshot({ path: test.info().outputPath('scim-created-nojs.png'), fullPage: true });

  const idp = new AuthentikClient(request, endpoint, token);
  expect((await idp.listUsers()).status()).toBe(200);

  // Shown once: a reload no longer has it.
  await page.reload();
  await expect(integration.tokenPanel()).toHaveCount(0);
  await expect(page.getByText(token)).toHaveCount(0);

  await integration.disable();
  await expect(page.getByRole('status')).toContainText('disabled');
  expect((await idp.listUsers()).status()).toBe(401);
  // A refused request stays out of the integration's log: the newest entry is still the 200.
  await page.reload();
  await expect(integration.logEntries().first()).toContainText('200');
  await expect(integration.logEntries().first()).not.toContainText('401');
});
