/**
 * mnist-cnn: the same protocol with a small CNN (two strided 3×3 convs and a linear head).
 * Small scale uses 8 and 16 channels and four families to stay within a few minutes on 2 cores.
 */
import { createCnn } from '../cnn';
import { visionPreset } from './vision-zoo';

export const mnistCnnPreset = visionPreset({
  preset: 'mnist-cnn',
  createNet: (scale) => (scale === 'paper' ? createCnn(16, 32) : createCnn(8, 16)),
  sizes: (scale) => (scale === 'paper' ? { mnistTest: 2000 } : { mnistTest: 2000, childTrain: 3000, childTest: 2000 }),
  // A CNN step costs ~4× an MLP step here: four families keep the small zoo within minutes.
  smallFamilies: 4,
  notes: ['mnist-cnn: conv(3×3, stride 2) → ReLU → conv(3×3, stride 2) → ReLU → linear; parents on MNIST, children fine-tuned on other tasks.'],
});
