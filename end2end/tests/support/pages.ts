// Page objects: what a person does on each page, by role and label.
import { expect, Page } from '@playwright/test';

export class SetupPage {
  constructor(private page: Page) {}
  async createSuperadmin(username: string, password: string, confirm = password) {
    // Let the page hydrate first: fields filled before it may be reset by hydration (seen once
    // in CI: username and email empty, the passwords kept).
    await this.page.waitForLoadState('networkidle');
    await this.page.getByLabel('Username').fill(username);
    await this.page.getByLabel('Email (optional)').fill(`${username}@example.com`);
    await this.page.getByLabel('Password', { exact: true }).fill(password);
    await this.page.getByLabel('Confirm password').fill(confirm);
    await this.page.getByRole('button', { name: 'Create superadmin' }).click();
  }
}

export class LoginPage {
  constructor(private page: Page) {}
  async open() {
    await this.page.goto('/login');
  }
  async signIn(username: string, password: string) {
    await this.page.getByLabel('Username or email').fill(username);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }
  alert() {
    return this.page.getByRole('alert');
  }
}

export class Shell {
  constructor(private page: Page) {}
  signedInUser() {
    return this.page.getByTestId('signed-in-user');
  }
  async signOut() {
    await this.page.getByTestId('user-menu').locator('summary').click();
    await this.page.getByRole('button', { name: 'Sign out' }).click();
    await expect(this.page).toHaveURL(/\/login/);
  }
}

export class TenantsPage {
  constructor(private page: Page) {}
  async open() {
    await this.page.goto('/instance/tenants');
    await expect(this.page.getByRole('heading', { name: 'Tenants', level: 1 })).toBeVisible();
  }
  idField() {
    return this.page.getByRole('textbox', { name: 'ID', exact: true });
  }
  nameField() {
    return this.page.getByRole('textbox', { name: 'Name', exact: true });
  }
  async create(id: string, name: string) {
    await this.idField().fill(id);
    await this.nameField().fill(name);
    await this.page.getByRole('button', { name: 'Create tenant' }).click();
  }
  row(id: string) {
    return this.page.getByTestId(`tenant-row-${id}`);
  }
  async rename(id: string, name: string) {
    const row = this.row(id);
    await row.locator('summary').click();
    await row.getByLabel(`New name for ${id}`).fill(name);
    await row.getByRole('button', { name: 'Save' }).click();
  }
}
