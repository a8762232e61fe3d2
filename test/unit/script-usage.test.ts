import * as fs from 'fs';
import * as path from 'path';
import { headerDoc, unknownOptions } from '../../scripts/usage';

const root = path.resolve(__dirname, '..', '..');

describe('script usage', () => {
  it('takes the help text from the header comment', () => {
    const src = "#!/usr/bin/env node\n/**\n * `npm run x`: does x.\n *\n *   npm run x -- --n 3\n */\nimport * as fs from 'fs';\n/** not this */\n";
    expect(headerDoc(src)).toBe('`npm run x`: does x.\n\n  npm run x -- --n 3');
    expect(headerDoc('const a = 1;')).toBe('');
  });

  it('finds options it does not know, with or without =, up to a lone --', () => {
    expect(unknownOptions(['--n', '3', '--quick', 'dir'], ['n', 'quick'])).toEqual([]);
    expect(unknownOptions(['--n=3', '--qiuck', '--', '--later'], ['n', 'quick'])).toEqual(['--qiuck']);
    expect(unknownOptions(['-h', 'x'], [])).toEqual([]);
  });

  // Every repo script and benchmark that reads options answers --help and refuses typos,
  // instead of silently running a long default.
  it('every script and benchmark that reads argv calls handleUsage', () => {
    const files = ['scripts', 'bench'].flatMap((d) =>
      fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith('.ts')).map((f) => path.join(d, f)),
    );
    const readers = files.filter((f) => f !== path.join('scripts', 'usage.ts') && /process\.argv/.test(fs.readFileSync(path.join(root, f), 'utf8')));
    expect(readers.length).toBeGreaterThanOrEqual(10);
    for (const f of readers) expect([f, /handleUsage\(__filename/.test(fs.readFileSync(path.join(root, f), 'utf8'))]).toEqual([f, true]);
  });
});
