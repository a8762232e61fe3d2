/** The formats `npm run fuzz` covers: one line per reader. */
import { ggufTarget } from './gguf';
import { safetensorsTarget } from './safetensors';
import { torchZipTarget } from './torch-zip';
import { frontMatterTarget } from './front-matter';
import { FuzzTarget } from './target';

export const FUZZ_TARGETS: readonly FuzzTarget[] = [ggufTarget, safetensorsTarget, torchZipTarget, frontMatterTarget];
