/**
 * The cleaning debt (kivaloo's model), as plain arithmetic with no clock of
 * its own so that tests can drive it.
 *
 * Units. A *page* is one block. `rate` is in 1/second: the `cleaning` option
 * R is the storage-to-I/O cost ratio, "what keeping one page of garbage on
 * disk for one second costs, in units of the cost of writing one page", so
 *
 *   garbage cost per second       = R * G          (page writes / s)
 *   G = pagesOnDisk - pagesLive                     (pages)
 *
 * and spending as much on cleaning I/O as the garbage costs means rewriting
 * R * G pages per second. Each tick of dt seconds therefore adds
 *
 *   debt += R * dt * G                              (pages)
 *
 * Rewriting a page pays the debt by the page's *relative age*,
 *
 *   age = (nextBlock - blockNo) / pagesOnDisk                (0 ... 1)
 *
 * the fraction of the log that lies above it: rewriting the oldest page
 * counts as one whole clean, a page written a moment ago as almost nothing
 * (recently written pages are somewhat more likely to be written again).
 * Both the cleaner's own rewrites and those of ordinary writes count. The debt is
 * kept within -pagesLive ... +pagesLive, so neither a long idle spell nor a
 * burst of writes piles up unbounded credit or work.
 *
 * @internal
 */
export class CleaningDebt {
  debt = 0;
  private last: number | undefined;

  constructor(readonly rate: number) {}

  /** Time passes: add rate * dt * garbage. `nowMs` is a clock reading in ms. */
  tick(nowMs: number, pagesOnDisk: number, pagesLive: number): void {
    const dt = this.last === undefined ? 0 : Math.max(0, (nowMs - this.last) / 1000);
    this.last = nowMs;
    const garbage = Math.max(0, pagesOnDisk - pagesLive);
    this.debt += this.rate * dt * garbage;
    this.clamp(pagesLive);
  }

  /** Pages at `blocks` were rewritten: pay by their relative ages. */
  credit(blocks: readonly number[], pagesOnDisk: number, nextBlock: number, pagesLive: number): number {
    const span = pagesOnDisk;
    if (span <= 0 || blocks.length === 0) return 0;
    let paid = 0;
    for (const b of blocks) paid += Math.min(1, Math.max(0, (nextBlock - b) / span));
    this.debt -= paid;
    this.clamp(pagesLive);
    return paid;
  }

  private clamp(pagesLive: number): void {
    if (this.debt > pagesLive) this.debt = pagesLive;
    if (this.debt < -pagesLive) this.debt = -pagesLive;
  }
}
