/**
 * Model ids: the file stem or directory name, made unique by prefixing parent folder names
 * when two models would share one ("runA/model", "runB/model"). The result depends only on
 * the paths, never on the order they were given in, so ids are stable across runs.
 */
import * as path from 'path';

/** Weight-file extensions (lib/io/formats.ts) that are not part of a model's id. */
const WEIGHT_EXTENSION = /.(\.safetensors|\.bin|\.pt|\.pth|\.gguf)$/i;

/** The id a model gets on its own: file stem (without .safetensors, .bin, ...) or directory name. */
export function baseModelId(modelPath: string, isFile: boolean): string {
  const name = path.basename(modelPath);
  const ext = isFile ? WEIGHT_EXTENSION.exec(name) : null;
  if (ext) return name.slice(0, -ext[1].length);
  return name === '' ? modelPath : name;
}

function parentFolders(modelPath: string): string[] {
  return path.dirname(modelPath).split(path.sep).filter((s) => s.length > 0);
}

function withParents(modelPath: string, base: string, k: number): string {
  const parents = parentFolders(modelPath);
  return [...parents.slice(Math.max(0, parents.length - k)), base].join('/');
}

/**
 * Unique ids for `models` (distinct absolute paths), in the same order. Within each group of
 * equal base ids, the fewest parent folders that tell all members apart are prefixed to all
 * of them; if no folder path can (a.safetensors beside a/ in one folder), the file name
 * with its extension is used in the same way.
 */
export function uniqueModelIds(models: { path: string; baseId: string }[]): string[] {
  const ids = models.map((m) => m.baseId);
  const groups = new Map<string, number[]>();
  models.forEach((m, i) => {
    const g = groups.get(m.baseId);
    if (g) g.push(i);
    else groups.set(m.baseId, [i]);
  });
  for (const [base, members] of groups) {
    if (members.length < 2) continue;
    const depth = Math.max(...members.map((i) => parentFolders(models[i].path).length));
    const tries: ((i: number, k: number) => string)[] = [
      (i, k) => withParents(models[i].path, base, k),
      (i, k) => withParents(models[i].path, path.basename(models[i].path), k),
    ];
    search: for (const name of tries) {
      for (let k = 1; k <= depth; k++) {
        const candidates = members.map((i) => name(i, k));
        if (new Set(candidates).size === candidates.length) {
          members.forEach((i, j) => (ids[i] = candidates[j]));
          break search;
        }
      }
    }
  }
  // Pathological names (a folder called "a.safetensors" beside a file a.safetensors) could
  // still meet; number them in path order so ids stay unique.
  const seen = new Map<string, number>();
  const order = models.map((_, i) => i).sort((a, b) => (models[a].path < models[b].path ? -1 : 1));
  for (const i of order) {
    const n = seen.get(ids[i]) ?? 0;
    seen.set(ids[i], n + 1);
    if (n > 0) ids[i] = `${ids[i]}#${n + 1}`;
  }
  return ids;
}
