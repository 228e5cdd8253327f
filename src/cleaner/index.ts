/** The cleaner layer. @internal */
export { Cleaner, DEFAULT_SPACE_TARGET, type CleanerOptions, type CleanerStats } from './cleaner.js';
export { CleaningDebt } from './debt.js';
export { Purger, type PurgerOptions, type PurgerStats } from './purger.js';
