// "Open in editor" (issue 18 §2): the workspace header links the worktree in the chosen editor's
// URL scheme (never clicked: no editor runs in CI), for each URL-scheme editor setting.
import { addProject, api, createWorkspace, expect, makeRepo, test, waitForStatus } from './ff';

test('the header links the worktree in the chosen editor', async ({ page, ff, hydrated }) => {
  const project = await addProject(ff, makeRepo());
  const id = await createWorkspace(ff, project, 'Editor link');
  const workspace = await waitForStatus(ff, id, 'READY');
  const worktree: string = workspace.worktreePath;
  const encoded = worktree.split('/').map(encodeURIComponent).join('/');

  for (const [editor, scheme] of [['vscode', 'vscode'], ['cursor', 'cursor'], ['zed', 'zed']]) {
    await api(ff, 'PATCH', '/api/settings', { editor: { editor } });
    await hydrated(page, `${ff.url}/workspaces/${id}`);
    const link = page.locator('.workspace-head').getByTestId('open-in-editor');
    await expect(link).toHaveAttribute('href', `${scheme}://file${encoded}`);
  }
});
