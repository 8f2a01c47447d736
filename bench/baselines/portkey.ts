import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childOf, type Child } from '../children.js';

// Portkey's AI gateway as a peer baseline: an OpenAI-compatible TypeScript
// gateway with no key store and no billing. It is not a dependency of the
// product: the bench installs it into a cache outside the repository the
// first time, and runs it in its own process like the gateway and the proxy.

export const PORTKEY_VERSION = '1.15.2';
/**
 * Portkey's own range for @hono/node-server (^1.3.3) resolves to 1.19.x
 * today, where every streaming request fails with HTTP 500 ("TypeError:
 * immutable" when Portkey edits the upstream response's headers); 1.13.8
 * works. Non-streaming requests work either way, so check the version
 * rather than trust a smoke test.
 */
const HONO_NODE_SERVER = '1.13.8';

export const portkeyDir = join(process.env.TOKENHUB_CACHE ?? join(homedir(), '.cache', 'tokenhub'), `portkey-${PORTKEY_VERSION}`);
const entry = join(portkeyDir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
const preload = fileURLToPath(new URL('./loopback-preload.mjs', import.meta.url));

const manifest = {
  private: true,
  description: 'Portkey AI gateway for the TokenHub benchmark (npm run bench); not part of the product.',
  dependencies: { '@portkey-ai/gateway': PORTKEY_VERSION },
  overrides: { '@hono/node-server': HONO_NODE_SERVER },
};

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The versions of every installed copy of `name` under `root`, nested ones included. */
function installedVersions(root: string, name: string, depth = 0): string[] {
  const modules = join(root, 'node_modules');
  if (depth > 6 || !existsSync(modules)) return [];
  const here = readJson(join(modules, name, 'package.json'));
  const versions = here ? [String(here.version)] : [];
  for (const entryName of readdirSync(modules)) {
    if (entryName.startsWith('.')) continue;
    const packages = entryName.startsWith('@') ? readdirSync(join(modules, entryName)).map((n) => join(modules, entryName, n)) : [join(modules, entryName)];
    for (const dir of packages) versions.push(...installedVersions(dir, name, depth + 1));
  }
  return versions;
}

export interface PortkeyInstall {
  dir: string;
  gateway: string;
  honoNodeServer: string;
  /** Resolved, not pinned by the override: recorded so that drift shows in the results. */
  hono: string[];
}

/** What is wrong with the install, or nothing. */
function problemsOf(): string[] {
  const problems: string[] = [];
  const current = readJson(join(portkeyDir, 'package.json')) as { dependencies?: Record<string, string>; overrides?: Record<string, string> } | undefined;
  if (current?.dependencies?.['@portkey-ai/gateway'] !== PORTKEY_VERSION) problems.push(`package.json does not ask for @portkey-ai/gateway ${PORTKEY_VERSION}`);
  if (current?.overrides?.['@hono/node-server'] !== HONO_NODE_SERVER) problems.push(`package.json lacks the override @hono/node-server = ${HONO_NODE_SERVER}`);
  const gateways = installedVersions(portkeyDir, '@portkey-ai/gateway');
  if (gateways.length !== 1 || gateways[0] !== PORTKEY_VERSION) problems.push(`@portkey-ai/gateway installed: ${gateways.join(', ') || 'none'}`);
  const servers = installedVersions(portkeyDir, '@hono/node-server');
  if (servers.length === 0 || servers.some((v) => v !== HONO_NODE_SERVER)) problems.push(`@hono/node-server installed: ${servers.join(', ') || 'none'} (every Portkey stream breaks unless it is ${HONO_NODE_SERVER})`);
  if (!existsSync(entry)) problems.push(`no ${entry}`);
  return problems;
}

/**
 * Installs Portkey into the cache unless it is there already, with the
 * right versions and the override; checks the installed packages' own
 * package.json files (not a lockfile or a marker), so that a half-finished
 * install is redone. Throws if the install does not end up right.
 */
export function ensurePortkey(log: (message: string) => void): PortkeyInstall {
  let problems = problemsOf();
  if (problems.length > 0) {
    log(`installing Portkey ${PORTKEY_VERSION} into ${portkeyDir} (${problems.join('; ')})`);
    mkdirSync(portkeyDir, { recursive: true });
    writeFileSync(join(portkeyDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      // npm's output goes to stderr: stdout carries the report.
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: portkeyDir, stdio: ['ignore', 2, 2] });
    } catch (error) {
      throw new Error(`could not install Portkey ${PORTKEY_VERSION} into ${portkeyDir} (${error instanceof Error ? error.message : String(error)}); without the npm registry, run the bench with --no-portkey`);
    }
    problems = problemsOf();
    if (problems.length > 0) throw new Error(`Portkey in ${portkeyDir} is not as the bench needs it after npm install: ${problems.join('; ')}`);
  }
  return {
    dir: portkeyDir,
    gateway: PORTKEY_VERSION,
    honoNodeServer: HONO_NODE_SERVER,
    hono: installedVersions(portkeyDir, 'hono'),
  };
}

export interface RunningPortkey {
  child: Child;
  /** Its OpenAI base URL, …/v1. */
  baseUrl: string;
}

/**
 * Starts Portkey on a free loopback port and resolves once it answers. It
 * has no host option (it listens on every interface) and takes its port
 * only from `--port=`, so it runs on port 0 under the loopback preload,
 * which binds it to 127.0.0.1 and says which port it got. `--headless`
 * turns off its web UI and log stream. Its environment is built from
 * nothing, so no proxy, Redis or custom-host allow-list of ours leaks in
 * (TRUSTED_CUSTOM_HOSTS would replace the default list that allows a
 * loopback upstream). It has no signal handler: SIGTERM ends it at once.
 */
export async function startPortkey(log: (message: string) => void, timeoutMs = 20_000): Promise<RunningPortkey> {
  const child = spawn(process.execPath, ['--import', pathToFileURL(preload).href, entry, '--port=0', '--headless'], {
    cwd: portkeyDir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' },
    // Not inherited: on start it clears the terminal and draws a spinner.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const handle = childOf(child);
  let stderr = '';
  let forwarded = 0;
  let port: number | undefined;
  const stream = child.stderr;
  if (!stream) throw new Error('Portkey has no stderr');
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    if (port === undefined) {
      stderr += text;
      const match = /^bench-listening \S+ (\d+)$/m.exec(stderr);
      if (match) port = Number(match[1]);
      return;
    }
    // Later it writes only errors (a failed request): show a few.
    for (const line of text.split('\n').filter(Boolean)) {
      if (forwarded < 20) log(`[portkey] ${line}`);
      else if (forwarded === 20) log('[portkey] … (further output not shown)');
      forwarded += 1;
    }
  });
  const deadline = Date.now() + timeoutMs;
  while (port === undefined) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Portkey exited (${child.exitCode ?? child.signalCode}) while starting: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`Portkey did not listen within ${timeoutMs} ms: ${stderr.trim()}`);
    }
    await sleep(20);
  }
  const origin = `http://127.0.0.1:${port}`;
  // Ready when GET / answers 200 "AI Gateway says hey!".
  for (;;) {
    const ready = await fetch(`${origin}/`).then(
      async (r) => r.ok && (await r.text()).includes('AI Gateway'),
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await handle.stop();
      throw new Error(`Portkey did not answer GET / within ${timeoutMs} ms: ${stderr.trim()}`);
    }
    await sleep(50);
  }
  return { child: handle, baseUrl: `${origin}/v1` };
}
