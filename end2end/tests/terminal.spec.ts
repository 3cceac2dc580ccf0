// The workspace's terminal in Chromium: xterm.js bundled with the app, a real shell on a PTY in
// the worktree; the scrollback survives a reload. At a wide and at a phone viewport.
import { mkdirSync } from 'node:fs';
import type { Page, TestInfo } from '@playwright/test';
import { addProject, api, createWorkspace, expect, makeRepo, test, waitForStatus } from './ff';

/** The screen's text, its rows joined (a narrow screen wraps the path over several). */
async function screenText(page: Page): Promise<string> {
  return (await page.locator('.xterm-rows > div').allTextContents()).map((row) => row.trimEnd()).join('');
}

async function screenshot(page: Page, info: TestInfo, name: string) {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  mkdirSync('artifacts', { recursive: true });
  await page.screenshot({ path: `artifacts/${name}.png`, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
}

for (const [label, viewport] of [
  ['wide', { width: 1440, height: 900 }],
  ['phone', { width: 390, height: 844 }],
] as const) {
  test(`typing echo $PWD prints the worktree and a reload keeps the scrollback (${label})`, async ({ page, ff, hydrated }, info) => {
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await page.setViewportSize(viewport);
    const project = await addProject(ff, makeRepo());
    const id = await createWorkspace(ff, project, `Shell ${label}`);
    const ready = await waitForStatus(ff, id, 'READY');
    const worktree: string = ready.worktreePath;

    // The Terminal tab of the workspace panel (a sheet over the chat on a phone).
    await hydrated(page, `${ff.url}/workspaces/${id}?tab=terminal`);
    const panel = page.getByTestId('terminal');
    await expect(panel.getByTestId('terminal-message')).toContainText('No terminal is open');
    await panel.getByTestId('terminal-new').click();
    const rows = panel.locator('.xterm-rows');
    // The shell's prompt, whatever it looks like.
    await expect(rows).toHaveText(/\S/, { timeout: 15_000 });
    await panel.getByTestId('terminal-screen').click();
    await page.keyboard.type('echo $PWD');
    await page.keyboard.press('Enter');
    // The path right after the typed command: the shell's output (the prompt holds it too).
    await expect.poll(() => screenText(page)).toContain(`echo $PWD${worktree}`);
    const [terminal] = await api(ff, 'GET', `/api/workspaces/${id}/terminals`);
    expect(terminal.workspaceId).toBe(id);
    await screenshot(page, info, `terminal-${label}`);

    await page.reload();
    await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
    await expect.poll(() => screenText(page), { timeout: 15_000 }).toContain(`echo $PWD${worktree}`);
    await expect(page.getByTestId('terminal-close')).toBeEnabled();
    await page.getByTestId('terminal-close').click();
    await expect(page.getByTestId('terminal-message')).toContainText('The terminal ended');
    expect(await api(ff, 'GET', `/api/workspaces/${id}/terminals`)).toEqual([]);
    expect(problems).toEqual([]);
  });
}
