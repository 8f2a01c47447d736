import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// Claude Code itself, as a user runs it against the gateway. Its native
// binary ships inside an npm package of about 370 MB, so it is not a
// dependency of the project (npm ci stays small): the pinned version is
// installed once into a cache outside the repository, and reused.

export const CLAUDE_CODE_VERSION = '2.1.328';
const cacheDir = join(homedir(), '.cache', 'tokenhub', `claude-code-${CLAUDE_CODE_VERSION}`);
const run = promisify(execFile);

async function versionOf(executable: string): Promise<string | undefined> {
  if (!existsSync(executable)) return undefined;
  try {
    return (await run(executable, ['--version'], { timeout: 30_000 })).stdout;
  } catch {
    return undefined;
  }
}

// The npm launcher is hard-linked to the native binary by a postinstall
// script; where install scripts did not run, the platform package's binary
// is the same program.
const candidates = () => [join(cacheDir, 'node_modules', '.bin', 'claude'), join(cacheDir, 'node_modules', '@anthropic-ai', `claude-code-${process.platform}-${process.arch}`, 'claude')];

async function installed(): Promise<string | undefined> {
  for (const executable of candidates()) if ((await versionOf(executable))?.includes(CLAUDE_CODE_VERSION)) return executable;
  return undefined;
}

/** The `claude` executable of the pinned version, installed into the cache unless it is there already. */
export async function installClaudeCode(): Promise<string> {
  const found = await installed();
  if (found) return found;
  await run('npm', ['install', '--prefix', cacheDir, '--no-save', '--no-audit', '--no-fund', `@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}`], { timeout: 600_000 });
  const executable = await installed();
  if (!executable) throw new Error(`Claude Code ${CLAUDE_CODE_VERSION} did not install into ${cacheDir}`);
  return executable;
}

export interface ClaudeCodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `claude` with only the environment a user would set for the gateway
 * (STACK.md), a fresh HOME, working directory and TMPDIR (Claude Code keeps
 * files per project under the temp directory; these go with the run),
 * bounded by `timeoutMs`.
 */
export async function runClaudeCode(executable: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<ClaudeCodeRun> {
  const home = mkdtempSync(join(tmpdir(), 'claude-home-'));
  const cwd = mkdtempSync(join(tmpdir(), 'claude-work-'));
  const started = Date.now();
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(executable, args, {
        cwd,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          TMPDIR: home,
          TERM: 'dumb',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          DISABLE_AUTOUPDATER: '1',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (part: Buffer) => (stdout += part.toString()));
      child.stderr.on('data', (part: Buffer) => (stderr += part.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      });
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
}
