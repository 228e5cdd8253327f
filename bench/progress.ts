/**
 * The live progress line on stderr: rewritten in place a few times a second
 * while a long phase (generating data, loading, measuring) runs. Shown only
 * when stderr is a terminal; notes (a skipped engine, an error) are printed
 * either way.
 */
export interface ErrStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** Seconds between two redraws of the line. */
const REDRAW_SECONDS = 0.25;

export class Progress {
  private shown = false;
  constructor(
    private readonly err: ErrStream,
    private readonly live = err.isTTY === true,
  ) {}

  /** A driver onTick callback that draws "[engine] phase  done/total unit  rate". */
  tracker(engine: string, phase: string, unit: string, total?: number): (done: number, elapsed: number) => void {
    let lastDraw = -Infinity;
    let lastDone = 0;
    let lastElapsed = 0;
    return (done, elapsed) => {
      if (!this.live || elapsed - lastDraw < REDRAW_SECONDS) return;
      const rate = elapsed > lastElapsed ? (done - lastDone) / (elapsed - lastElapsed) : 0;
      lastDraw = elapsed;
      lastDone = done;
      lastElapsed = elapsed;
      const count = total === undefined ? `${fmtInt(done)} ${unit}` : `${fmtInt(done)}/${fmtInt(total)} ${unit} (${Math.floor((100 * done) / Math.max(total, 1))}%)`;
      const rss = Math.round(process.memoryUsage.rss() / 2 ** 20);
      this.draw(`[${engine}] ${phase}: ${count}, ${fmtInt(rate)} ${unit}/s, ${elapsed.toFixed(1)} s, rss ${rss} MiB`);
    };
  }

  /** Shows a one-off status (e.g. "generating data") until the next draw. */
  status(text: string): void {
    if (this.live) this.draw(text);
  }

  /** A permanent line on stderr. */
  note(text: string): void {
    this.clear();
    this.err.write(`${text}\n`);
  }

  clear(): void {
    if (this.shown) {
      this.err.write('\r\x1b[K');
      this.shown = false;
    }
  }

  private draw(text: string): void {
    const columns = (this.err as { columns?: number }).columns;
    const width = columns !== undefined && columns > 20 ? columns - 1 : 119;
    this.err.write(`\r\x1b[K${text.slice(0, width)}`);
    this.shown = true;
  }
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
