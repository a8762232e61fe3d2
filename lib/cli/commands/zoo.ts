// Declarations only at the top: the zoo trains with tfjs, which is loaded when the command runs.
import { SYNTHETIC_SIZES } from '../../zoo/presets/synthetic-large';
import { REGIMES } from '../../zoo/regimes';
import { ZOO_PRESETS } from '../../zoo/types';
import type { ZooOptions } from '../../zoo/types';
import { UsageError } from '../args';
import { Command, QUIET_OPTION } from '../command';
import { ProgressBar } from '../progress';
import { zooProgressHandler } from '../zoo-progress';

export const zooCommand: Command = {
  name: 'zoo',
  summary: 'train model families with known lineage (or make synthetic large ones) for evaluation',
  description:
    'Trains for real with tfjs (backend chain: tfjs-node-gpu, tfjs-node, wasm, cpu; the one used is printed) and writes <id>.safetensors files or Hugging Face layout directories, lineage.json (the truth) and models.json (every hyperparameter, loss and held-out accuracy). Model ids do not reveal lineage. Presets: mnist-fc (the paper\'s MLP setting), mnist-cnn, tiny-llama (LLaMA architecture, HF layout, BF16 shards, one child with a resized vocabulary), synthetic-large (clearly labelled synthetic families of large sharded BF16 models, for scale and speed only), regimes (MLP, BatchNorm CNN, ViT or tiny-LLaMA families trained under different optimizers, weight decays, schedules and initialisations, with partial and tiny fine-tunes), hub (tiny-llama models with every typed edge: adapters, merged LoRAs, linear/SLERP/TIES merges, GGUF copies, a duplicate, an unrelated model, model cards with one mislabelled; typed lineage.json), tiny-unet (diffusers UNet2DModel DDPMs on 14×14 MNIST with DreamBooth-style children, one DDPMPipeline folder per model). See docs/zoo.md.',
  positionals: [],
  options: [
    { name: 'preset', alias: 'p', type: 'string', arg: 'P', description: 'which zoo', choices: [...ZOO_PRESETS] },
    { name: 'out', alias: 'o', type: 'string', arg: 'DIR', description: 'directory to write the zoo to' },
    { name: 'seed', type: 'number', arg: 'S', description: 'seed (the same seed gives the same zoo)', default: 0 },
    { name: 'scale', type: 'string', arg: 'SCALE', description: "'small': minutes on 2 cores; 'paper': the paper's grid", default: 'small', choices: ['small', 'paper'] },
    { name: 'families', type: 'number', arg: 'N', description: 'number of families (parents) [default: per preset and scale]' },
    { name: 'size', type: 'string', arg: 'SIZE', description: 'synthetic-large: model shapes', choices: Object.keys(SYNTHETIC_SIZES) },
    { name: 'children', type: 'number', arg: 'N', description: 'synthetic-large: children per family' },
    { name: 'grandchildren', type: 'number', arg: 'N', description: 'synthetic-large: grandchildren per family' },
    { name: 'layers', type: 'number', arg: 'N', description: 'synthetic-large: decoder layers (override the size\'s)' },
    { name: 'gguf', type: 'string', arg: 'TYPES', description: "tiny-llama: write the children as GGUF (model.gguf) instead of BF16 safetensors, comma-separated types taken in turn (e.g. 'Q8_0,Q4_K'; also F32, F16, BF16, Q4_0, Q4_1)" },
    { name: 'gguf-split', type: 'number', arg: 'N', description: "tiny-llama with --gguf: write each child split into N files as llama.cpp's gguf-split does (model-00001-of-0000N.gguf, ...), read back as one model" },
    { name: 'gptq', type: 'boolean', description: 'tiny-llama: write the children as 4-bit GPTQ checkpoints (round-to-nearest per group of 128, not the GPTQ algorithm) instead of BF16 safetensors' },
    { name: 'peft-rank', type: 'number', arg: 'R', description: 'tiny-llama: write each leaf child as a PEFT LoRA adapter of rank R over its parent (SVD of its fine-tune) instead of safetensors' },
    { name: 'regime', type: 'list', arg: 'R', description: `regimes: which training regimes (repeatable, comma-separated; ${REGIMES.join(', ')}) [default: all]; --families is then per regime` },
    { name: 'regime-net', type: 'string', arg: 'NET', description: "regimes: the network ('cnn-bn' saves BatchNorm running statistics and int64 num_batches_tracked, as PyTorch does; 'vit' is a small Vision Transformer with transformers' ViTForImageClassification tensor names; 'llama' is the tiny LLaMA trained on generated text, written as Hugging Face checkpoint directories)", default: 'mlp', choices: ['mlp', 'cnn-bn', 'vit', 'llama'] },
    { name: 'backend', type: 'string', arg: 'B', description: 'tfjs backend', default: 'auto', choices: ['auto', 'node-gpu', 'node', 'wasm', 'cpu'] },
    QUIET_OPTION,
  ],
  examples: [
    'phylogeny zoo --preset mnist-fc --out zoos/fc --seed 1',
    'phylogeny zoo --preset tiny-llama --out zoos/llama',
    'phylogeny zoo --preset tiny-llama --gguf Q8_0,Q4_K --out zoos/llama-gguf',
    'phylogeny zoo --preset tiny-llama --gguf Q8_0 --gguf-split 3 --out zoos/llama-gguf-split',
    'phylogeny zoo --preset tiny-llama --gptq --out zoos/llama-gptq',
    'phylogeny zoo --preset regimes --regime adamw-strong,partial --families 2 --out zoos/regimes',
    'phylogeny zoo --preset synthetic-large --size 7b --layers 18 --children 1 --grandchildren 0 --out zoos/big',
  ],
  async run(args, io) {
    const o = args.opts;
    if (!o.preset) throw new UsageError('zoo needs --preset P');
    if (!o.out) throw new UsageError('zoo needs --out DIR');
    const gguf = typeof o.gguf === 'string' ? o.gguf.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
    if (gguf && o.preset !== 'tiny-llama') throw new UsageError('--gguf applies to --preset tiny-llama only');
    const ggufSplit = o['gguf-split'] as number | undefined;
    if (ggufSplit !== undefined && (!gguf || !Number.isInteger(ggufSplit) || ggufSplit < 1 || ggufSplit > 65535))
      throw new UsageError('--gguf-split takes a whole number of files from 1 to 65535, with --gguf');
    const gptq = Boolean(o.gptq);
    if (gptq && (o.preset !== 'tiny-llama' || gguf)) throw new UsageError('--gptq applies to --preset tiny-llama only, without --gguf');
    const peftRank = o['peft-rank'] as number | undefined;
    if (peftRank !== undefined && (o.preset !== 'tiny-llama' || !Number.isInteger(peftRank) || peftRank < 1 || gguf || gptq))
      throw new UsageError('--peft-rank takes a positive integer, with --preset tiny-llama and without --gguf or --gptq');
    const bar = new ProgressBar(`zoo ${o.preset}`, { enabled: !io.quiet });
    const opts: ZooOptions = {
      preset: o.preset as ZooOptions['preset'],
      outDir: o.out as string,
      seed: o.seed as number,
      scale: o.scale as ZooOptions['scale'],
      families: o.families as number | undefined,
      size: o.size as ZooOptions['size'],
      childrenPerFamily: o.children as number | undefined,
      grandchildrenPerFamily: o.grandchildren as number | undefined,
      numLayers: o.layers as number | undefined,
      gguf,
      ggufSplit,
      peftRank,
      gptq: gptq || undefined,
      regimes: o.regime as string[] | undefined,
      regimeNet: o['regime-net'] as ZooOptions['regimeNet'],
      backend: o.backend as ZooOptions['backend'],
      onProgress: zooProgressHandler(bar),
      log: io.quiet ? undefined : (line) => io.err(`${line}\n`),
    };
    const { buildZoo, describeBackend } = await import('../../zoo');
    const zoo = await buildZoo(opts);
    bar.done(`${zoo.models.length} models in ${zoo.buildSeconds.toFixed(0)} s`);
    if (!io.quiet) {
      if (zoo.backend) io.err(`tfjs backend: ${describeBackend(zoo.backend)}\n`);
      for (const n of zoo.notes) io.err(`note: ${n}\n`);
    }
    io.out(`${zoo.outDir}\n`);
    return 0;
  },
};
