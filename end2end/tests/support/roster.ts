// Drives the roster binary beside the browser: CLI commands against the e2e database, and
// throwaway servers on a fresh database for first-run tests.
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { databaseUrl, rosterBin } from './env';

/** `roster admin create`, as an operator would run it next to the server. */
export function createSuperadmin(username: string, password: string): void {
  execFileSync(rosterBin(), ['admin', 'create', '--username', username, '--password-stdin'], {
    input: password + '\n',
    env: { ...process.env, ROSTER_DATABASE_URL: databaseUrl, RUST_LOG: 'warn' },
  });
}

export interface FreshServer {
  url: string;
  stop: () => Promise<void>;
}

/** A second Roster on its own empty database, for first-run setup tests. */
export async function startFreshServer(port: number): Promise<FreshServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-fresh-'));
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(rosterBin(), ['serve'], {
    env: {
      ...process.env,
      ROSTER_DATABASE_URL: `sqlite://${dir}/fresh.db?mode=rwc`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      ROSTER_PUBLIC_URL: url,
      LEPTOS_SITE_ROOT: process.env.ROSTER_SITE_ROOT_RESOLVED ?? '',
      ROSTER_ADMIN_USERNAME: '',
      ROSTER_ADMIN_PASSWORD: '',
    },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`fresh server on ${url} did not start`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
