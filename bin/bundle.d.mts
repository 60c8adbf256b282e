/** Writes `<outDir>/cli.js` (and its lazily loaded chunks); answers its path. */
export function bundleCli(outDir: string): Promise<string>;
/** Where `npm run build:client` writes the SDK (package.json's "./client" export). */
export declare const CLIENT_DIST: string;
/** Writes the dApp SDK as `<outDir>/index.js`; answers its path. */
export declare function bundleClient(outDir: string): Promise<string>;
