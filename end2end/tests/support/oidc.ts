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

/** Seconds the provider has to print its issuers (it takes about 1). */
const PROVIDER_START_SECS = 60;

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
  let ticker: NodeJS.Timeout | undefined;
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    new Promise<string>((_, reject) => {
      child.once('exit', (code, signal) =>
        reject(new Error(`the OpenID provider exited (${signal ?? code}) before it started: ${stderr}`)),
      );
      child.once('error', (e) => reject(new Error(`the OpenID provider could not be started: ${e.message}`)));
    }),
    new Promise<string>((_, reject) => {
      // The deadline is counted in seconds this process was awake, one tick a second, not
      // against the clock: when the machine is paused (a frozen VM), its clock jumps on resume
      // and a deadline set against it has passed at once, though the provider, frozen too, had
      // no time to start. (The CI failures that read "did not start within 60 s", stderr at the
      // library's first warning, were the provider hanging in a key's JWK export, fixed in
      // provider.mjs with keys made once; it starts in about half a second.) A timer missed while
      // frozen fires once on resume, so a pause counts as one tick. (Reproduced with both
      // processes stopped for 5 s by SIGSTOP against a 3 s deadline: the clock's refused, the
      // ticks' read the line.) The refusal still comes one event-loop
      // turn late (`setImmediate`): timers run before I/O in a turn, and a line already waiting
      // in the pipe wins.
      let awake = 0;
      ticker = setInterval(() => {
        awake += 1;
        if (awake >= PROVIDER_START_SECS) {
          clearInterval(ticker);
          setImmediate(() =>
            reject(new Error(`the OpenID provider did not start within ${PROVIDER_START_SECS} s: ${stderr}`)),
          );
        }
      }, 1_000);
    }),
  ]).finally(() => clearInterval(ticker));
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
