/**
 * Hot spots of a V8 CPU profile (`node --cpu-prof …`) in Weft's own code. Each sample is charged
 * to the innermost frame that has a source file, so time in V8 builtins a function calls
 * (Object.entries, Map.get, spreads, `new URL`) counts as that function's; GC samples are shown
 * apart. Prints the top functions under packages/ with their hottest lines, as file:line.
 *
 * With `requests` (the record's `requestsSent` of the profiled run) it also gives µs/request per
 * part of the stack: Weft, undici, Node internals, the benchmark, GC.
 *
 * Run: node bench/support/profile-hot-spots.ts <file.cpuprofile> [top=15] [requests]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
  readonly positionTicks?: readonly { readonly line: number; readonly ticks: number }[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

const [file, topArgument, requestsArgument] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: profile-hot-spots.ts <file.cpuprofile> [top]');
const top = Number(topArgument ?? 15);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

function where(node: ProfileNode): string {
  const url = node.callFrame.url;
  const path = url.startsWith('file://') ? relative(repoRoot, fileURLToPath(url)) : url;
  return `${path}:${node.callFrame.lineNumber + 1}`;
}

/** The innermost frame with a source file at or above `id`; undefined for GC, idle and program. */
function chargedFrame(id: number): ProfileNode | undefined {
  let node = byId.get(id);
  while (node !== undefined && node.callFrame.url === '') {
    const parent = parentOf.get(node.id);
    node = parent === undefined ? undefined : byId.get(parent);
  }
  return node;
}

const samplesPerNode = new Map<number, number>();
for (const id of profile.samples) samplesPerNode.set(id, (samplesPerNode.get(id) ?? 0) + 1);

interface Spot {
  readonly name: string;
  readonly where: string;
  samples: number;
  readonly lines: Map<number, number>;
}
const spots = new Map<string, Spot>();
let total = 0;
let idle = 0;
let gc = 0;
let weft = 0;
const parts = new Map<string, number>();
function partOf(where: string): string {
  if (where.startsWith('packages/')) return 'weft';
  if (where.includes('node_modules/undici/')) return 'undici';
  if (where.startsWith('node:')) return 'node';
  if (where.startsWith('bench/')) return 'bench';
  return 'other';
}
for (const [id, count] of samplesPerNode) {
  const leaf = byId.get(id);
  const name = leaf?.callFrame.functionName;
  if (name === '(idle)') {
    idle += count;
    continue;
  }
  total += count;
  if (name === '(garbage collector)') gc += count;
  const frame = chargedFrame(id);
  const part = name === '(garbage collector)' ? 'gc' : frame === undefined ? 'other' : partOf(where(frame));
  parts.set(part, (parts.get(part) ?? 0) + count);
  if (frame === undefined) continue;
  const key = where(frame);
  let spot = spots.get(key);
  if (spot === undefined) {
    spot = { name: frame.callFrame.functionName || '(anonymous)', where: key, samples: 0, lines: new Map() };
    spots.set(key, spot);
  }
  spot.samples += count;
  if (key.startsWith('packages/')) weft += count;
  // Line-level ticks are recorded on the frame's own node when the leaf is that frame.
  if (frame === leaf)
    for (const tick of leaf.positionTicks ?? [])
      spot.lines.set(tick.line, (spot.lines.get(tick.line) ?? 0) + tick.ticks);
}

const percent = (n: number) => `${((100 * n) / total).toFixed(1)}%`;
console.log(
  `busy samples ${total} (idle ${idle} left out); GC ${percent(gc)}; Weft code (self + builtins it calls) ${percent(weft)}`,
);
if (requestsArgument !== undefined) {
  const samplingUs = (profile.endTime - profile.startTime) / profile.samples.length;
  const perRequest = (n: number) => ((n * samplingUs) / Number(requestsArgument)).toFixed(2);
  console.log(
    `main-thread µs/request: total ${perRequest(total)}; ${[...parts]
      .sort((a, b) => b[1] - a[1])
      .map(([part, n]) => `${part} ${perRequest(n)}`)
      .join(', ')}`,
  );
}
const ranked = [...spots.values()].filter((spot) => spot.where.startsWith('packages/'));
ranked.sort((a, b) => b.samples - a.samples);
for (const spot of ranked.slice(0, top)) {
  const lines = [...spot.lines]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([line, ticks]) => `:${line} ×${ticks}`)
    .join(' ');
  console.log(`${percent(spot.samples).padStart(6)}  ${spot.name}  ${spot.where}  ${lines}`);
}
