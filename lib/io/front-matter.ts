/**
 * A tiny, strict reader of the YAML front matter of a model card (README.md): the block between
 * a first line `---` and the next `---` or `...`. It reads top-level keys whose values are plain
 * or quoted scalars, flow lists `[a, "b"]` or block lists (`- a` lines) of scalars; any other
 * value (a nested map, a list of maps, a block scalar) is skipped as a whole, by indentation.
 * Nothing is evaluated: anchors, aliases and tags in a value that is read are errors, and so are
 * a key given twice, tabs in indentation, an unterminated quote or flow list, and front matter
 * larger than FRONT_MATTER_MAX_BYTES. Errors name the file and the line.
 */
import { FormatError } from '../errors';

/** Model cards keep their metadata short; more than this is refused rather than scanned. */
export const FRONT_MATTER_MAX_BYTES = 64 * 1024;

export type FrontMatterValue = string | string[];

function bad(file: string, line: number, rule: string): FormatError {
  return new FormatError('E_FORMAT', `${file}: front matter line ${line}: ${rule}`, { file });
}

/** The text of the front matter, or null when the file has none (no `---` first line). */
export function frontMatterBlock(file: string, text: string): { lines: string[]; first: number } | null {
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  if (lines[0].trimEnd() !== '---') return null;
  let bytes = 0;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i].trimEnd();
    if (l === '---' || l === '...') return { lines: lines.slice(1, i), first: 2 };
    bytes += lines[i].length + 1;
    if (bytes > FRONT_MATTER_MAX_BYTES) throw bad(file, i + 1, `front matter is longer than ${FRONT_MATTER_MAX_BYTES} bytes`);
  }
  throw bad(file, lines.length, 'front matter has no closing --- line');
}

/** One scalar: plain, 'single' ('' escapes a quote) or "double" (\" \\ \n \t \/ escapes). */
function scalar(file: string, line: number, raw: string): string {
  const s = raw.trim();
  if (s.startsWith('"')) {
    let out = '';
    let i = 1;
    for (; i < s.length && s[i] !== '"'; i++) {
      if (s[i] !== '\\') {
        out += s[i];
        continue;
      }
      const e = s[++i];
      const map: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', n: '\n', t: '\t' };
      if (e === undefined || !(e in map)) throw bad(file, line, `unsupported escape \\${e ?? ''} in a double-quoted value`);
      out += map[e];
    }
    if (i >= s.length) throw bad(file, line, 'unterminated double-quoted value');
    if (s.slice(i + 1).trim() !== '' && !s.slice(i + 1).trim().startsWith('#')) throw bad(file, line, 'text after a quoted value');
    return out;
  }
  if (s.startsWith("'")) {
    let out = '';
    let i = 1;
    for (; i < s.length; i++) {
      if (s[i] === "'") {
        if (s[i + 1] === "'") {
          out += "'";
          i++;
          continue;
        }
        break;
      }
      out += s[i];
    }
    if (i >= s.length) throw bad(file, line, 'unterminated single-quoted value');
    if (s.slice(i + 1).trim() !== '' && !s.slice(i + 1).trim().startsWith('#')) throw bad(file, line, 'text after a quoted value');
    return out;
  }
  // Plain scalar: a comment starts at " #".
  const plain = s.replace(/\s+#.*$/, '').trim();
  if (/^[&*!%@`|>]/.test(plain)) throw bad(file, line, `'${plain[0]}' (anchor, alias, tag, directive or block scalar) is not supported in a value that is read`);
  return plain;
}

/** `[a, "b, c", 'd']` → its items. */
function flowList(file: string, line: number, s: string): string[] {
  const t = s.trim().replace(/\s+#.*$/, '');
  if (!t.endsWith(']')) throw bad(file, line, 'unterminated flow list (lists must close on the same line)');
  const inner = t.slice(1, -1);
  const items: string[] = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i];
    if (quote) {
      if (ch === quote) quote = '';
      cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (ch === ',') {
      items.push(cur);
      cur = '';
    } else if (ch === '[' || ch === '{') {
      throw bad(file, line, 'nested flow collections are not supported');
    } else cur += ch;
  }
  if (quote) throw bad(file, line, 'unterminated quote in a flow list');
  if (cur.trim() !== '' || items.length > 0) items.push(cur);
  return items.map((x) => scalar(file, line, x)).filter((x, i, all) => x !== '' || i < all.length - 1);
}

const indentOf = (l: string): number => l.length - l.trimStart().length;

/**
 * Top-level scalar and list-of-scalar keys of the front matter (others skipped); null when the
 * file has no front matter.
 */
export function parseFrontMatter(file: string, text: string): Record<string, FrontMatterValue> | null {
  const block = frontMatterBlock(file, text);
  if (!block) return null;
  const { lines, first } = block;
  const out: Record<string, FrontMatterValue> = {};
  const seen = new Set<string>();
  let i = 0;
  while (i < lines.length) {
    const lineNo = first + i;
    const l = lines[i];
    if (l.trim() === '' || l.trimStart().startsWith('#')) {
      i++;
      continue;
    }
    if (/^[ \t]/.test(l)) throw bad(file, lineNo, 'indented line where a top-level key was expected');
    const m = /^([A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*:(?:\s+(.*)|\s*)$/.exec(l);
    if (!m) throw bad(file, lineNo, 'expected "key: value" (only simple keys are read)');
    const key = m[1];
    if (seen.has(key)) throw bad(file, lineNo, `key "${key}" appears twice`);
    seen.add(key);
    const rest = (m[2] ?? '').trim();
    // The key's block: following lines that are indented, or list items at column 0.
    let j = i + 1;
    while (j < lines.length && (lines[j].trim() === '' || /^[ \t]/.test(lines[j]) || /^-(\s|$)/.test(lines[j]))) {
      if (/^\t/.test(lines[j]) || /^ *\t/.test(lines[j])) throw bad(file, first + j, 'tab in indentation');
      j++;
    }
    const body = lines.slice(i + 1, j).map((x, k) => ({ x, n: first + i + 1 + k })).filter((e) => e.x.trim() !== '' && !e.x.trimStart().startsWith('#'));
    if (/^[|>]/.test(rest)) {
      // A block scalar (its text is the indented block): not a value we read.
    } else if (rest !== '' && !rest.startsWith('#')) {
      if (body.length > 0) throw bad(file, lineNo, `key "${key}" has a value and an indented block`);
      if (rest.startsWith('{')) {
        // A flow map: not a value we read.
      } else if (rest.startsWith('[')) out[key] = flowList(file, lineNo, rest);
      else out[key] = scalar(file, lineNo, rest);
    } else if (body.length > 0 && body.every((e) => /^\s*-(\s|$)/.test(e.x))) {
      // A block list; a list of maps ("- name: x") or nested lists is skipped as a whole.
      const ind = indentOf(body[0].x);
      const items = body.map((e) => ({ item: e.x.trim().slice(1).trim(), n: e.n, ind: indentOf(e.x) }));
      const simple = items.every((it) => it.ind === ind && !/^[A-Za-z0-9_"'][^:]*:(\s|$)/.test(it.item) && !it.item.startsWith('-') && !it.item.startsWith('['));
      if (simple) out[key] = items.map((it) => scalar(file, it.n, it.item));
    }
    i = j;
  }
  return out;
}
