// Starts the real `ff` binary for the tests: its own port (0 = any free one) and data directory.
import { test as base } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export type FfServer = { url: string; dataDir: string; stop: () => Promise<number | null> };

const binary = process.env.FF_BIN ?? resolve(__dirname, '../../target/debug/ff');

export async function startFf(): Promise<FfServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ff-e2e-'));
  const child = spawn(binary, ['serve', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, FF_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));

  const url = await new Promise<string>((done, fail) => {
    let stdout = '';
    const timer = setTimeout(() => fail(new Error(`ff did not print its URL in 20 s:\n${stderr}`)), 20_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /ff is running at (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        done(match[1]);
      }
    });
    child.on('error', (e) => fail(new Error(`cannot start ${binary}: ${e.message}`)));
    exited.then((code) => fail(new Error(`ff exited with ${code} before serving:\n${stderr}`)));
  });

  const stop = async () => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
    return code;
  };
  return { url, dataDir, stop };
}

export const test = base.extend<{}, { ff: FfServer }>({
  ff: [
    async ({}, use) => {
      const server = await startFf();
      await use(server);
      await server.stop();
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';
