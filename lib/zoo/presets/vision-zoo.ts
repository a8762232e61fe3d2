/**
 * Builds a vision zoo (mnist-fc, mnist-cnn) from the shared plan: trains every parent from a
 * seeded init, fine-tunes children and grandchildren from their parent's final weights (same
 * tensors; the 10-class head is re-trained in place), evaluates each model on held-out data of
 * its own task and the parent on the child's task before fine-tuning, and writes F32
 * safetensors in PyTorch layout.
 */
import * as path from 'path';
import { writeSafetensors } from '../../io/safetensors-writer';
import { describeBackend, selectBackend } from '../backend';
import { INIT_DESCRIPTIONS } from '../init';
import { modelId } from '../ids';
import { deriveSeed, Rng } from '../rng';
import { TaskSizes, VisionTaskSet } from '../tasks';
import { ADAM, classifierOutcome, evaluateClassifier, trainClassifier } from '../train-classifier';
import { ZooModelRecord, ZooOptions, ZooPreset, ZooScale } from '../types';
import { initWeights, paramCount, toTorchTensors, VisionNet, Weights } from '../vision-net';
import { PresetBuilder, PresetContext, PresetResult } from './context';
import { defaultFamilies, epochsFor, visionPlan } from './vision-plan';

export interface VisionPresetConfig {
  preset: Extract<ZooPreset, 'mnist-fc' | 'mnist-cnn'>;
  createNet(scale: ZooScale): VisionNet;
  sizes(scale: ZooScale): TaskSizes;
  /** Families at small scale. */
  smallFamilies: number;
  notes: string[];
}

export function visionPreset(cfg: VisionPresetConfig): PresetBuilder {
  return {
    normalize(o: ZooOptions) {
      const scale = o.scale ?? 'small';
      return { preset: cfg.preset, scale, seed: o.seed ?? 0, families: o.families ?? defaultFamilies(scale, cfg.smallFamilies) };
    },
    build: (ctx) => buildVisionZoo(cfg, ctx),
  };
}

async function buildVisionZoo(cfg: VisionPresetConfig, ctx: PresetContext): Promise<PresetResult> {
  const { seed, scale } = ctx;
  const backend = await selectBackend(ctx.options.backend ?? 'auto');
  ctx.log(`tfjs backend: ${describeBackend(backend)}`);
  const plan = visionPlan(scale, ctx.options.families ?? defaultFamilies(scale, cfg.smallFamilies));
  const net = cfg.createNet(scale);
  ctx.progress({ phase: 'data', model: 0, models: plan.length, message: 'loading datasets' });
  const tasks = new VisionTaskSet(seed, cfg.sizes(scale));
  ctx.log(`datasets: ${tasks.report.mnist}; Fashion-MNIST ${tasks.report.fashionMnist}`);

  const weightsByKey = new Map<string, Weights>();
  const idByKey = new Map<string, string>();
  const childrenLeft = new Map<string, number>();
  for (const e of plan) if (e.parentKey) childrenLeft.set(e.parentKey, (childrenLeft.get(e.parentKey) ?? 0) + 1);
  const models: ZooModelRecord[] = [];
  const arch = { ...net.describe(), params: paramCount(net) } as ZooModelRecord['architecture'];

  for (let i = 0; i < plan.length; i++) {
    const e = plan[i];
    const id = modelId(cfg.preset, seed, e.key);
    idByKey.set(e.key, id);
    const task = tasks.get(e.task);
    const epochs = epochsFor(e, task.train.count);
    const base = { model: i + 1, models: plan.length, modelId: id, generation: e.generation };
    ctx.progress({ ...base, phase: 'train', step: 0, steps: epochs });

    let start: Weights;
    let initialization: Record<string, unknown>;
    let parentEval: { accuracy: number; loss: number } | null = null;
    if (e.parentKey === null) {
      const initSeed = deriveSeed(seed, 'init', e.key);
      start = initWeights(net, e.init as NonNullable<typeof e.init>, new Rng(initSeed));
      initialization = { scheme: e.init, ...INIT_DESCRIPTIONS[e.init as NonNullable<typeof e.init>], rngSeed: initSeed };
    } else {
      start = weightsByKey.get(e.parentKey) as Weights;
      initialization = { fineTunedFrom: idByKey.get(e.parentKey), note: 'all parameters fine-tuned; the 10-class head is re-trained in place' };
      parentEval = evaluateClassifier(net, start, task.test);
    }
    const shuffleSeed = deriveSeed(seed, 'shuffle', e.key);
    const out = await trainClassifier(net, start, task.train, {
      learningRate: e.learningRate,
      batchSize: e.batchSize,
      epochs,
      seed: shuffleSeed,
      onEpoch: (epoch, loss) => ctx.progress({ ...base, phase: 'train', step: epoch, steps: epochs, loss }),
    });
    const ev = evaluateClassifier(net, out.weights, task.test);
    if (childrenLeft.get(e.key)) weightsByKey.set(e.key, out.weights);
    if (e.parentKey) {
      const left = (childrenLeft.get(e.parentKey) as number) - 1;
      childrenLeft.set(e.parentKey, left);
      if (left === 0) weightsByKey.delete(e.parentKey);
    }

    ctx.progress({ ...base, phase: 'write' });
    const file = `${id}.safetensors`;
    writeSafetensors(path.join(ctx.outDir, file), toTorchTensors(net, out.weights), { format: 'pt' });
    const finalLoss = out.lossHistory[out.lossHistory.length - 1];
    ctx.log(
      `${id} gen ${e.generation} ${task.name} lr ${e.learningRate} bs ${e.batchSize} ${epochs} ep: loss ${finalLoss.toFixed(4)}, ` +
        `acc ${(ev.accuracy * 100).toFixed(1)}%` +
        (parentEval ? ` (parent ${(parentEval.accuracy * 100).toFixed(1)}%)` : '') +
        `, ${out.seconds.toFixed(1)} s`,
    );
    models.push({
      id,
      path: file,
      format: 'safetensors',
      dtype: 'F32',
      architecture: arch,
      task: {
        name: task.name,
        description: task.description,
        ...(task.name !== e.task ? { planned: e.task } : {}),
        dataset: task.dataset,
        derived: task.derived,
        trainSamples: task.train.count,
        testSamples: task.test.count,
      },
      hyperparameters: {
        optimizer: 'adam',
        learningRate: e.learningRate,
        batchSize: e.batchSize,
        epochs,
        steps: out.steps,
        gridSeed: e.gridSeed,
        shuffleSeed,
        ...ADAM,
        loss: 'softmax cross-entropy',
      },
      initialization,
      epochs,
      steps: out.steps,
      ...classifierOutcome(out, ev, parentEval, backend.name),
      parent: e.parentKey ? (idByKey.get(e.parentKey) as string) : null,
      generation: e.generation,
    });
  }
  return {
    models,
    backend,
    datasets: { ...tasks.report },
    notes: [
      ...cfg.notes,
      'Weights are F32 in PyTorch layout and naming ([out, in] linear weights, [out, in, kh, kw] conv weights).',
      'Fine-tuning keeps every tensor name and shape: each task has 10 classes, so the head is re-trained in place.',
      ...tasks.report.substitutions,
    ],
    synthetic: false,
  };
}
