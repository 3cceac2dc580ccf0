// The real claude-agent-acp (from end2end/node_modules) driven by ff against a fake Anthropic
// Messages API on loopback: nothing leaves the machine.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { readyWorkspace } from './agents';
import { startFakeAnthropic } from './fake-anthropic';
import { api, expect, test } from './ff';

const adapter = resolve(__dirname, '../node_modules/@zed-industries/claude-agent-acp/dist/index.js');

/** Records every state the workspace's card goes through: its column and its reason chip. */
async function recordCard(board: Page) {
  await board.evaluate(() => {
    const w = window as any;
    w.__states = [];
    const note = () => {
      const card = document.querySelector('[data-testid="card"]');
      const state = card ? `${card.closest('[data-column]')?.getAttribute('data-column')} ${card.querySelector('[data-testid="reason"]')?.textContent}` : 'none';
      if (w.__states[w.__states.length - 1] !== state) w.__states.push(state);
    };
    note();
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  return () => board.evaluate(() => (window as any).__states as string[]);
}

test('Claude writes a file after its permission is allowed in the page, and the card follows', async ({ browser, ff, hydrated }) => {
  test.setTimeout(120_000);
  const fake = await startFakeAnthropic();
  const home = mkdtempSync(join(tmpdir(), 'ff-e2e-claude-'));
  mkdirSync(join(home, '.claude'));
  await api(ff, 'PATCH', '/api/settings', {
    agentServers: {
      claude: {
        command: process.execPath,
        args: [adapter],
        env: {
          ANTHROPIC_BASE_URL: fake.url,
          ANTHROPIC_API_KEY: 'sk-ant-fake',
          HOME: home,
          CLAUDE_CONFIG_DIR: join(home, '.claude'),
          CLAUDE_CODE_MAX_RETRIES: '1',
          DISABLE_TELEMETRY: '1',
          DISABLE_AUTOUPDATER: '1',
          DISABLE_ERROR_REPORTING: '1',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          // Set in some containers; with it Claude Code run as root fails at session/new.
          IS_SANDBOX: '',
        },
      },
    },
    defaultAgent: 'claude',
  });
  const { project, workspace } = await readyWorkspace(ff, 'Claude edits');
  const readme = join(workspace.worktreePath, 'README.md');
  // A tracked file, so that the change counts in +N: Claude reads it before it may write it.
  fake.script(
    { tool: 'Read', input: { file_path: readme } },
    { tool: 'Write', input: { file_path: readme, content: 'hello\nfrom claude\nthrough ff\n' } },
    { text: ['I updated ', 'the README', '.'], delayMs: 500 },
  );

  const [chat, board] = [await ff.newPage(browser), await ff.newPage(browser)];
  await hydrated(board, `${ff.url}/projects/${project}`);
  await hydrated(chat, `${ff.url}/workspaces/${workspace.id}`);
  await chat.getByTestId('new-session').click();
  await expect(chat.getByTestId('new-session-agent')).toContainText('claude (default)');
  await chat.getByTestId('new-session-submit').click();
  await expect(chat.getByTestId('session-tab')).toHaveCount(1);
  const states = await recordCard(board);

  await chat.getByTestId('composer').fill('Add two lines to the README');
  await chat.getByTestId('composer').press('Enter');
  const request = chat.getByTestId('permission-card');
  await expect(request).toBeVisible({ timeout: 60_000 });
  await expect(request).toContainText('README.md');
  await expect(board.locator('[data-column="WAITING"] [data-testid="card"]')).toContainText('Needs permission');
  await expect(board.getByTestId('card').getByTestId('reason')).toHaveText('Needs permission');
  await request.locator('[data-option="allow"]').click();

  await expect(chat.locator('[data-kind="agent"]').last()).toHaveText('I updated the README.', { timeout: 30_000 });
  await expect(chat.locator('[data-kind="stop"]')).toHaveText('Turn ended');
  await expect(chat.locator('[data-kind="permission"] [data-testid="permission-outcome"]')).toContainText('by you');
  expect(readFileSync(readme, 'utf8')).toBe('hello\nfrom claude\nthrough ff\n');
  await expect(board.locator('[data-column="WAITING"] [data-testid="card"]')).toContainText('Ready for next prompt');
  await expect(board.getByTestId('card').getByTestId('diffstat')).toContainText('+2', { timeout: 20_000 });

  const seen = await states();
  const expected = ['WORKING Agent working', 'WAITING Needs permission', 'WORKING Agent working', 'WAITING Ready for next prompt'];
  let at = 0;
  for (const state of seen) if (state === expected[at]) at += 1;
  expect(at, `the card went through ${JSON.stringify(seen)}`).toBe(expected.length);
  expect(fake.modelRequests().length).toBe(3);
  await fake.stop();
});
