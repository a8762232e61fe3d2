import * as fs from 'fs';
import * as path from 'path';
import { cliMarkdown } from '../../scripts/gen-cli-docs';

describe('docs/cli.md', () => {
  it('documents every command and option as the code declares them (npm run docs:cli)', () => {
    const file = path.join(__dirname, '..', '..', 'docs', 'cli.md');
    expect(fs.readFileSync(file, 'utf8')).toBe(cliMarkdown());
  });
});
