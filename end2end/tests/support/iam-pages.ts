// Page objects of Tenant → IAM → Users and Groups, and a SCIM client that seeds them the way an
// identity provider would (with an integration made by `roster scim create`).
import { execFileSync } from 'node:child_process';
import { APIRequestContext, expect, Page } from '@playwright/test';
import { ADMIN, databaseUrl, rosterBin } from './env';
import { LoginPage } from './pages';

export interface Integration {
  id: string;
  token: string;
  tenant: string;
}

/** `roster scim create`, as an operator would run it next to the server. */
export function createIntegration(name: string, tenant = 'main'): Integration {
  const out = execFileSync(rosterBin(), ['scim', 'create', '--tenant', tenant, '--name', name], {
    env: { ...process.env, ROSTER_DATABASE_URL: databaseUrl, RUST_LOG: 'warn' },
  }).toString();
  const json = JSON.parse(out);
  return { id: json.id, token: json.token, tenant };
}

/** `roster tenant create`. */
export function createTenant(id: string): void {
  execFileSync(rosterBin(), ['tenant', 'create', id, '--name', id], {
    env: { ...process.env, ROSTER_DATABASE_URL: databaseUrl, RUST_LOG: 'warn' },
  });
}

/** A SCIM request as the identity provider sends it; answers the JSON body. */
export async function scim(
  request: APIRequestContext,
  integ: Integration,
  method: 'POST' | 'PATCH',
  path: string,
  body: unknown,
): Promise<any> {
  const res = await request.fetch(`/api/v1/${integ.tenant}/integrations/${integ.id}/scim/v2${path}`, {
    method,
    headers: { Authorization: `Bearer ${integ.token}`, 'Content-Type': 'application/scim+json' },
    data: JSON.stringify(body),
  });
  expect(res.status(), await res.text()).toBeLessThan(300);
  return res.json();
}

/** Provisions a user; answers its id. */
export async function scimUser(
  request: APIRequestContext,
  integ: Integration,
  userName: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const body = await scim(request, integ, 'POST', '/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    displayName: `Person ${userName}`,
    emails: [{ value: `${userName}@example.test`, type: 'work', primary: true }],
    active: true,
    ...extra,
  });
  return body.id;
}

export async function signInAsAdmin(page: Page) {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\//);
}

export class UsersPage {
  constructor(private page: Page) {}
  async open(query = '') {
    await this.page.goto(`/t/main/iam/users${query}`);
    await expect(this.page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
  }
  async search(text: string) {
    await this.page.getByRole('searchbox', { name: 'Search users' }).fill(text);
    await this.page.getByRole('button', { name: 'Search', exact: true }).click();
  }
  rows() {
    return this.page.locator('tr[data-testid^="user-row-"]');
  }
  row(username: string) {
    return this.page.getByTestId(`user-row-${username}`);
  }
  summary() {
    return this.page.getByTestId('pager-summary');
  }
  next() {
    return this.page.getByRole('link', { name: 'Next' });
  }
  previous() {
    return this.page.getByRole('link', { name: 'Previous' });
  }
  async grantAccess(login: string) {
    await this.page.getByLabel('Username or email').fill(login);
    await this.page.getByRole('button', { name: 'Grant access' }).click();
  }
  async openUser(username: string) {
    await this.row(username).getByRole('link').click();
    await expect(this.page.getByRole('heading', { name: 'Effective permissions' })).toBeVisible();
  }
}

export class UserPage {
  constructor(private page: Page) {}
  permissions() {
    return this.page.getByTestId('effective-permissions');
  }
  /** The cell of one permission, e.g. ('USERS', 'READ'). */
  permission(resource: string, action: string) {
    return this.page.locator(`td[data-permission="${resource} · ${action}"]`);
  }
  async setPassword(password: string) {
    await this.page.getByLabel('New password').fill(password);
    await this.page.getByRole('button', { name: 'Save password' }).click();
  }
}

export class GroupsPage {
  constructor(private page: Page) {}
  async open(query = '') {
    await this.page.goto(`/t/main/iam/groups${query}`);
    await expect(this.page.getByRole('heading', { name: 'Groups', level: 1 })).toBeVisible();
  }
  async create(name: string) {
    await this.page.getByLabel('Group name').fill(name);
    await this.page.getByRole('button', { name: 'Create group' }).click();
    await expect(this.page.getByRole('heading', { name, level: 1 })).toBeVisible();
  }
  async search(text: string) {
    await this.page.getByRole('searchbox', { name: 'Search groups' }).fill(text);
    await this.page.getByRole('button', { name: 'Search', exact: true }).click();
  }
  row(name: string) {
    return this.page.getByTestId(`group-row-${name}`);
  }
}

export class GroupPage {
  constructor(private page: Page) {}
  async addMember(login: string) {
    await this.page.getByLabel('Add member (username or email)').fill(login);
    await this.page.getByRole('button', { name: 'Add member' }).click();
  }
  member(username: string) {
    return this.page.getByTestId(`member-row-${username}`);
  }
  async attachRole(role: string) {
    await this.page.getByLabel('Role to attach').selectOption({ label: role });
    await this.page.getByRole('button', { name: 'Attach role' }).click();
  }
  roles() {
    return this.page.getByRole('list', { name: 'Roles attached to this group' });
  }
  warning() {
    return this.page.getByTestId('scim-managed-warning');
  }
}
