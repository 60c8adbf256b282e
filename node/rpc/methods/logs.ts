import { z } from 'zod';
import { criteriaOf, queryLogs } from '../logs.ts';
import { method } from '../method.ts';
import { zFilter } from '../schemas.ts';

const zId = z.string().regex(/^0x[0-9a-fA-F]+$/, 'invalid filter id');

export const logMethods = {
  eth_getLogs: method([zFilter], ([f], b) => queryLogs(b, f)),
  eth_newFilter: method([zFilter], ([f], b, s) => b.filters.newLogFilter(s.client, f, criteriaOf(f, b.options.logQueryLimit))),
  eth_newBlockFilter: method([], (_a, b, s) => b.filters.newBlockFilter(s.client)),
  eth_newPendingTransactionFilter: method([], (_a, b, s) => b.filters.newPendingTxFilter(s.client)),
  eth_uninstallFilter: method([zId], ([id], b) => b.filters.uninstall(id)),
  eth_getFilterChanges: method([zId], ([id], b) => b.filters.poll(id)),
  eth_getFilterLogs: method([zId], async ([id], b) => {
    const f = b.filters.get(id);
    if (f === undefined || f.kind !== 'log') throw b.filters.notFound(id);
    b.filters.poll(id);
    return queryLogs(b, f.param);
  }),
};
