/** The cleaner layer. @internal */
export { Cleaner, type CleanerOptions, type CleanerStats } from './cleaner.js';
export { CleaningDebt } from './debt.js';
