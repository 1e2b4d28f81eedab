/** Where a command's output goes, and the plain-text shapes it uses (tables, trees). */
export interface Io {
  /** A line of the command's result (stdout). */
  out(line: string): void;
  /** A diagnostic line (stderr). */
  err(line: string): void;
}

export const processIo: Io = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

/** Exit statuses, as sysexits(3) would have them where one fits. */
export const Exit = {
  OK: 0,
  /** The example or operation ran and reported a failure. */
  FAILED: 1,
  /** Bad command line. */
  USAGE: 2,
  /** Not available here (e.g. a demo the threads runtime cannot run yet). */
  UNAVAILABLE: 69,
  /** A bug: an exception escaped a command. */
  SOFTWARE: 70,
} as const;

/** Columns padded to their widest cell; numbers-only columns align right. */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[\d.]+$/.test(r[i] ?? '')));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
