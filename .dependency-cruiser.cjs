/**
 * The import rules of docs/contributing/architecture.md, checked by `npm test`
 * (`depcruise --config .dependency-cruiser.cjs node sequencer prover precompiles contracts devnet bin client`).
 * Floors, from the ground up: precompiles/ (consensus code, the model executor), contracts/
 * (sources, artifacts, typed ABIs), node/ core (everything both roles run, node/rollup/ the pure
 * protocol rules), then the roles sequencer/ and prover/, then the composition roots:
 * node/assembly/, node/cli/, devnet/.
 */
const ROOTS = '^(node/assembly|node/cli|devnet|bench|test)/';
const CORE = '^node/(?!assembly/|cli/)';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no import cycles between files', from: {}, to: { circular: true } },
    {
      name: 'precompiles-is-the-ground',
      severity: 'error',
      comment: 'precompiles/ is what every node runs in consensus: it imports nothing else of the project',
      from: { path: '^precompiles/' },
      to: { path: '^(node|sequencer|prover|contracts|devnet|bench|test)/' },
    },
    {
      name: 'contracts-below-the-node',
      severity: 'error',
      comment: 'contracts/ (sources, artifacts, ABIs) imports only precompiles/',
      from: { path: '^contracts/' },
      to: { path: '^(node|sequencer|prover|devnet|bench|test)/' },
    },
    {
      name: 'node-core-knows-no-role',
      severity: 'error',
      comment: 'the node both roles run never imports a role (sequencer/, prover/) or a composition root',
      from: { path: CORE },
      to: { path: `^(sequencer|prover)/|${ROOTS}` },
    },
    {
      name: 'rollup-rules-are-pure',
      severity: 'error',
      comment: 'node/rollup/ holds protocol rules: it reads only node/chain, precompiles/ and contracts/ (no I/O services)',
      from: { path: '^node/rollup/' },
      to: { path: '^node/(?!rollup/|chain/|db/)' },
    },
    {
      name: 'sequencer-is-a-role',
      severity: 'error',
      comment: 'the sequencer gets aggregation injected: it never imports the prover, nor the composition roots',
      from: { path: '^sequencer/' },
      to: { path: `^prover/|${ROOTS}` },
    },
    {
      name: 'prover-is-a-role',
      severity: 'error',
      comment: 'the prover never imports the sequencer, nor the composition roots',
      from: { path: '^prover/' },
      to: { path: `^sequencer/|${ROOTS}` },
    },
    {
      name: 'assembly-below-the-cli',
      severity: 'error',
      comment: 'node/assembly/ builds a node; the CLI and devnet start one',
      from: { path: '^node/assembly/' },
      to: { path: '^(node/cli|devnet|bench|test)/' },
    },
    {
      name: 'client-stands-alone',
      severity: 'error',
      comment: 'client/ (the dApp SDK, ai-rollup/client) runs in a dApp, not a node: it reads ABIs, addresses, the pure protocol rules and the L1-only result checker',
      from: { path: '^client/' },
      to: { path: '^(node/(?!rollup/|l1/result-check\\.ts$)|(sequencer|prover|devnet|bench|test|bin)/)' },
    },
    {
      name: 'nothing-runs-on-the-sdk',
      severity: 'error',
      comment: 'the node, its roles and contracts never import the SDK (tests and benches may)',
      from: { path: '^(node|sequencer|prover|precompiles|contracts|devnet)/' },
      to: { path: '^client/' },
    },
    {
      name: 'no-tests-in-code',
      severity: 'error',
      from: { path: '^(node|sequencer|prover|precompiles|contracts|devnet|bin|client)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|\\.cache)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js'] },
  },
};
