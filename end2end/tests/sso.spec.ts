// The end of the seed: "test both SSO and SCIM". An IdP provisions a person and a group over
// SCIM, the admin gives the group the Viewer role in the UI, and the person signs in through the
// IdP (a real OpenID provider on loopback) and sees exactly what Viewer allows.
import { test, expect } from '@playwright/test';
import { createIntegration, scim, scimUser, signInAsAdmin, GroupPage, GroupsPage } from './support/iam-pages';
import { startProvider, TestProvider, CLIENT } from './support/oidc';
import { notice } from './support/roles-pages';

let provider: TestProvider;

test.beforeAll(async ({}, testInfo) => {
  // The provider gets 60 s to start on a loaded machine (startProvider); the hook outlasts it.
  testInfo.setTimeout(90_000);
  provider = await startProvider(testInfo.project.use.baseURL!);
});

test.afterAll(async () => {
  await provider?.stop();
});

test('a person provisioned by SCIM signs in through the IdP and gets what Viewer allows', async ({ page, browser, request }) => {
  const suffix = Date.now().toString(36);
  const person = `carol-${suffix}`;
  const groupName = `Readers ${suffix}`;
  const providerName = `Test IdP ${suffix}`;

  // The IdP pushes the person and a group with them in it.
  const integration = createIntegration(`sso-idp-${suffix}`);
  const userId = await scimUser(request, integration, person, {
    name: { givenName: 'Carol', familyName: 'Reader' },
    displayName: 'Carol Reader',
    emails: [{ value: `${person}@example.com`, type: 'work', primary: true }],
  });
  await scim(request, integration, 'POST', '/Groups', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName: groupName,
    members: [{ value: userId }],
  });

  // The admin connects the IdP for sign-in and gives the group the Viewer role.
  await signInAsAdmin(page);
  await page.goto('/instance/oidc');
  await page.getByLabel('Name', { exact: true }).fill(providerName);
  await page.getByLabel('Issuer URL').fill(provider.issuer);
  await page.getByLabel('Client ID').fill(CLIENT.id);
  await page.getByLabel('Client secret').fill(CLIENT.secret);
  await page.getByLabel('Match people by').selectOption('email');
  await page.getByRole('button', { name: 'Add provider' }).click();
  await expect(notice(page)).toContainText(`Provider ${providerName} added`);
  await expect(page.getByTestId(`redirect-uri-${providerName}`)).toContainText('/auth/oidc/');

  const groups = new GroupsPage(page);
  await groups.open();
  await groups.row(groupName).getByRole('link', { name: groupName }).click();
  await new GroupPage(page).attachRole('Viewer');
  await expect(new GroupPage(page).roles()).toContainText('Viewer');

  // The person signs in through the IdP in a browser of their own.
  const theirs = await browser.newContext();
  const them = await theirs.newPage();
  await them.goto('/login');
  await them.getByRole('link', { name: `Sign in with ${providerName}` }).click();
  await them.locator('input[name="login"]').fill(person);
  await them.locator('input[name="password"]').fill('anything');
  await them.locator('button[type="submit"]').click();
  await them.locator('button[type="submit"]', { hasText: 'Continue' }).click();
  await expect(them.getByTestId('signed-in-user')).toBeVisible();
  await expect(them.getByTestId('signed-in-user')).toContainText(/Carol Reader|carol-/);

  // Viewer: everything readable, nothing writable.
  await them.goto('/t/main/iam/groups');
  await expect(them.getByRole('link', { name: groupName })).toBeVisible();
  await expect(them.getByRole('button', { name: /create|add|delete|attach/i })).toHaveCount(0);
  await them.goto('/t/main/iam/users');
  await expect(them.getByTestId(`user-row-${person}`).getByRole('link', { name: 'Carol Reader' })).toBeVisible();
  await expect(them.getByRole('button', { name: /grant|create|delete|remove/i })).toHaveCount(0);

  // A write crafted by hand, with their session, is refused by the server.
  const crafted = await them.request.post('/api/groups/create', {
    form: { tenant: 'main', name: `Sneaky ${suffix}` },
  });
  expect(crafted.status()).toBe(403);
  await theirs.close();
});
