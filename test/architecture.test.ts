import { readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

const FOUNDATION = ['eventstore', 'infra'] as const;

/**
 * What each part of src may import besides itself. Imports flow one way: api and workers → commands → projections
 * → domain; everything may use eventstore and infra, which import nothing above them. The notification channels
 * are the workers' adapters: they send what the domain describes and know nothing of commands. The process
 * settings (config) and the event catalog sit on the domain; runtime, the operator tooling and the CLI put
 * everything together.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  infra: [],
  eventstore: ['infra'],
  domain: FOUNDATION,
  projections: ['domain', ...FOUNDATION],
  config: ['domain', ...FOUNDATION],
  catalog: ['domain', ...FOUNDATION],
  commands: ['projections', 'domain', 'config', ...FOUNDATION],
  api: ['commands', 'projections', 'domain', 'config', ...FOUNDATION],
  workers: ['workers/channels', 'commands', 'projections', 'domain', 'config', ...FOUNDATION],
  'workers/channels': ['projections', 'domain', 'config', ...FOUNDATION],
  runtime: ['api', 'workers', 'workers/channels', 'commands', 'projections', 'domain', 'config', 'catalog', ...FOUNDATION],
  tooling: ['runtime', 'workers', 'commands', 'projections', 'domain', 'config', 'catalog', ...FOUNDATION],
  cli: ['runtime', 'tooling', 'api', 'workers', 'workers/channels', 'commands', 'projections', 'domain', 'config', 'catalog', ...FOUNDATION],
};

/** The module specifiers a TypeScript source imports or re-exports, statically or dynamically. */
function importsOf(source: string): string[] {
  const statements = /^\s*(?:import|export)\b(?:[^'";]*?\bfrom)?\s*['"]([^'"\n]+)['"]/gm;
  const dynamic = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;
  return [...source.matchAll(statements), ...source.matchAll(dynamic)].map((match) => match[1]!);
}

/** `api` for src/api/routes/alerts.ts, `workers/channels` for src/workers/channels/email.ts, `config` for src/config.ts. */
function partOf(path: string): string {
  const where = relative(SRC, path).split(/[\\/]/).join('/');
  const nested = Object.keys(MAY_IMPORT).find((part) => part.includes('/') && where.startsWith(`${part}/`));
  return nested ?? where.split('/')[0]!.replace(/\.(d\.)?[jt]s$/, '');
}

/** Tests wire whatever they test, so only the code that ships is held to the rule. */
const sources = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
  .map((file) => resolve(SRC, file));

describe('imports flow one way', () => {
  it('reads every way a module names another', () => {
    const source = [
      "import type { A } from './a.js';",
      "import {\n  b,\n  type B,\n} from '../b.js';",
      "import './c.js';",
      "export * from './d.js';",
      "export { e } from './e.js';",
      "export const notAnImport = './f.js';",
      ' * import { g } from "./g.js" (a comment)',
      "const h = await import('./h.js');",
    ].join('\n');
    expect(importsOf(source)).toEqual(['./a.js', '../b.js', './c.js', './d.js', './e.js', './h.js']);
  });

  it('every file of src belongs to a part the rule names', () => {
    const unplaced = sources.filter((file) => !(partOf(file) in MAY_IMPORT)).map((file) => relative(SRC, file));
    expect(unplaced, 'files outside every part: name their part in MAY_IMPORT').toEqual([]);
  });

  it('every import stays within what its part may use', () => {
    const violations = sources.flatMap((file) => {
      const part = partOf(file);
      const allowed = MAY_IMPORT[part] ?? [];
      return importsOf(readFileSync(file, 'utf8'))
        .filter((specifier) => specifier.startsWith('.'))
        .flatMap((specifier) => {
          const target = resolve(dirname(file), specifier);
          const where = relative(SRC, target);
          if (where.startsWith('..')) return [`src/${relative(SRC, file)} imports '${specifier}', outside src`];
          const targetPart = partOf(target);
          if (targetPart === part || allowed.includes(targetPart)) return [];
          const rule = `${part} may import ${[part, ...allowed].join(', ')}`;
          return [`src/${relative(SRC, file)} (${part}) imports '${specifier}' (${targetPart}); ${rule}`];
        });
    });
    expect(violations).toEqual([]);
  });
});
