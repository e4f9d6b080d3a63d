// Fails when the modules under src/ import each other in a cycle. Every
// import counts, `import type` and re-exports too: a cycle of types still ties
// modules together, and a cycle of values decides what is undefined at load
// time. The one exception is src/generated/: codegen's resolver types import
// the Context type (codegen.ts's contextType) by design, and nothing there is
// ours to arrange. `npm run check:cycles`; in .ci/run.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const excluded = join(src, 'generated');

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (path === excluded) continue;
    if (statSync(path).isDirectory()) yield* files(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

/** Relative imports of one file, as paths of .ts files under src/ (NodeNext: `./x.js` is `./x.ts`). */
function importsOf(file) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')))
    .filter((path) => path.startsWith(src + '/') && !path.startsWith(excluded + '/'));
}

const graph = new Map([...files(src)].map((file) => [file, importsOf(file)]));

// Tarjan's strongly connected components: every component of more than one module is a cycle.
let index = 0;
const stack = [];
const state = new Map();
const cycles = [];
function visit(node) {
  state.set(node, { index, low: index, onStack: true });
  index++;
  stack.push(node);
  for (const next of graph.get(node) ?? []) {
    if (!graph.has(next)) continue;
    if (!state.has(next)) {
      visit(next);
      state.get(node).low = Math.min(state.get(node).low, state.get(next).low);
    } else if (state.get(next).onStack) {
      state.get(node).low = Math.min(state.get(node).low, state.get(next).index);
    }
  }
  const own = state.get(node);
  if (own.low !== own.index) return;
  const component = [];
  let member;
  do {
    member = stack.pop();
    state.get(member).onStack = false;
    component.push(member);
  } while (member !== node);
  if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component);
}
for (const node of graph.keys()) if (!state.has(node)) visit(node);

if (cycles.length > 0) {
  console.error(`Import cycles under src/ (${cycles.length}); move a type or a function to the module that owns it:`);
  for (const cycle of cycles)
    console.error(
      `  ${cycle
        .map((f) => relative(root, f))
        .sort()
        .join(' <-> ')}`,
    );
  process.exit(1);
}
console.log(`no import cycles among ${graph.size} modules under src/`);
