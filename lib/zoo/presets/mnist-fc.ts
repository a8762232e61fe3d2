/**
 * mnist-fc: the paper's fully connected setting. Small scale uses a 784-64-10 MLP (a few seconds
 * per model on 2 cores); paper scale a 784-128-10 MLP over the full grid.
 */
import { createMlp } from '../mlp';
import { visionPreset } from './vision-zoo';

export const mnistFcPreset = visionPreset({
  preset: 'mnist-fc',
  createNet: (scale) => createMlp(scale === 'paper' ? [128] : [64]),
  // MNIST has 10,000 images here: 2,000 held out; fine-tuning tasks use seeded subsets at small scale.
  sizes: (scale) => (scale === 'paper' ? { mnistTest: 2000 } : { mnistTest: 2000, childTrain: 3000, childTest: 2000 }),
  smallFamilies: 5,
  notes: ['mnist-fc: multilayer perceptron with ReLU; parents on MNIST, children and grandchildren fine-tuned on other tasks.'],
});
