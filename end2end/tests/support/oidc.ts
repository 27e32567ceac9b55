// A real OpenID provider for the SSO specs: tests/oidc/provider.mjs (npm `oidc-provider`),
// started on loopback with Roster's e2e address as the allowed redirect base.
import { spawn, ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export interface TestProvider {
  issuer: string;
  stop: () => Promise<void>;
}

/** Client registered at the provider for Roster (see tests/oidc/provider.mjs). */
export const CLIENT = { id: 'roster', secret: 'roster-test-secret' };

export async function startProvider(rosterBaseUrl: string): Promise<TestProvider> {
  const dir = path.resolve(__dirname, '../../../tests/oidc');
  const child: ChildProcess = spawn(process.execPath, ['provider.mjs'], {
    cwd: dir,
    env: { ...process.env, ROSTER_PUBLIC_URL: rosterBaseUrl },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // The provider's last words, for a failure that would otherwise say nothing (kept short;
  // reading the stream also keeps a chatty provider from blocking on a full pipe).
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const lines = readline.createInterface({ input: child.stdout! });
  let timer: NodeJS.Timeout | undefined;
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    new Promise<string>((_, reject) => {
      child.once('exit', (code, signal) =>
        reject(new Error(`the OpenID provider exited (${signal ?? code}) before it started: ${stderr}`)),
      );
      child.once('error', (e) => reject(new Error(`the OpenID provider could not be started: ${e.message}`)));
    }),
    new Promise<string>((_, reject) => {
      // Refused one turn of the event loop late (`setImmediate`): timers run before I/O in a
      // turn, so when this process was frozen past the deadline (a paused machine, a long
      // synchronous stretch) the provider's line, already waiting in the pipe, would otherwise
      // lose to the timer it beat — a CI run failed so, "did not start within 60 s", with the
      // provider's start taking 1–3 s on a loaded machine.
      timer = setTimeout(
        () => setImmediate(() => reject(new Error(`the OpenID provider did not start within 60 s: ${stderr}`))),
        60_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  const { issuer } = JSON.parse(first);
  return {
    issuer,
    stop: async () => {
      child.stdin?.end();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
