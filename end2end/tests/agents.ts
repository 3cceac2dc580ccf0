// Agents for the tests: ff's scripted ACP agent (a bin of ff-server, built beside `ff` by
// scripts/build.sh) configured as an agent server through the settings API.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { addProject, api, createWorkspace, makeRepo, waitForStatus, type FfServer } from './ff';

// Absolute: an agent server's command is an absolute path or a program on PATH (FF_BIN may be
// relative, as scripts/bench.sh gives it).
const binary = resolve(process.env.FF_BIN ?? resolve(__dirname, '../../target/debug/ff'));
export const scriptedAgentBinary = join(dirname(binary), 'ff-scripted-agent');

export type ScriptedAgent = { dir: string; events: (name?: string) => any[] };

/** Installs the scripted agent playing `script` (see its script.rs) as ff's default agent. */
export async function useScriptedAgent(ff: FfServer, script: unknown, name = 'scripted'): Promise<ScriptedAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-e2e-agent-'));
  writeFileSync(join(dir, 'script.json'), JSON.stringify(script));
  await api(ff, 'PATCH', '/api/settings', {
    agentServers: {
      [name]: {
        command: scriptedAgentBinary,
        env: {
          FF_SCRIPTED_AGENT_SCRIPT: join(dir, 'script.json'),
          FF_SCRIPTED_AGENT_LOG: join(dir, 'log.jsonl'),
          FF_SCRIPTED_AGENT_STATE: join(dir, 'state'),
        },
      },
    },
    defaultAgent: name,
  });
  const events = (event?: string) => {
    let text = '';
    try {
      text = readFileSync(join(dir, 'log.jsonl'), 'utf8');
    } catch {}
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((e) => event === undefined || e.event === event);
  };
  return { dir, events };
}

/** A READY workspace of a fresh repository, and its project. */
export async function readyWorkspace(ff: FfServer, name: string): Promise<{ project: string; workspace: any }> {
  const project = await addProject(ff, makeRepo());
  const id = await createWorkspace(ff, project, name);
  return { project, workspace: await waitForStatus(ff, id, 'READY') };
}

/** A session of the workspace with the default agent. */
export async function newSession(ff: FfServer, workspace: string): Promise<string> {
  return (await api<{ id: string }>(ff, 'POST', `/api/workspaces/${workspace}/sessions`, {})).id;
}
