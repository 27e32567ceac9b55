// Page objects for Tenant → IAM → SCIM Provisioning, and an SCIM client that sends what
// authentik sends (shapes from shared/docs/idp-clients.md).
import { APIRequestContext, APIResponse, expect, Page } from '@playwright/test';

export class ScimListPage {
  constructor(private page: Page) {}
  async open(tenant: string) {
    await this.page.goto(`/t/${tenant}/iam/scim`);
    await expect(this.page.getByRole('heading', { name: 'SCIM Provisioning', level: 1 })).toBeVisible();
  }
  emptyState() {
    return this.page.getByRole('heading', { name: 'No SCIM integrations yet' });
  }
  createButton() {
    return this.page.getByRole('link', { name: 'Create', exact: true });
  }
  /** Opens the form with the Create button, fills it in and saves; lands on the integration page. */
  async create(name: string, description: string) {
    await this.createButton().click();
    const form = this.page.getByRole('form', { name: 'Create a SCIM integration' });
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByLabel('Description').fill(description);
    await expect(form.getByLabel('Provisioning Type')).toHaveValue('scim2');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(this.page.getByRole('heading', { name, level: 1 })).toBeVisible();
  }
  row(name: string) {
    return this.page.getByTestId(`integration-row-${name}`);
  }
}

export class IntegrationPage {
  constructor(private page: Page, private name: string) {}
  tokenPanel() {
    return this.page.getByTestId('token-panel');
  }
  status() {
    return this.page.getByTestId('integration-status');
  }
  /** The endpoint URL and Secret Token shown right after creation or rotation. */
  async readConnection(): Promise<{ endpoint: string; token: string }> {
    const panel = this.tokenPanel();
    await expect(panel).toBeVisible();
    await expect(panel.getByText('it is shown only this once')).toBeVisible();
    const endpoint = (await panel.getByTestId('created-endpoint').textContent())?.trim() ?? '';
    await expect(panel.getByTestId('created-token')).toBeHidden();
    await panel.locator('summary', { hasText: 'Reveal' }).click();
    await expect(panel.getByTestId('created-token')).toBeVisible();
    const token = (await panel.getByTestId('created-token').textContent())?.trim() ?? '';
    expect(endpoint).toMatch(/\/api\/v1\/[a-z0-9-]+\/integrations\/[A-Za-z0-9]+\/scim\/v2$/);
    expect(token.length).toBeGreaterThan(100);
    return { endpoint, token };
  }
  async disable() {
    await this.page.getByRole('button', { name: 'Disable', exact: true }).click();
    await expect(this.status()).toHaveText('Disabled');
  }
  async enable() {
    await this.page.getByRole('button', { name: 'Enable', exact: true }).click();
    await expect(this.status()).toHaveText('Enabled');
  }
  async rotate() {
    await this.page.locator(`summary[aria-label="Rotate the Secret Token of ${this.name}"]`).click();
    await this.page.getByRole('dialog').getByRole('button', { name: 'Rotate token' }).click();
    await expect(this.tokenPanel()).toContainText('New Secret Token issued');
    await expect(this.page.getByRole('dialog')).toBeHidden();
  }
  async openDelete() {
    await this.page.locator(`summary[aria-label="Delete integration ${this.name}"]`).click();
    return this.page.getByRole('dialog').filter({ hasText: 'Delete this integration?' });
  }
  async showFailuresOnly() {
    await this.page.getByRole('link', { name: 'Failures only' }).click();
    await expect(this.page).toHaveURL(/[?&]failed=1/);
  }
  logEntries() {
    return this.page.getByTestId('log-entry');
  }
}

/** Speaks SCIM to a Roster endpoint the way authentik does. */
export class AuthentikClient {
  constructor(
    private request: APIRequestContext,
    private endpoint: string,
    private token: string,
  ) {}

  private headers() {
    return {
      Accept: 'application/scim+json',
      'Content-Type': 'application/scim+json',
      'User-Agent': 'authentik@2025.10.0',
      Authorization: `Bearer ${this.token}`,
    };
  }

  serviceProviderConfig(): Promise<APIResponse> {
    return this.request.get(`${this.endpoint}/ServiceProviderConfig`, { headers: this.headers() });
  }

  createUser(userName: string, password: string): Promise<APIResponse> {
    const [given, family] = userName.split('.');
    return this.request.post(`${this.endpoint}/Users`, {
      headers: this.headers(),
      data: {
        userName,
        name: { formatted: `${given} ${family ?? ''}`.trim(), familyName: family ?? ' ', givenName: given },
        displayName: `${given} ${family ?? ''}`.trim(),
        active: true,
        emails: [{ value: `${userName}@example.com`, type: 'other', primary: true }],
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        externalId: Array.from(userName).map((c) => c.charCodeAt(0).toString(16)).join('').padEnd(64, '0').slice(0, 64),
        password,
      },
    });
  }

  createGroup(displayName: string, memberIds: string[]): Promise<APIResponse> {
    return this.request.post(`${this.endpoint}/Groups`, {
      headers: this.headers(),
      data: {
        displayName,
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        externalId: `00000000-0000-4000-8000-${Date.now().toString().padStart(12, '0').slice(-12)}`,
        members: memberIds.map((value) => ({ value })),
      },
    });
  }

  addMember(groupId: string, userId: string): Promise<APIResponse> {
    return this.request.patch(`${this.endpoint}/Groups/${groupId}`, {
      headers: this.headers(),
      data: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }],
      },
    });
  }

  listUsers(): Promise<APIResponse> {
    return this.request.get(`${this.endpoint}/Users?startIndex=1&count=10`, { headers: this.headers() });
  }
}
