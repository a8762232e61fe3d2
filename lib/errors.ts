/**
 * Error classes. Native code throws coded errors (`code` = E_*); `fromNative` maps them to
 * these classes so callers can `instanceof` them. Every error about a file names the file.
 */

export class PhylogenyError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly tensor?: string;
  constructor(code: string, message: string, opts: { file?: string; tensor?: string; cause?: unknown } = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    if (opts.file !== undefined) this.file = opts.file;
    if (opts.tensor !== undefined) this.tensor = opts.tensor;
    if (opts.cause !== undefined) (this as { cause?: unknown }).cause = opts.cause;
  }
}

/** A file breaks the safetensors format or a shard index is invalid. */
export class FormatError extends PhylogenyError {}
/** A file cannot be opened or read. */
export class IoError extends PhylogenyError {}
/** A tensor's dtype cannot be scanned. */
export class DtypeError extends PhylogenyError {}
/** The operation was cancelled through an AbortSignal. */
export class AbortError extends PhylogenyError {}
/** A caller passed an option or argument that is not accepted. */
export class InvalidArgumentError extends PhylogenyError {}
/** CUDA was asked for but is not usable, or a CUDA call failed. */
export class CudaError extends PhylogenyError {}
/** A fingerprint index (lib/hub) is not one, is damaged, or was written by another version. */
export class IndexError extends PhylogenyError {}

const byCode: Record<string, new (code: string, message: string, opts?: { file?: string; tensor?: string; cause?: unknown }) => PhylogenyError> = {
  E_FORMAT: FormatError,
  E_IO: IoError,
  E_DTYPE: DtypeError,
  E_ABORTED: AbortError,
  E_INVALID_ARG: InvalidArgumentError,
  E_NO_CUDA: CudaError,
  E_CUDA: CudaError,
};

/** Converts an error thrown by the addon into the matching PhylogenyError subclass. */
export function fromNative(err: unknown): Error {
  if (err instanceof PhylogenyError) return err;
  const e = err as { code?: unknown; message?: unknown; file?: unknown; tensor?: unknown };
  if (e && typeof e.code === 'string' && e.code.startsWith('E_')) {
    const Cls = byCode[e.code] ?? PhylogenyError;
    return new Cls(e.code, String(e.message), {
      file: typeof e.file === 'string' ? e.file : undefined,
      tensor: typeof e.tensor === 'string' ? e.tensor : undefined,
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}
