// vitest globalSetup (runs once, in the vitest main process, before any test file). Tests spawn a
// few hundred node processes; through tsx each paid ~0.5 s more CPU to start (and again per worker
// thread) on the 2-core CI machine, so child processes run compiled JavaScript:
// - the `rill` command from dist/, built by `npm ci`/`npm install` (the `prepare` script) and
//   rebuilt here when any src/ file is newer than its output, so a stale dist is never tested;
// - the child-process fixtures (tsconfig.fixtures.json: the fixture scripts and what they import)
//   into node_modules/.cache/rill-fixtures, rebuilt when any src/ or test/ file is newer than the
//   last build.
// Both builds are incremental (a full one took ~25 s on 2 cores); when nothing changed this costs
// a walk of the source directories.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledFixturesDir } from './integration/fixtures/child.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const srcDir = join(repoRoot, 'src');
const distDir = join(repoRoot, 'dist');
const FIXTURES_OUT = compiledFixturesDir;
const fixturesStamp = join(FIXTURES_OUT, '.built');

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

const mtime = (path: string) => statSync(path).mtimeMs;
const distOutputOf = (source: string) => join(distDir, relative(srcDir, source)).replace(/\.ts$/, '.js');

/** Sources whose compiled file in dist/ is missing or older than they are. */
function staleDistSources(): string[] {
  return [...sourceFiles(srcDir)].filter((source) => {
    const output = distOutputOf(source);
    return !existsSync(output) || mtime(output) < mtime(source);
  });
}

function tsc(project: string, extra: string[] = []): void {
  const bin = join(repoRoot, 'node_modules/typescript/bin/tsc');
  const build = spawnSync(process.execPath, [bin, '-p', project, ...extra], { cwd: repoRoot, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`tsc -p ${project} failed:\n${build.stdout}${build.stderr}`);
}

function buildDist(): void {
  if (staleDistSources().length === 0) return;
  tsc('tsconfig.build.json', ['--incremental', '--tsBuildInfoFile', 'node_modules/.cache/rill-dist.tsbuildinfo']);
  // An incremental build skips a file whose content did not change (a touched or re-checked-out
  // source): its output is current, so mark it so and the next run does not rebuild again.
  const now = new Date();
  for (const source of staleDistSources()) {
    if (!existsSync(distOutputOf(source))) throw new Error(`tsc did not write ${relative(repoRoot, distOutputOf(source))}`);
    utimesSync(distOutputOf(source), now, now);
  }
}

function buildFixtures(): void {
  const built = existsSync(fixturesStamp) ? mtime(fixturesStamp) : -1;
  const sources = [...sourceFiles(srcDir), ...sourceFiles(join(repoRoot, 'test'))];
  if (sources.every((source) => mtime(source) < built)) return;
  const startedAt = new Date();
  tsc('tsconfig.fixtures.json');
  // The output lies under node_modules, outside the package's "type": "module" scope, and its
  // src/native/index.js finds the addon at ../../native: give it both.
  mkdirSync(FIXTURES_OUT, { recursive: true });
  writeFileSync(join(FIXTURES_OUT, 'package.json'), '{ "type": "module" }\n');
  if (!existsSync(join(FIXTURES_OUT, 'native'))) symlinkSync(join(repoRoot, 'native'), join(FIXTURES_OUT, 'native'));
  writeFileSync(fixturesStamp, '');
  utimesSync(fixturesStamp, startedAt, startedAt);
}

export default function setup(): void {
  buildDist();
  buildFixtures();
}
