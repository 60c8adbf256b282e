/**
 * `ai-rollup explorer --rpc URL`: the explorer on its own port, reading any node's JSON-RPC (a
 * remote one, or a node started with --no-explorer). The same pages a node serves at /explorer.
 */
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../logger.ts';

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number, 0..65535');
  return n;
};

export function explorerCommand(): Command {
  return new Command('explorer')
    .description("serve the block explorer for a node's JSON-RPC on a port of its own")
    .requiredOption('--rpc <url>', 'the node JSON-RPC to read (HTTP)')
    .option('--addr <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port (0 picks a free one)', port, 4000)
    .action(async (f: { rpc: string; addr: string; port: number }) => {
      if (!/^https?:\/\//.test(f.rpc)) throw new InvalidArgumentError('--rpc must be an http(s) URL');
      const logger = createLogger('info').child({ module: 'explorer' });
      // loaded here so the other commands do not pay for the pages and their ABIs
      const [{ default: Fastify }, { explorerRoutes }, { ExplorerRpc }] = await Promise.all([import('fastify'), import('../explorer/routes.ts'), import('../explorer/rpc.ts')]);
      const rpc = new ExplorerRpc(f.rpc);
      const app = Fastify({ logger: false });
      app.get('/', async (_req, reply) => reply.redirect('/explorer/', 302));
      await app.register(async (scope) => explorerRoutes(scope, { rpc: () => rpc, logger }), { prefix: '/explorer' });
      const at = await app.listen({ host: f.addr, port: f.port });
      logger.info({ url: `${at}/explorer/`, rpc: f.rpc }, 'explorer started');
      process.stdout.write(`Explorer: ${at}/explorer/\n`);
      const stop = () => void app.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
