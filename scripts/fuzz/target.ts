/** What a fuzz target is: one reader of one file format. */
export interface FuzzTarget {
  /** Format name, as given to `npm run fuzz -- --target`. */
  name: string;
  /** Valid files every mutation starts from (may write scratch files under `dir`). */
  seeds(dir: string): Buffer[];
  /**
   * Reads the file at `path` (whose bytes are `bytes`). Returns when the reader accepted it and
   * the result obeys the format (checked independently of the reader); throws the reader's
   * error when it refused; throws a plain Error when it accepted something invalid.
   */
  check(path: string, bytes: Buffer): void;
  /**
   * A structure-aware mutation (optional): formats whose bytes are compressed or nested
   * (a zip around a pickle) are rarely reached by byte edits alone, so half of the cases
   * use this instead of the generic mutator when a target has one.
   */
  mutate?(seed: Buffer, rand: () => number): Buffer;
}
