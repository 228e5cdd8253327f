/**
 * Redis's glob patterns (KEYS, SCAN MATCH), as util.c's stringmatchlen
 * defines them, on bytes: `*` any run, `?` one byte, `[abc]`, `[^abc]`,
 * `[a-z]` (either order), `\x` the byte x. Bytes compare unsigned.
 *
 * literalPrefix() gives the bytes every match starts with, so a scan can
 * read only that part of the key space (`user:*` reads the keys from
 * `user:` to `user;`).
 *
 * @internal
 */

/** Whether `str` matches `pattern`. */
export function globMatch(pattern: Uint8Array, str: Uint8Array): boolean {
  const skip = { longer: false };
  return match(pattern, 0, str, 0, skip, 0);
}

function match(p: Uint8Array, pi: number, s: Uint8Array, si: number, skip: { longer: boolean }, nesting: number): boolean {
  // Protection against abusive patterns (as Redis).
  if (nesting > 1000) return false;
  const pl = p.length;
  const sl = s.length;
  while (pi < pl && si < sl) {
    const c = p[pi]!;
    if (c === 0x2a) {
      // '*': collapse runs, then try every suffix of the string.
      while (pi + 1 < pl && p[pi + 1] === 0x2a) pi++;
      if (pi + 1 === pl) return true;
      while (si < sl) {
        if (match(p, pi + 1, s, si, skip, nesting + 1)) return true;
        if (skip.longer) return false;
        si++;
      }
      // No suffix matched the rest: no longer match of an earlier '*' can.
      skip.longer = true;
      return false;
    } else if (c === 0x3f) {
      si++;
    } else if (c === 0x5b) {
      pi++;
      const not = pi < pl && p[pi] === 0x5e;
      if (not) pi++;
      let matched = false;
      const b = s[si]!;
      for (;;) {
        if (pi >= pl) {
          // An unterminated class: as Redis, it ends at the pattern's end.
          pi--;
          break;
        }
        const q = p[pi]!;
        if (q === 0x5c && pi + 1 < pl) {
          pi++;
          if (p[pi] === b) matched = true;
        } else if (q === 0x5d) {
          break;
        } else if (pi + 2 < pl && p[pi + 1] === 0x2d) {
          let lo = q;
          let hi = p[pi + 2]!;
          if (lo > hi) [lo, hi] = [hi, lo];
          if (b >= lo && b <= hi) matched = true;
          pi += 2;
        } else if (q === b) {
          matched = true;
        }
        pi++;
      }
      if (not) matched = !matched;
      if (!matched) return false;
      si++;
    } else {
      let lit = c;
      if (c === 0x5c && pi + 1 < pl) {
        pi++;
        lit = p[pi]!;
      }
      if (lit !== s[si]) return false;
      si++;
    }
    pi++;
    if (si === sl) {
      while (pi < pl && p[pi] === 0x2a) pi++;
      break;
    }
  }
  return pi === pl && si === sl;
}

/** The bytes every string matching `pattern` starts with (possibly none). */
export function literalPrefix(pattern: Uint8Array): Buffer {
  const out: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === 0x2a || c === 0x3f || c === 0x5b) break;
    if (c === 0x5c) {
      if (i + 1 >= pattern.length) break; // a trailing '\' matches itself, but keep it simple
      out.push(pattern[++i]!);
      continue;
    }
    out.push(c);
  }
  return Buffer.from(out);
}

/** Whether the pattern is exactly `*`, which Redis takes as "every key"
 * (globMatch itself, as Redis's, does not match `*` against an empty key). */
export function matchesAll(pattern: Uint8Array): boolean {
  return pattern.length === 1 && pattern[0] === 0x2a;
}
