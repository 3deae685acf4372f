// vitest globalSetup (runs once, in the vitest main process, before any test file): integration
// tests run the compiled `rill` command from dist/ (test/integration/fixtures/child.ts), so dist
// must be the compiled form of the src/ under test. `npm ci` and `npm install` build it (the
// `prepare` script); this rebuilds it when any source file is newer than its output or has none,
// so a stale dist can never be tested silently. An up-to-date dist costs one directory walk. The
// rebuild is incremental (its build info in node_modules/.cache): a full one took ~25 s on 2 cores.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const srcDir = join(repoRoot, 'src');
const distDir = join(repoRoot, 'dist');

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

const outputOf = (source: string) => join(distDir, relative(srcDir, source)).replace(/\.ts$/, '.js');

/** Sources whose compiled file is missing or older than they are. */
function staleSources(): string[] {
  return [...sourceFiles(srcDir)].filter((source) => {
    const output = outputOf(source);
    return !existsSync(output) || statSync(output).mtimeMs < statSync(source).mtimeMs;
  });
}

export default function setup(): void {
  const stale = staleSources();
  if (stale.length === 0) return;
  const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
  const args = [tsc, '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', 'node_modules/.cache/rill-dist.tsbuildinfo'];
  const build = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`dist/ is older than ${relative(repoRoot, stale[0])} and rebuilding it failed:\n${build.stdout}${build.stderr}`);
  // An incremental build skips a file whose content did not change (a touched or re-checked-out
  // source): its output is current, so mark it so and the next run does not rebuild again.
  for (const source of staleSources()) {
    if (!existsSync(outputOf(source))) throw new Error(`tsc did not write ${relative(repoRoot, outputOf(source))}`);
    const now = new Date();
    utimesSync(outputOf(source), now, now);
  }
}
