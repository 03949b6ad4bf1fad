// Builds the nestjs-taskqueue under test into a private folder (node_modules/.cache), so a
// bench run neither depends on nor disturbs dist/, which others rebuild while they work.
//   worktree  lib/ as it is now (default)
//   head      lib/ as committed at HEAD
//   dist      the existing dist/ as it is
//   <folder>  an already built copy (e.g. a patched one, for an A/B experiment); it must lie
//             inside this repository so that its imports resolve from node_modules/
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(REPO, 'node_modules', '.cache', 'nestjs-taskqueue-bench');

function git(args) {
  const r = spawnSync('git', args, { cwd: REPO, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

export function buildLib(source) {
  const sha = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  if (source === 'dist') {
    const entry = join(REPO, 'dist', 'index.js');
    if (!existsSync(entry)) throw new Error('dist/index.js is missing: run `npm run build` or use --lib-source=worktree');
    return { entry: pathToFileURL(entry).href, label: `dist/ (built from ${sha}${dirty() ? ' + uncommitted changes' : ''})` };
  }
  if (source.includes('/')) {
    const entry = join(resolve(source), 'index.js');
    if (!existsSync(entry)) throw new Error(`--lib-source=${source}: no index.js there`);
    return { entry: pathToFileURL(entry).href, label: `build in ${relative(REPO, resolve(source))}` };
  }
  let srcLib = join(REPO, 'lib');
  let label = `worktree at ${sha}${dirty() ? ' + uncommitted changes in lib/' : ''}`;
  if (source === 'head') {
    const srcRoot = join(CACHE, 'src-head');
    rmSync(srcRoot, { recursive: true, force: true });
    mkdirSync(srcRoot, { recursive: true });
    const r = spawnSync('sh', ['-c', `git archive HEAD lib | tar -x -C "${srcRoot}"`], { cwd: REPO, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git archive HEAD lib failed: ${r.stderr}`);
    srcLib = join(srcRoot, 'lib');
    label = `HEAD ${sha}`;
  } else if (source !== 'worktree') {
    throw new Error(`--lib-source must be worktree, head, dist or a folder with a build, got ${source}`);
  }
  const out = join(CACHE, `dist-${source}`);
  rmSync(out, { recursive: true, force: true });
  const tsconfig = join(CACHE, `tsconfig.${source}.json`);
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(REPO, 'tsconfig.json'),
      compilerOptions: { rootDir: srcLib, outDir: out, declaration: false, sourceMap: false, incremental: false },
      include: [srcLib],
    }),
  );
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: REPO, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) {
    throw new Error(`Building nestjs-taskqueue (${label}) failed:\n${(r.stdout + r.stderr).slice(-3000)}\n` +
      'Use --lib-source=head to bench the committed lib/, or --lib-source=dist.');
  }
  copyAssets(srcLib, out); // Lua scripts, worker-thread .mjs files: everything tsc does not emit
  return { entry: pathToFileURL(join(out, 'index.js')).href, label };
}

function dirty() {
  return git(['status', '--porcelain', '--', 'lib']) !== '';
}

function copyAssets(from, to) {
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    if (statSync(src).isDirectory()) copyAssets(src, join(to, name));
    else if (!name.endsWith('.ts')) {
      const dest = join(to, relative(from, src));
      mkdirSync(dirname(dest), { recursive: true });
      cpSync(src, dest);
    }
  }
}
