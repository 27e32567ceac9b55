import { defineConfig } from '@playwright/test';
import os from 'node:os';
import path from 'node:path';

// Browser tests against the real release server built by `cargo leptos build --release`
// (scripts/test builds it, then runs `npx playwright test` here).
//
// Files named *.nojs.spec.ts run with JavaScript disabled (project "nojs"); every other
// *.spec.ts runs with JavaScript (project "js").
//
// Environment:
//   ROSTER_BIN            the server binary (default: where scripts/test builds it,
//                         $CARGO_TARGET_DIR/release/roster, CARGO_TARGET_DIR defaulting to
//                         ~/.cache/roster/target as in scripts/common.sh)
//   LEPTOS_SITE_ROOT      the built site (default: <repo>/target/site, cargo-leptos' site-root)
//   ROSTER_E2E_DATA_DIR   the server's data dir, deleted and recreated at every run
//                         (default: <tmp>/roster-e2e); the server log is server.log in it
//   ROSTER_E2E_PORT       port to serve on (default 3100)

const repoRoot = path.resolve(__dirname, '..');
const cacheDir =
  process.env.ROSTER_CACHE_DIR ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'roster');
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(cacheDir, 'target');
const bin = path.resolve(process.env.ROSTER_BIN ?? path.join(targetDir, 'release', 'roster'));
const siteRoot = path.resolve(repoRoot, process.env.LEPTOS_SITE_ROOT ?? 'target/site');
const dataDir = path.resolve(process.env.ROSTER_E2E_DATA_DIR ?? path.join(os.tmpdir(), 'roster-e2e'));
const port = Number(process.env.ROSTER_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;

// Specs read these (tests/support/env.ts): the binary for CLI calls and fresh servers.
process.env.ROSTER_BIN_RESOLVED = bin;
process.env.ROSTER_E2E_DATA_DIR = dataDir;
process.env.ROSTER_SITE_ROOT_RESOLVED = siteRoot;

// Single-quote a value for the POSIX shell that runs webServer.command.
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export default defineConfig({
  testDir: 'tests',
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0, // the tests share one database: a retry would meet its own first attempt
  reporter: 'list',
  timeout: 30_000,
  expect: { timeout: 10_000 },

  use: {
    baseURL,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's chromium: Playwright's own browser download can't work on these machines.
      executablePath: process.env.ROSTER_E2E_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-dev-shm-usage',
        '--disable-quic',
      ],
    },
  },

  projects: [
    { name: 'js', testIgnore: /\.nojs\.spec\.ts$/ },
    { name: 'nojs', testMatch: /\.nojs\.spec\.ts$/, use: { javaScriptEnabled: false } },
  ],

  // A fresh database for every run, with a first superadmin from settings (the first-run
  // setup page is tested on throwaway servers of its own: tests/support/roster.ts).
  webServer: {
    command: [
      `rm -rf ${sh(dataDir)}`,
      `mkdir -p ${sh(dataDir)}`,
      `echo "e2e server: ${bin.replace(/"/g, '')} (log: ${dataDir.replace(/"/g, '')}/server.log)"`,
      `exec ${sh(bin)} serve >${sh(path.join(dataDir, 'server.log'))} 2>&1`,
    ].join(' && '),
    cwd: repoRoot,
    env: {
      ROSTER_DATABASE_URL: `sqlite://${dataDir}/e2e.db?mode=rwc`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      ROSTER_PUBLIC_URL: baseURL,
      LEPTOS_SITE_ROOT: siteRoot,
      ROSTER_ADMIN_USERNAME: 'admin',
      ROSTER_ADMIN_PASSWORD: 'e2e admin password',
      // Encrypts the client secrets of sign-in providers (the SSO spec adds one).
      ROSTER_SECRET_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
    },
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    // SIGTERM first so the server can close the database cleanly.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
