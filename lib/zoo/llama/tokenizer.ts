/**
 * Tokenizers of the tiny-llama preset. Base: one token per byte (vocabulary 256, ASCII text).
 * Extended (the vocabulary-resized child): the same 256 byte tokens plus whole-word tokens
 * appended after them, as a fine-tuner adding domain words with resize_token_embeddings would.
 */

export const BYTE_VOCAB = 256;

export interface Tokenizer {
  vocabSize: number;
  /** Extra tokens after the bytes, in id order. */
  words: readonly string[];
  encode(text: string): Int32Array;
}

export function byteTokenizer(): Tokenizer {
  return {
    vocabSize: BYTE_VOCAB,
    words: [],
    encode(text: string): Int32Array {
      const b = Buffer.from(text, 'latin1');
      return Int32Array.from(b);
    },
  };
}

const isWordChar = (c: string): boolean => c >= 'a' && c <= 'z';

/** Bytes plus `words` (lower-case a-z), matched as whole words (longest first). */
export function wordTokenizer(words: readonly string[]): Tokenizer {
  const ids = new Map(words.map((w, i) => [w, BYTE_VOCAB + i]));
  return {
    vocabSize: BYTE_VOCAB + words.length,
    words,
    encode(text: string): Int32Array {
      const out: number[] = [];
      let i = 0;
      while (i < text.length) {
        if (isWordChar(text[i]) && (i === 0 || !isWordChar(text[i - 1]))) {
          let j = i;
          while (j < text.length && isWordChar(text[j])) j++;
          const id = ids.get(text.slice(i, j));
          if (id !== undefined) {
            out.push(id);
            i = j;
            continue;
          }
        }
        out.push(text.charCodeAt(i) & 0xff);
        i++;
      }
      return Int32Array.from(out);
    },
  };
}
