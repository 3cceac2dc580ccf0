// The real `ff` binary and real git repositories for the tests.
import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export { expect };

const binary = process.env.FF_BIN ?? resolve(__dirname, '../../target/debug/ff');

/** The token every test server requires (a fixed FF_TOKEN, as test clients pass it). */
export const TOKEN = 'ff-e2e-token-0123456789abcdef';

export type FfServer = {
  /** The base URL, without the token. */
  url: string;
  port: number;
  dataDir: string;
  /** The token from the login URL ff printed. */
  token: string;
  /** The header programs send. */
  auth: Record<string, string>;
  /** Gives a browser context ff's login cookie, as opening the printed URL would. */
  login: (context: BrowserContext) => Promise<void>;
  /** A new page in a context of its own that is logged in. */
  newPage: (browser: Browser) => Promise<Page>;
  /** SIGTERM and wait; resolves with the exit code. */
  stop: () => Promise<number | null>;
};

export type StartOptions = {
  dataDir?: string;
  port?: number;
  env?: Record<string, string>;
  /** Let ff generate its token into the data directory instead of the fixed test token. */
  generatedToken?: boolean;
};

/** The `ff` binary the tests run. */
export const ffBinary = binary;

export async function startFf(options: StartOptions = {}): Promise<FfServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ff-e2e-'));
  const child = spawn(binary, ['serve', '--port', String(options.port ?? 0), '--data-dir', dataDir], {
    env: environment(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const login = await new Promise<string>((done, fail) => {
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
    return code;
  };
  const printed = new URL(login);
  const url = printed.origin;
  const token = printed.searchParams.get('token') ?? '';
  const port = Number(printed.port);
  const auth = { authorization: `Bearer ${token}` };
  const loginContext = (context: BrowserContext) =>
    context.addCookies([{ name: `ff_token_${port}`, value: token, url, httpOnly: true, sameSite: 'Strict' }]);
  const newPage = async (browser: Browser) => {
    const context = await browser.newContext();
    await loginContext(context);
    return context.newPage();
  };
  return { url, port, dataDir, token, auth, login: loginContext, newPage, stop };
}

function environment(options: StartOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FF_LOG: 'warn', FF_TOKEN: TOKEN, ...options.env };
  if (options.generatedToken) delete env.FF_TOKEN;
  return env;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=E2E', '-c', 'user.email=e2e@example.com', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();
}

/** A repository with one commit on main and a bare origin, configured with `scripts`. */
export function makeRepo(scripts: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'ff-e2e-repo-'));
  const repo = join(root, 'repo');
  git(root, 'init', '-q', '--bare', 'origin.git');
  mkdirSync(repo);
  git(repo, 'init', '-q');
  git(repo, 'remote', 'add', 'origin', join(root, 'origin.git'));
  writeFileSync(join(repo, 'README.md'), 'hello\n');
  writeFileSync(join(repo, 'factory-factory.json'), JSON.stringify({ scripts }));
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'initial');
  git(repo, 'push', '-q', 'origin', 'main');
  git(repo, 'remote', 'set-head', 'origin', 'main');
  return repo;
}

export async function api<T = any>(ff: FfServer, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${ff.url}${path}`, {
    method,
    headers: body === undefined ? ff.auth : { ...ff.auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function addProject(ff: FfServer, repo: string): Promise<string> {
  return (await api<{ id: string }>(ff, 'POST', '/api/projects', { repoPath: repo })).id;
}

export async function createWorkspace(ff: FfServer, project: string, name: string): Promise<string> {
  return (await api<{ id: string }>(ff, 'POST', `/api/projects/${project}/workspaces`, { source: 'MANUAL', name })).id;
}

export async function waitForStatus(ff: FfServer, id: string, status: string): Promise<any> {
  for (let i = 0; i < 300; i++) {
    const workspace = await api(ff, 'GET', `/api/workspaces/${id}`);
    if (workspace.status === status) return workspace;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`workspace ${id} never became ${status}`);
}

/** A fresh `ff` per test (its own data and port); the test's `page` is logged in to it. */
export const test = base.extend<{ ff: FfServer; hydrated: (page: import('@playwright/test').Page, url: string) => Promise<void> }>({
  ff: async ({ context }, use) => {
    const server = await startFf();
    await server.login(context);
    await use(server);
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  },
  hydrated: async ({}, use) => {
    await use(async (page, url) => {
      await page.goto(url);
      await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
    });
  },
});
