// Tenant → IAM → Groups: create a group, add a member, attach Viewer, and see it on the member.
import { expect, test } from '@playwright/test';
import {
  createIntegration,
  GroupPage,
  GroupsPage,
  scim,
  scimUser,
  signInAsAdmin,
  UserPage,
} from './support/iam-pages';

test.beforeEach(async ({ page }) => {
  await signInAsAdmin(page);
});

test('a group made here gets a member and the Viewer role, and the member gets READ via the group', async ({ page, request }) => {
  const stamp = Date.now().toString(36);
  const integ = createIntegration(`grp-${stamp}`);
  const username = `dev${stamp}`;
  await scimUser(request, integ, username);

  const groups = new GroupsPage(page);
  await groups.open();
  const name = `Engineering ${stamp}`;
  await groups.create(name);
  await expect(page.getByRole('status')).toContainText(`Group ${name} created`);
  const group = new GroupPage(page);
  await expect(page.getByTestId('group-roles-empty')).toBeVisible();

  await group.addMember('nobody-' + stamp);
  await expect(page.getByText('Grant them access on the Users page first.')).toBeVisible();
  await group.addMember(`${username}@example.test`);
  await expect(page.getByRole('status')).toContainText(`${username} added to ${name}`);
  await expect(group.member(username)).toContainText(`SCIM · grp-${stamp}`);

  await group.attachRole('Viewer');
  await expect(page.getByRole('status')).toContainText('Role Viewer attached');
  await expect(group.roles()).toContainText('Viewer');
  await page.screenshot({ path: 'test-results/group-page.png', fullPage: true });

  await group.member(username).getByRole('link').click();
  const user = new UserPage(page);
  await expect(user.permission('USERS', 'READ')).toContainText(`Viewer, via group ${name}`);
  await expect(user.permission('USERS', 'UPDATE')).toHaveCount(0);
  await expect(page.getByRole('list', { name: 'Groups', exact: true })).toContainText(name);

  await groups.open(`?q=${stamp}`);
  await expect(groups.row(name)).toContainText('Created in Roster');
  await expect(groups.row(name).getByTestId('group-members')).toHaveText('1');
});

test('a group pushed over SCIM shows its integration, and its page warns that a sync may undo changes', async ({ page, request }) => {
  const stamp = Date.now().toString(36);
  const integ = createIntegration(`authentik-${stamp}`);
  const a = await scimUser(request, integ, `sa${stamp}`);
  const b = await scimUser(request, integ, `sb${stamp}`);
  const name = `Synced ${stamp}`;
  await scim(request, integ, 'POST', '/Groups', { displayName: name, members: [{ value: a }, { value: b }] });

  const groups = new GroupsPage(page);
  await groups.open();
  await groups.search(`synced ${stamp}`);
  await expect(groups.row(name)).toContainText(`SCIM · authentik-${stamp}`);
  await expect(groups.row(name).getByTestId('group-members')).toHaveText('2');
  await page.screenshot({ path: 'test-results/groups-list.png', fullPage: true });
  await groups.row(name).getByRole('link').click();
  const group = new GroupPage(page);
  await expect(group.warning()).toContainText(`The next sync from authentik-${stamp} may undo`);
  await group.member(`sb${stamp}`).getByRole('button', { name: `Remove sb${stamp} from the group` }).click();
  await expect(page.getByRole('status')).toContainText(`sb${stamp} removed from ${name}`);
  await expect(group.member(`sb${stamp}`)).toHaveCount(0);
  await expect(group.member(`sa${stamp}`)).toBeVisible();
});

test('at a phone\'s width a group page and the lists do not scroll sideways, and the member search is as wide as its words', async ({ page, request }) => {
  const stamp = Date.now().toString(36);
  const integ = createIntegration(`narrow-${stamp}`);
  const a = await scimUser(request, integ, `na${stamp}`);
  await scim(request, integ, 'POST', '/Groups', { displayName: `Narrow ${stamp}`, members: [{ value: a }] });

  const groups = new GroupsPage(page);
  await groups.open();
  await groups.search(`narrow ${stamp}`);
  await groups.row(`Narrow ${stamp}`).getByRole('link').click();
  const group = new GroupPage(page);
  await expect(group.member(`na${stamp}`)).toBeVisible();

  // On a desktop the member search shows its whole placeholder (a fixed width lost to
  // `w-full` and cut it to "Username, name or em").
  const search = page.getByRole('searchbox', { name: 'Search members' });
  const fits = await search.evaluate((e: HTMLInputElement) => {
    const probe = document.createElement('span');
    probe.style.font = getComputedStyle(e).font;
    probe.style.position = 'absolute';
    probe.style.whiteSpace = 'pre';
    probe.textContent = e.placeholder;
    document.body.append(probe);
    const needed = probe.getBoundingClientRect().width;
    probe.remove();
    const s = getComputedStyle(e);
    return e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) >= needed;
  });
  expect(fits).toBe(true);

  // On a phone the members table scrolls inside its card; the page itself does not (the
  // remove buttons' screen-reader text was placed past the card and widened the page).
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of [page.url(), '/t/main/iam/users', '/t/main/iam/groups']) {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
    const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    expect(scroll, `${path} scrolls sideways`).toBeLessThanOrEqual(client);
  }
});
