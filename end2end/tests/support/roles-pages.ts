// Page objects for Roles, Bindings and Service Accounts: what a person does there, by role and label.
import { APIRequestContext, expect, Locator, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { databaseUrl, rosterBin } from './env';

/**
 * A user with access to `tenant`, as an IdP would provision one: a SCIM integration made with
 * `roster scim create` (its service account shows up under Service Accounts), then `POST /Users`.
 */
export async function provisionUser(request: APIRequestContext, username: string, password?: string, tenant = 'main') {
  const out = execFileSync(rosterBin(), ['scim', 'create', '--tenant', tenant, '--name', `idp-${username}`], {
    env: { ...process.env, ROSTER_DATABASE_URL: databaseUrl, RUST_LOG: 'warn' },
  }).toString();
  const integration = JSON.parse(out) as { id: string; token: string };
  const res = await request.post(`/api/v1/${tenant}/integrations/${integration.id}/scim/v2/Users`, {
    headers: { Authorization: `Bearer ${integration.token}`, 'Content-Type': 'application/scim+json' },
    data: {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: username,
      emails: [{ value: `${username}@example.com`, primary: true }],
      active: true,
      ...(password ? { password } : {}),
    },
  });
  expect(res.status()).toBe(201);
}

/**
 * Clicks a link until the page with `heading` shows: a click that lands while the page is still
 * hydrating can be swallowed by the router, so it is tried again.
 */
async function followLink(page: Page, link: Locator, heading: string) {
  await page.waitForLoadState('networkidle');
  await expect(async () => {
    if (await link.isVisible()) await link.click();
    await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible({ timeout: 8000 });
  }).toPass({ timeout: 25_000 });
}

/** The success banner after a form (not the "Loading…" status or the new-token panel). */
export function notice(page: Page) {
  return page.getByRole('status').filter({ hasText: /^\s*✓/ });
}

export class RolesPage {
  constructor(private page: Page, private tenant = 'main') {}
  async open() {
    await this.page.goto(`/t/${this.tenant}/iam/roles`);
    await expect(this.page.getByRole('heading', { name: 'Roles', level: 1 })).toBeVisible();
  }
  row(name: string) {
    return this.page.getByTestId(`role-row-${name}`);
  }
  async openRole(name: string) {
    await followLink(this.page, this.row(name).getByRole('link', { name, exact: true }), name);
  }
  async startCreate() {
    await followLink(this.page, this.page.getByRole('link', { name: 'Create role' }), 'Create a role');
  }
}

export class RoleForm {
  constructor(private page: Page) {}
  name() {
    return this.page.getByRole('textbox', { name: 'Name', exact: true });
  }
  description() {
    return this.page.getByRole('textbox', { name: 'Description', exact: true });
  }
  /** A matrix checkbox, e.g. cell('Users', 'read'). */
  cell(resource: string, action: string) {
    return this.page.getByRole('checkbox', { name: `${resource}: ${action}`, exact: true });
  }
  async fill(name: string, description: string, cells: [string, string][]) {
    await this.name().fill(name);
    await this.description().fill(description);
    for (const [r, a] of cells) await this.cell(r, a).check();
  }
  async create() {
    await this.page.getByRole('button', { name: 'Create role' }).click();
  }
  async save() {
    await this.page.getByRole('button', { name: 'Save role' }).click();
  }
  async delete(name: string) {
    await this.page.locator(`summary[aria-label="Delete role ${name}"]`).click();
    await this.page.getByRole('button', { name: 'Delete role' }).click();
  }
  /** A read-only matrix mark, e.g. mark('Users', 'read', true). */
  mark(resource: string, action: string, allowed: boolean) {
    return this.page.getByRole('img', { name: `${resource}: ${action}: ${allowed ? 'allowed' : 'not allowed'}` });
  }
}

export class BindingsPage {
  constructor(private page: Page, private tenant = 'main') {}
  async open() {
    await this.page.goto(`/t/${this.tenant}/iam/bindings`);
    await expect(this.page.getByRole('heading', { name: 'Bindings', level: 1 })).toBeVisible();
  }
  row(subject: string, role: string) {
    return this.page.getByTestId(`binding-row-${subject}-${role}`);
  }
  async bind(role: string, subject: string) {
    await this.page.getByLabel('Role', { exact: true }).selectOption({ label: role });
    await this.page.getByLabel('Give it to').selectOption({ label: subject });
    await this.page.getByRole('button', { name: 'Bind role' }).click();
  }
  async bindUser(role: string, login: string) {
    await this.page.getByLabel('Role', { exact: true }).selectOption({ label: role });
    await this.page.getByLabel('…or a user by username or email').fill(login);
    await this.page.getByRole('button', { name: 'Bind role' }).click();
  }
  async remove(subject: string, role: string) {
    const row = this.row(subject, role);
    await row.locator(`summary[aria-label="Remove role ${role} from ${subject}"]`).click();
    await row.getByRole('button', { name: 'Remove binding' }).click();
  }
}

export class ServiceAccountsPage {
  constructor(private page: Page, private tenant = 'main') {}
  async open() {
    await this.page.goto(`/t/${this.tenant}/iam/service-accounts`);
    await expect(this.page.getByRole('heading', { name: 'Service Accounts', level: 1 })).toBeVisible();
  }
  row(name: string) {
    return this.page.getByTestId(`account-row-${name}`);
  }
  async create(name: string, description: string) {
    await this.page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
    await this.page.getByRole('textbox', { name: 'Description', exact: true }).fill(description);
    await this.page.getByRole('button', { name: 'Create service account' }).click();
    await expect(this.page.getByRole('heading', { name, level: 1 })).toBeVisible();
  }
}

export class ServiceAccountPage {
  constructor(private page: Page) {}
  tokenRow(name: string) {
    return this.page.getByTestId(`token-row-${name}`);
  }
  newTokenPanel() {
    return this.page.getByTestId('new-token-panel');
  }
  async createToken(name: string, days = '') {
    // With JavaScript, let the page hydrate first so the token comes back as the action's value.
    await this.page.waitForLoadState('networkidle');
    await this.page.getByLabel('Token name').fill(name);
    await this.page.getByLabel('Expires in (days)').fill(days);
    await this.page.getByRole('button', { name: 'Create token' }).click();
    await expect(this.newTokenPanel()).toBeVisible();
  }
  /** Reveals the masked token and reads it. */
  async revealToken(): Promise<string> {
    await this.newTokenPanel().locator('summary').click();
    const text = await this.page.getByTestId('new-token').textContent();
    return (text ?? '').trim();
  }
  async revoke(name: string) {
    const row = this.tokenRow(name);
    await row.locator(`summary[aria-label="Revoke token ${name}"]`).click();
    await row.getByRole('button', { name: 'Revoke token' }).click();
  }
  async bindRole(role: string) {
    await this.page.getByLabel('Give it a role').selectOption({ label: role });
    await this.page.getByRole('button', { name: 'Bind role' }).click();
  }
}
