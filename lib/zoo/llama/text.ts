/**
 * Procedurally generated text for the tiny-llama preset: small grammars and templates, drawn
 * from the zoo's seeded RNG, so the project needs no downloaded corpus and each fine-tuning
 * task is a distinct, learnable text domain (ASCII only: one byte = one character = one token).
 */
import { Rng } from '../rng';

export type TextDomain = 'stories' | 'arithmetic' | 'records' | 'code' | 'recipes';

export const TEXT_DOMAINS: Record<TextDomain, string> = {
  stories: 'templated English narrative and question/answer sentences',
  arithmetic: 'addition, subtraction and multiplication facts ("17 + 25 = 42.")',
  records: 'JSON records of people (name, age, city, job)',
  code: 'small Python-like functions with arithmetic bodies',
  recipes: 'cooking instructions built from a fixed set of ingredient and action words',
};

const NAMES = ['ada', 'ben', 'cleo', 'dan', 'eva', 'finn', 'gus', 'hana', 'ivo', 'jun', 'kai', 'lena', 'milo', 'nora', 'otto', 'pia'];
const ADJS = ['small', 'old', 'quiet', 'bright', 'green', 'tired', 'happy', 'brave', 'cold', 'red'];
const NOUNS = ['cat', 'dog', 'bird', 'fox', 'child', 'farmer', 'teacher', 'boat', 'horse', 'robot'];
const VERBS = ['sees', 'finds', 'follows', 'helps', 'watches', 'carries', 'calls', 'likes'];
const PLACES = ['garden', 'forest', 'river', 'market', 'school', 'harbor', 'kitchen', 'hill'];
const PREPS = ['near', 'in', 'behind', 'under', 'beside'];
const CITIES = ['oslo', 'lima', 'kyiv', 'rome', 'cairo', 'quito', 'perth', 'dakar'];
const JOBS = ['baker', 'pilot', 'nurse', 'clerk', 'miner', 'tailor', 'judge', 'coder'];
const INGREDIENTS = ['flour', 'butter', 'sugar', 'onion', 'garlic', 'tomato', 'rice', 'pepper', 'salt', 'milk', 'egg', 'carrot'];
const ACTIONS = ['chop', 'stir', 'boil', 'bake', 'mix', 'fry', 'slice', 'whisk', 'season', 'simmer'];
const TOOLS = ['pan', 'pot', 'bowl', 'oven', 'knife', 'spoon'];

function sentenceStories(r: Rng): string {
  switch (r.int(3)) {
    case 0:
      return `the ${r.pick(ADJS)} ${r.pick(NOUNS)} ${r.pick(VERBS)} the ${r.pick(NOUNS)} ${r.pick(PREPS)} the ${r.pick(PLACES)}.`;
    case 1: {
      const n = r.pick(NAMES);
      return `${n} has a ${r.pick(ADJS)} ${r.pick(NOUNS)}. ${n} ${r.pick(VERBS)} it every day.`;
    }
    default: {
      const noun = r.pick(NOUNS);
      const place = r.pick(PLACES);
      return `q: where is the ${noun}? a: the ${noun} is ${r.pick(PREPS)} the ${place}.`;
    }
  }
}

function sentenceArithmetic(r: Rng): string {
  const a = r.int(50);
  const b = r.int(50);
  switch (r.int(3)) {
    case 0:
      return `${a} + ${b} = ${a + b}.`;
    case 1:
      return a >= b ? `${a} - ${b} = ${a - b}.` : `${b} - ${a} = ${b - a}.`;
    default: {
      const x = r.int(13);
      const y = r.int(13);
      return `${x} * ${y} = ${x * y}.`;
    }
  }
}

function sentenceRecords(r: Rng): string {
  return `{"name": "${r.pick(NAMES)}", "age": ${18 + r.int(60)}, "city": "${r.pick(CITIES)}", "job": "${r.pick(JOBS)}"}`;
}

function sentenceCode(r: Rng): string {
  const f = r.pick(['add', 'scale', 'shift', 'mix', 'area', 'total']);
  const [a, b] = [r.pick(['a', 'x', 'n']), r.pick(['b', 'y', 'k'])];
  const op = r.pick(['+', '-', '*']);
  const c = r.int(10);
  return `def ${f}(${a}, ${b}):\n    ${a} = ${a} ${op} ${c}\n    return ${a} ${r.pick(['+', '*'])} ${b}\n`;
}

function sentenceRecipes(r: Rng): string {
  const ing = r.pick(INGREDIENTS);
  switch (r.int(3)) {
    case 0:
      return `${r.pick(ACTIONS)} the ${ing} in a ${r.pick(TOOLS)}.`;
    case 1:
      return `add ${1 + r.int(4)} cups of ${ing} and ${r.pick(ACTIONS)} with the ${r.pick(INGREDIENTS)}.`;
    default:
      return `${r.pick(ACTIONS)} for ${5 + r.int(40)} minutes, then ${r.pick(ACTIONS)} the ${ing}.`;
  }
}

const GENERATORS: Record<TextDomain, (r: Rng) => string> = {
  stories: sentenceStories,
  arithmetic: sentenceArithmetic,
  records: sentenceRecords,
  code: sentenceCode,
  recipes: sentenceRecipes,
};

/** About `chars` characters of one domain, one sentence (or snippet) per line. */
export function generateText(domain: TextDomain, chars: number, rng: Rng): string {
  const gen = GENERATORS[domain];
  const parts: string[] = [];
  let n = 0;
  while (n < chars) {
    const s = gen(rng);
    parts.push(s);
    n += s.length + 1;
  }
  return parts.join('\n') + '\n';
}

/** Words that the vocabulary-resized child gets as single tokens (the recipes domain's words). */
export const RECIPE_WORD_TOKENS: readonly string[] = [
  ...INGREDIENTS,
  ...ACTIONS,
  ...TOOLS,
  'the',
  'and',
  'with',
  'for',
  'minutes',
  'then',
  'cups',
  'of',
  'add',
  'in',
];
