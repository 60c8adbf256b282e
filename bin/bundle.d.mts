/** Writes `<outDir>/cli.js` (and its lazily loaded chunks); answers its path. */
export function bundleCli(outDir: string): Promise<string>;
