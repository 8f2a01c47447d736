import { readFileSync } from 'node:fs';

// `tsx bench/profile-summary.ts FILE.cpuprofile [N]`: where a V8 CPU profile
// (from `npm run bench -- --cpu-prof`) spent its time, by function and by
// package or source file, self time only.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, callersOf] = process.argv.slice(2);
if (!file) throw new Error('usage: tsx bench/profile-summary.ts FILE.cpuprofile [N] [FUNCTION whose callers to show]');
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

function where(url: string): string {
  if (url === '') return '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] as string);
  }
  const source = url.indexOf('/src/');
  return source === -1 ? url.replace(/^.*\//, '') : url.slice(source + 1);
}

const byFunction = new Map<string, number>();
const byPlace = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const place = where(url);
  total += us;
  const fn = `${functionName || '(anonymous)'} ${place}${url ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  byPlace.set(place, (byPlace.get(place) ?? 0) + us);
}

function print(title: string, entries: Map<string, number>): void {
  console.log(`\n${title}`);
  for (const [name, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  }
}

// Inclusive time: a function's own samples and those of everything it called.
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const nameOf = (node: ProfileNode): string =>
  `${node.callFrame.functionName || '(anonymous)'} ${where(node.callFrame.url)}${node.callFrame.url ? `:${node.callFrame.lineNumber + 1}` : ''}`;
const inclusive = new Map<string, number>();
const callers = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  const leaf = byId.get(id);
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const node = byId.get(at);
    if (!node) break;
    const name = nameOf(node);
    if (!seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    seen.add(name);
  }
  if (callersOf && leaf && nameOf(leaf).startsWith(callersOf)) {
    const chain: string[] = [];
    for (let at = parentOf.get(id); at !== undefined && chain.length < 8; at = parentOf.get(at)) {
      const node = byId.get(at);
      if (node && node.callFrame.url !== '' && !node.callFrame.url.startsWith('node:')) chain.push(nameOf(node));
    }
    const key = chain.slice(0, 4).join(' < ');
    callers.set(key, (callers.get(key) ?? 0) + us);
  }
}

console.log(`${(total / 1000).toFixed(0)} ms sampled over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s`);
print('By package or source file (self time):', byPlace);
print('By function (self time):', byFunction);
print('By function (inclusive time):', inclusive);
if (callersOf) print(`Callers of ${callersOf}:`, callers);
