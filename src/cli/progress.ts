/**
 * Progress of a long command (backup, dump, load) on stderr: on a terminal,
 * one line redrawn in place; otherwise a line at most every `every` seconds
 * (so a log file gets a few lines, not thousands). Nothing before the first
 * `every` seconds, so quick runs print nothing.
 *
 * @internal
 */
export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
}

export class ProgressLine {
  private readonly t0 = performance.now();
  private last = 0;
  private drawn = false;

  constructor(
    private readonly err: ProgressSink,
    private readonly label: string,
    private readonly every = 1,
    private readonly enabled = true,
  ) {}

  /** Seconds since the start. */
  get seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Report `text()` (e.g. "1,234 pairs"), if it is time to. */
  update(text: () => string): void {
    if (!this.enabled) return;
    const t = this.seconds;
    if (t - this.last < this.every) return;
    this.last = t;
    this.drawn = true;
    const line = `${this.label}: ${text()}, ${t.toFixed(1)} s`;
    if (this.err.isTTY === true) this.err.write(`\r${line}\x1b[K`);
    else this.err.write(line + '\n');
  }

  /** End the line; `text`, if given, is the last report (printed if anything was). */
  done(text?: string): void {
    if (!this.enabled || !this.drawn) return;
    if (text !== undefined) {
      const line = `${this.label}: ${text}, ${this.seconds.toFixed(1)} s`;
      this.err.write(this.err.isTTY === true ? `\r${line}\x1b[K\n` : line + '\n');
    } else if (this.err.isTTY === true) {
      this.err.write('\n');
    }
  }
}

/** 1234567 -> "1,234,567". */
export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes for people: 1536 -> "1.5 KiB". */
export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
