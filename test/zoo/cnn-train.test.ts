/**
 * The CNN trains on the zoo's backend with the hand-written conv gradients (the full mnist-cnn
 * zoo takes minutes, so CI checks a short run): loss falls and accuracy leaves chance behind.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/zoo/backend';
import { createCnn } from '../../lib/zoo/cnn';
import { subset } from '../../lib/zoo/data';
import { Rng } from '../../lib/zoo/rng';
import { VisionTaskSet } from '../../lib/zoo/tasks';
import { evaluateClassifier, trainClassifier } from '../../lib/zoo/train-classifier';
import { initWeights } from '../../lib/zoo/vision-net';

test('a short CNN run learns MNIST and leaks no tensors', async () => {
  await selectBackend('auto');
  const mnist = new VisionTaskSet(0, { mnistTest: 1000, childTrain: 10, childTest: 10 }, '/nonexistent').get('mnist');
  const train = subset(mnist.train, Array.from({ length: 1536 }, (_, i) => i));
  const net = createCnn(8, 16);
  const before = tf.memory().numTensors;
  const start = initWeights(net, 'kaiming-uniform', new Rng(1));
  const chance = evaluateClassifier(net, start, mnist.test).accuracy;
  const out = await trainClassifier(net, start, train, { learningRate: 0.01, batchSize: 256, epochs: 4, seed: 2 });
  const acc = evaluateClassifier(net, out.weights, mnist.test).accuracy;
  expect(out.lossHistory[3]).toBeLessThan(out.lossHistory[0] * 0.6);
  expect(acc).toBeGreaterThan(0.75);
  expect(acc).toBeGreaterThan(chance + 0.4);
  expect(tf.memory().numTensors).toBe(before);
}, 120_000);
