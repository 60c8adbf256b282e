import { ExecutionBudget } from '../chain/execution-budget.ts';
import { RpcCode, RpcError } from './errors.ts';

/**
 * Admission and scheduling of EVM work that callers ask for and nobody pays for (eth_call,
 * eth_estimateGas): a bounded number run at once, each client (a WebSocket connection, or an IP
 * over HTTP) has at most `perClient` of them running and the rest waiting in its own queue, and
 * clients take turns, so one client's batch of a thousand calls delays nobody else's. Each call runs
 * under an ExecutionBudget: `timeoutMs` of wall time from when it starts (geth's
 * --rpc.evmtimeout), never past the end of the request it came in (`requestDeadline`), and held
 * while the node builds a block (`pause`).
 */
export interface CallGateOptions {
  /** Wall-clock limit of one call (geth --rpc.evmtimeout: 5 s); 0: none. */
  timeoutMs: number;
  /** Calls executing at once, all clients together. */
  maxConcurrent: number;
  /** Calls of one client executing at once; its others wait their turn. */
  perClient: number;
  /** Calls one client may have waiting (a full JSON-RPC batch fits). */
  maxQueuedPerClient: number;
  /** Calls waiting, all clients together. */
  maxQueued: number;
}

export const defaultCallGateOptions: CallGateOptions = {
  timeoutMs: 5_000,
  maxConcurrent: 4,
  perClient: 2,
  maxQueuedPerClient: 1_000,
  maxQueued: 8_192,
};

interface Waiter {
  start(): void;
  /** The request this call came in has ended: it will never run. */
  deadline: number;
  fail(err: Error): void;
}

interface ClientState {
  running: number;
  queue: Waiter[];
}

/** geth's errcodeTimeout (-32002) and message for work a request's time ran out on. */
export const requestTimedOut = (): RpcError => new RpcError(-32002, 'request timed out');

export class CallGate {
  private running = 0;
  private queued = 0;
  private readonly clients = new Map<string, ClientState>();
  /** Clients with waiting calls, in turn order. */
  private readonly turns: string[] = [];

  constructor(
    private readonly opts: CallGateOptions,
    /** While it returns a promise (a block is being built), running calls wait for it. */
    private readonly pause: () => Promise<void> | undefined = () => undefined,
  ) {}

  get stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.queued };
  }

  /** Runs `work` when a slot is free for `client`; `requestDeadline` is when the caller's request ends. */
  async run<T>(client: string, requestDeadline: number, work: (budget: ExecutionBudget) => Promise<T>): Promise<T> {
    const c = this.client(client);
    if (c.running >= this.opts.perClient || this.running >= this.opts.maxConcurrent) await this.enqueue(client, c, requestDeadline);
    else {
      c.running++;
      this.running++;
    }
    try {
      // 0 turns the limit off, as in geth
      const own = this.opts.timeoutMs > 0 ? Date.now() + this.opts.timeoutMs : Number.POSITIVE_INFINITY;
      const deadline = Math.min(own, requestDeadline);
      return await work(new ExecutionBudget(deadline, this.opts.timeoutMs, this.pause));
    } finally {
      c.running--;
      this.running--;
      this.forget(client, c);
      this.next();
    }
  }

  private client(id: string): ClientState {
    let c = this.clients.get(id);
    if (c === undefined) {
      c = { running: 0, queue: [] };
      this.clients.set(id, c);
    }
    return c;
  }

  private enqueue(id: string, c: ClientState, deadline: number): Promise<void> {
    if (c.queue.length >= this.opts.maxQueuedPerClient) {
      this.forget(id, c);
      throw new RpcError(RpcCode.LimitExceeded, `too many pending calls from this client: ${this.opts.maxQueuedPerClient} waiting`);
    }
    if (this.queued >= this.opts.maxQueued) {
      this.forget(id, c);
      throw new RpcError(RpcCode.LimitExceeded, `too many pending calls: ${this.opts.maxQueued} waiting`);
    }
    return new Promise<void>((resolve, reject) => {
      c.queue.push({ start: resolve, fail: reject, deadline });
      this.queued++;
      if (!this.turns.includes(id)) this.turns.push(id);
    });
  }

  /** Starts waiting calls while slots are free, one client at a time in turn. */
  private next(): void {
    let scanned = 0;
    while (this.running < this.opts.maxConcurrent && this.turns.length > 0 && scanned < this.turns.length) {
      const id = this.turns.shift()!;
      const c = this.clients.get(id)!;
      const w = c.running < this.opts.perClient ? c.queue.shift() : undefined;
      if (c.queue.length > 0) this.turns.push(id);
      if (w === undefined) {
        scanned++;
        continue;
      }
      scanned = 0;
      this.queued--;
      if (Date.now() > w.deadline) {
        w.fail(requestTimedOut());
        this.forget(id, c);
        continue;
      }
      c.running++;
      this.running++;
      w.start();
    }
  }

  private forget(id: string, c: ClientState): void {
    if (c.running === 0 && c.queue.length === 0) this.clients.delete(id);
  }
}
