/**
 * Fuzz target for the model-card front-matter reader (lib/io/front-matter.ts): valid README
 * seeds with base_model in each form, and `check`, which must either return a map of strings
 * and string lists (the reader's whole output contract) or throw a FormatError naming the file.
 */
import { PhylogenyError } from '../../lib/errors';
import { parseFrontMatter } from '../../lib/io/front-matter';
import { FuzzTarget } from './target';

const SEEDS = [
  '---\nbase_model: meta-llama/Llama-2-7b-hf\nlicense: llama2\ntags: [text-generation, "lora, peft"]\n---\n# card\n',
  '---\nbase_model:\n- org/a\n- \'org/b\'\ndatasets:\n  - squad\nmodel-index:\n- name: m\n  results:\n  - task: {type: x}\n---\n',
  '\ufeff---\r\nbase_model: "org/\\"quoted\\""\r\ndescription: |\r\n  text: with colons\r\n...\r\nbody\r\n',
  '# no front matter\nbase_model: x\n',
];

export const frontMatterTarget: FuzzTarget = {
  name: 'front-matter',
  seeds: () => SEEDS.map((s) => Buffer.from(s, 'utf8')),
  check(path: string, bytes: Buffer): void {
    let fm: ReturnType<typeof parseFrontMatter>;
    try {
      fm = parseFrontMatter(path, bytes.toString('utf8'));
    } catch (e) {
      if (e instanceof PhylogenyError && e.message.startsWith(`${path}: `)) throw e;
      throw new Error(`front matter: not a clean refusal: ${String((e as Error)?.stack ?? e)}`);
    }
    if (fm === null) return;
    const text = bytes.toString('utf8');
    for (const [k, v] of Object.entries(fm)) {
      const ok = typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
      if (!ok) throw new Error(`front matter: key ${k} has a value that is neither a string nor a list of strings`);
      // The parsed value has lost its quotes, so a value that starts with an anchor, alias or
      // tag character is sound only where the text has that character right after a quote
      // ("&x" is a string); otherwise a plain scalar kept it.
      for (const x of typeof v === 'string' ? [v] : (v as string[])) {
        if (/^[&*!]/.test(x) && !text.includes(`"${x[0]}`) && !text.includes(`'${x[0]}`)) throw new Error(`front matter: key ${k} kept an anchor, alias or tag`);
      }
    }
  },
};
