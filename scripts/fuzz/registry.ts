/** The formats `npm run fuzz` covers: one line per reader. */
import { fingerprintTarget } from './fingerprint';
import { ggufTarget } from './gguf';
import { packedTarget } from './packed';
import { peftConfigTarget } from './peft-config';
import { safetensorsTarget } from './safetensors';
import { torchZipTarget } from './torch-zip';
import { frontMatterTarget } from './front-matter';
import { FuzzTarget } from './target';

export const FUZZ_TARGETS: readonly FuzzTarget[] = [fingerprintTarget, frontMatterTarget, ggufTarget, packedTarget, peftConfigTarget, safetensorsTarget, torchZipTarget];
