/**
 * The repository stands alone: no tracked file may point at a design document outside it, a
 * sibling checkout, a doc that does not exist, or an issue number. A reader of a clone has none
 * of those, so such a reference explains nothing. The patterns are assembled from pieces so
 * that this file does not match itself.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

const FORBIDDEN: Array<{ what: string; re: RegExp }> = [
  { what: 'a design document outside the repo', re: new RegExp(['DESIGN', '(\\.md|\\s+")'].join('')) },
  { what: 'a path outside the repo', re: new RegExp(['\\.\\.', '/shared'].join('')) },
  { what: 'an issue number', re: new RegExp(['\\b[Ii]ssue', '\\s*#?\\d+'].join('')) },
];

/** References to a markdown file under docs whose file is not in the repository. */
function missingDocs(line: string): string[] {
  return [...line.matchAll(/\bdocs\/([\w.-]+\.md)\b/g)].map((m) => m[0]).filter((d) => !fs.existsSync(path.join(root, d)));
}

/** Tracked text files (git ls-files), without binaries. */
function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.split('\0').filter((f) => f && fs.existsSync(path.join(root, f)) && fs.statSync(path.join(root, f)).isFile());
}

describe('a repository that stands alone', () => {
  it('the patterns catch what they are meant to', () => {
    const hits = (s: string) => FORBIDDEN.filter((p) => p.re.test(s)).map((p) => p.what);
    expect(hits(['see DESIGN', '.md'].join(''))).toEqual(['a design document outside the repo']);
    expect(hits(['DESIGN', ' "Formats"'].join(''))).toEqual(['a design document outside the repo']);
    expect(hits(['../', 'shared/device/README.md'].join(''))).toEqual(['a path outside the repo']);
    expect(hits(['(issue', ' 5)'].join(''))).toEqual(['an issue number']);
    expect(hits(['Issue', ' #12'].join(''))).toEqual(['an issue number']);
    expect(hits('docs/report.md, latency issues, Issue Slots Busy, DESIGNS')).toEqual([]);
    expect(missingDocs(['see docs/report.md and docs/', 'nowhere.md'].join(''))).toEqual([['docs/', 'nowhere.md'].join('')]);
  });

  it('no tracked file points outside the repo, at a missing doc or at an issue number', () => {
    const files = trackedFiles();
    expect(files.length).toBeGreaterThan(50);
    const offenders: string[] = [];
    for (const f of files) {
      const buf = fs.readFileSync(path.join(root, f));
      if (buf.includes(0)) continue; // binary
      buf.toString('utf8').split('\n').forEach((line, i) => {
        for (const p of FORBIDDEN) if (p.re.test(line)) offenders.push(`${f}:${i + 1}: ${p.what}: ${line.trim().slice(0, 120)}`);
        for (const d of missingDocs(line)) offenders.push(`${f}:${i + 1}: a doc that does not exist: ${d}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
