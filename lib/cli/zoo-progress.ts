/** Draws zoo building progress (models, epochs, loss) on a ProgressBar. */
import type { ZooProgress } from '../zoo';
import { ProgressBar } from './progress';

export function zooProgressHandler(bar: ProgressBar): (p: ZooProgress) => void {
  return (p) => {
    if (p.phase === 'done') return;
    const within = p.steps ? (p.step ?? 0) / p.steps : p.totalBytes ? (p.bytes ?? 0) / p.totalBytes : 0;
    const fraction = (p.model - 1 + within) / Math.max(1, p.models);
    const parts = [`model ${p.model}/${p.models}`];
    if (p.generation !== undefined) parts.push(`gen ${p.generation}`);
    if (p.steps) parts.push(`${p.phase === 'train' ? 'step' : p.phase} ${p.step}/${p.steps}`);
    if (p.loss !== undefined && Number.isFinite(p.loss)) parts.push(`loss ${p.loss.toFixed(3)}`);
    bar.update(fraction, parts.join(' '));
  };
}
