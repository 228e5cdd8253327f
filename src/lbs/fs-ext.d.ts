// Minimal typings for the parts of fs-ext birch uses (the package ships none).
declare module 'fs-ext' {
  export function flockSync(fd: number, flags: 'sh' | 'ex' | 'shnb' | 'exnb' | 'un'): void;
}
