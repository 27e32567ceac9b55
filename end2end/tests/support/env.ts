// Where the e2e server runs and what it was started with (see playwright.config.ts).
import os from 'node:os';
import path from 'node:path';

export const ADMIN = { username: 'admin', password: 'e2e admin password' };

export const dataDir = path.resolve(process.env.ROSTER_E2E_DATA_DIR ?? path.join(os.tmpdir(), 'roster-e2e'));
export const databaseUrl = `sqlite://${dataDir}/e2e.db`;
export const rosterBin = (): string => {
  const bin = process.env.ROSTER_BIN_RESOLVED;
  if (!bin) throw new Error('ROSTER_BIN_RESOLVED is not set (playwright.config.ts sets it)');
  return bin;
};
