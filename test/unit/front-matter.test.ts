import { parseFrontMatter, FRONT_MATTER_MAX_BYTES } from '../../lib/io/front-matter';
import { FormatError } from '../../lib/errors';

const card = (yaml: string) => `---\n${yaml}\n---\n# Model card\n`;
const parse = (yaml: string) => parseFrontMatter('m/README.md', card(yaml));

describe('YAML front matter', () => {
  test('no front matter: null', () => {
    expect(parseFrontMatter('README.md', '# Title\nbase_model: x\n')).toBeNull();
    expect(parseFrontMatter('README.md', '')).toBeNull();
  });

  test('scalars, quotes, flow and block lists; complex values skipped', () => {
    const fm = parse(
      [
        'license: apache-2.0',
        'base_model: meta-llama/Llama-2-7b-hf  # the base',
        "quoted: 'it''s'",
        'dq: "a \\"b\\" c"',
        'tags: [text-generation, "lora, adapter", \'x\']',
        'datasets:',
        '  - squad',
        '  - glue',
        'model-index:',
        '- name: m',
        '  results:',
        '  - task: {type: x}',
        'widget:',
        '  text: hello',
        'description: |',
        '  long text: with colons',
      ].join('\n'),
    )!;
    expect(fm.license).toBe('apache-2.0');
    expect(fm.base_model).toBe('meta-llama/Llama-2-7b-hf');
    expect(fm.quoted).toBe("it's");
    expect(fm.dq).toBe('a "b" c');
    expect(fm.tags).toEqual(['text-generation', 'lora, adapter', 'x']);
    expect(fm.datasets).toEqual(['squad', 'glue']);
    expect(fm['model-index']).toBeUndefined();
    expect(fm.widget).toBeUndefined();
    expect(fm.description).toBeUndefined();
  });

  test('base_model as a list, CRLF and a BOM', () => {
    const fm = parseFrontMatter('README.md', '\ufeff---\r\nbase_model:\r\n- org/a\r\n- org/b\r\n---\r\n')!;
    expect(fm.base_model).toEqual(['org/a', 'org/b']);
  });

  test.each([
    ['base_model: a\nbase_model: b', /line 3: key "base_model" appears twice/],
    ['base_model: *anchor', /anchor, alias, tag/],
    ['base_model: !!python/object:os.system x', /anchor, alias, tag/],
    ['base_model: "unterminated', /unterminated double-quoted value/],
    ["base_model: 'unterminated", /unterminated single-quoted value/],
    ['base_model: [a, b', /unterminated flow list/],
    ['base_model: [a, [b]]', /nested flow collections/],
    ['base_model: "bad \\x escape"', /unsupported escape/],
    ['  indented: x', /indented line where a top-level key was expected/],
    ['key without colon', /expected "key: value"/],
    ['a: 1\n\t- x', /tab in indentation/],
    ['a: 1\n  b: 2', /has a value and an indented block/],
  ])('refuses %j', (yaml, re) => {
    expect(() => parse(yaml)).toThrow(FormatError);
    expect(() => parse(yaml)).toThrow(re);
    expect(() => parse(yaml)).toThrow(/m\/README\.md: front matter line/);
  });

  test('unclosed or oversized front matter is refused', () => {
    expect(() => parseFrontMatter('README.md', '---\nbase_model: x\n')).toThrow(/no closing --- line/);
    const big = `---\n${'k: v\n'.repeat(FRONT_MATTER_MAX_BYTES / 5 + 10)}---\n`;
    expect(() => parseFrontMatter('README.md', big)).toThrow(/longer than 65536 bytes/);
  });
});
