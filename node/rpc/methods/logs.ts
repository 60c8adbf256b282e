import { z } from 'zod';
import { RpcCode, RpcError } from '../errors.ts';
import { criteriaOf, queryLogs } from '../logs.ts';
import { method } from '../method.ts';
import { zFilter } from '../schemas.ts';

const zId = z.string().regex(/^0x[0-9a-fA-F]+$/, 'invalid filter id');
const notFound = () => new RpcError(RpcCode.Server, 'filter not found');

export const logMethods = {
  eth_getLogs: method([zFilter], ([f], b) => queryLogs(b, f)),
  eth_newFilter: method([zFilter], ([f], b) => b.filters.newLogFilter(f, criteriaOf(f))),
  eth_newBlockFilter: method([], (_a, b) => b.filters.newBlockFilter()),
  eth_newPendingTransactionFilter: method([], (_a, b) => b.filters.newPendingTxFilter()),
  eth_uninstallFilter: method([zId], ([id], b) => b.filters.uninstall(id)),
  eth_getFilterChanges: method([zId], ([id], b) => {
    const changes = b.filters.poll(id);
    if (changes === undefined) throw notFound();
    return changes;
  }),
  eth_getFilterLogs: method([zId], async ([id], b) => {
    const f = b.filters.get(id);
    if (f === undefined || f.kind !== 'log') throw notFound();
    b.filters.poll(id);
    return queryLogs(b, f.param);
  }),
};
