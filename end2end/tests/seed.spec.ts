// The seed's walkthrough (shared/docs/seed-kestra-authentik-scim.md), end to end in one story:
// the admin creates a SCIM integration and copies its URL and token from the page; authentik
// (played by this test, with authentik's payloads) provisions people with passwords, a group and
// its memberships; they appear under Users and Groups with their badges; the admin attaches the
// Viewer role to the group; a member signs in with their password in a fresh browser and sees
// everything read-only, and a write they craft by hand is refused.
import { test, expect } from '@playwright/test';
import { signInAsAdmin, GroupPage, GroupsPage, UsersPage } from './support/iam-pages';
import { AuthentikClient, IntegrationPage, ScimListPage } from './support/scim-pages';
import { LoginPage } from './support/pages';

test('the seed walkthrough: SCIM from authentik, Viewer on a group, a member signs in read-only', async ({ page, browser, request }) => {
  const stamp = Date.now().toString(36);
  const integrationName = `authentik-${stamp}`;
  const groupName = `Engineering ${stamp}`;
  const people = [`ada.lovelace${stamp}`, `alan.turing${stamp}`];
  const password = 'provisioned by authentik';

  // 1. Tenant → IAM → SCIM Provisioning → Create; copy the endpoint URL and the Secret Token.
  await signInAsAdmin(page);
  const list = new ScimListPage(page);
  await list.open('main');
  await list.create(integrationName, 'Users and groups from authentik');
  const { endpoint, token } = await new IntegrationPage(page, integrationName).readConnection();

  // 2. authentik's SCIM provider syncs: users (with passwords), a group, then its members.
  const authentik = new AuthentikClient(request, endpoint, token);
  expect((await authentik.serviceProviderConfig()).status()).toBe(200);
  const ids: string[] = [];
  for (const person of people) {
    const res = await authentik.createUser(person, password);
    expect(res.status(), await res.text()).toBe(201);
    ids.push((await res.json()).id);
  }
  const group = await authentik.createGroup(groupName, []);
  expect(group.status(), await group.text()).toBe(201);
  const groupId = (await group.json()).id;
  for (const id of ids) {
    const res = await authentik.addMember(groupId, id);
    expect(res.status(), await res.text()).toBeLessThan(300);
  }

  // 3. They appear under Users and Groups, badged with the integration that provisioned them.
  const users = new UsersPage(page);
  await users.open(`?q=${stamp}`);
  for (const person of people) {
    await expect(users.row(person)).toContainText(`SCIM · ${integrationName}`);
  }
  const groups = new GroupsPage(page);
  await groups.open();
  await expect(groups.row(groupName)).toContainText(`SCIM · ${integrationName}`);

  // 4. Attaching a role to the synced group is how its members get permissions.
  await groups.row(groupName).getByRole('link', { name: groupName }).click();
  const groupPage = new GroupPage(page);
  await expect(groupPage.warning()).toBeVisible();
  await groupPage.attachRole('Viewer');
  await expect(groupPage.roles()).toContainText('Viewer');

  // 5. A member signs in with the password authentik set, in a browser of their own.
  const theirs = await browser.newContext();
  const them = await theirs.newPage();
  const login = new LoginPage(them);
  await login.open();
  await login.signIn(`${people[0]}@example.com`, password);
  await expect(them.getByTestId('signed-in-user')).toBeVisible();

  // Everything is readable; no write control is rendered anywhere.
  const writeControls = /create|add|delete|remove|grant|attach|rotate|disable|enable|revoke|save/i;
  for (const section of ['users', 'groups', 'roles', 'bindings', 'service-accounts', 'scim']) {
    await them.goto(`/t/main/iam/${section}`);
    await expect(them.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(them.getByRole('button', { name: writeControls })).toHaveCount(0);
    await expect(them.getByRole('link', { name: /^create/i })).toHaveCount(0);
  }
  await them.goto('/t/main/iam/groups');
  await them.getByRole('link', { name: groupName }).click();
  await expect(them.getByRole('heading', { name: groupName, level: 1 })).toBeVisible();
  await expect(them.getByRole('button', { name: writeControls })).toHaveCount(0);

  // A write crafted by hand, with their session, is refused by the server; nothing changes.
  const crafted = await them.request.post('/api/scim/enable', {
    form: { tenant: 'main', id: endpoint.split('/integrations/')[1].split('/')[0], enabled: 'false' },
  });
  expect(crafted.status()).toBe(403);
  expect((await authentik.serviceProviderConfig()).status()).toBe(200);
  await theirs.close();
});
