/**
 * Counters, gauges and histograms with the Prometheus text exposition format (version 0.0.4).
 * Written here because `prom-client` is not a dependency and this is all the node needs: no
 * summaries, no exemplars, no OpenMetrics.
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels<L extends string> = Record<L, string>;

interface MetricSpec<L extends string> {
  name: string;
  help: string;
  labels?: readonly L[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Metric<L extends string, V> {
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  protected readonly children = new Map<string, { labels: Labels<L>; value: V }>();

  constructor(spec: MetricSpec<L>) {
    if (!NAME.test(spec.name)) throw new TypeError(`invalid metric name ${spec.name}`);
    for (const l of spec.labels ?? []) if (!LABEL.test(l) || l === 'le') throw new TypeError(`invalid label name ${l} on ${spec.name}`);
    this.name = spec.name;
    this.help = spec.help;
    this.labelNames = spec.labels ?? [];
  }

  /** Drops every labelled child (for gauges whose label set is rebuilt at each scrape). */
  reset(): void {
    this.children.clear();
  }

  protected child(labels: Labels<L> | undefined, init: () => V): { labels: Labels<L>; value: V } {
    const given = labels ?? ({} as Labels<L>);
    const key = this.labelNames.map((n) => given[n] ?? '').join('\u0000');
    let c = this.children.get(key);
    if (c === undefined) {
      c = { labels: given, value: init() };
      this.children.set(key, c);
    }
    return c;
  }

  /** Sample lines without the HELP/TYPE header. */
  abstract samples(): string[];

  render(): string {
    const head = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    const lines = this.samples();
    return lines.length === 0 ? head : `${head}${lines.join('\n')}\n`;
  }

  protected line(suffix: string, labels: Labels<L> | undefined, value: number, extra?: [string, string]): string {
    const pairs = this.labelNames.map((n) => `${n}="${escapeLabel((labels as Record<string, string> | undefined)?.[n] ?? '')}"`);
    if (extra !== undefined) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
    return `${this.name}${suffix}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`;
  }
}

/** Only ever goes up (a restart starts it at 0 again, which Prometheus' rate() expects). */
export class Counter<L extends string = never> extends Metric<L, number> {
  readonly type = 'counter';

  inc(labels?: Labels<L>, by = 1): void {
    if (by < 0) throw new RangeError(`counter ${this.name} cannot decrease`);
    this.child(labels, () => 0).value += by;
  }

  /** Mirrors a total counted elsewhere (e.g. gossip verdicts the p2p layer keeps), read at scrape time. */
  setTotal(labels: Labels<L> | undefined, total: number): void {
    this.child(labels, () => 0).value = total;
  }

  samples(): string[] {
    if (this.labelNames.length === 0 && this.children.size === 0) return [this.line('', undefined, 0)];
    return [...this.children.values()].map((c) => this.line('', c.labels, c.value));
  }
}

export class Gauge<L extends string = never> extends Metric<L, number> {
  readonly type = 'gauge';

  set(labels: Labels<L> | undefined, value: number): void {
    this.child(labels, () => 0).value = value;
  }

  samples(): string[] {
    if (this.labelNames.length === 0 && this.children.size === 0) return [this.line('', undefined, 0)];
    return [...this.children.values()].map((c) => this.line('', c.labels, c.value));
  }
}

interface HistogramValue {
  /** Per-bucket (non-cumulative) counts; the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Metric<L, HistogramValue> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(spec: MetricSpec<L> & { buckets: readonly number[] }) {
    super(spec);
    this.buckets = [...spec.buckets].sort((a, b) => a - b);
  }

  observe(labels: Labels<L> | undefined, value: number): void {
    const c = this.child(labels, () => ({ counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 })).value;
    let i = this.buckets.findIndex((b) => value <= b);
    if (i < 0) i = this.buckets.length;
    c.counts[i]!++;
    c.sum += value;
    c.count++;
  }

  samples(): string[] {
    const out: string[] = [];
    for (const { labels, value } of this.children.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += value.counts[i]!;
        out.push(this.line('_bucket', labels, cumulative, ['le', formatValue(b)]));
      });
      out.push(this.line('_bucket', labels, value.count, ['le', '+Inf']));
      out.push(this.line('_sum', labels, value.sum));
      out.push(this.line('_count', labels, value.count));
    }
    return out;
  }
}

type Collector = () => void | Promise<void>;

/** The node's metrics; collectors refresh gauges from services' status() right before a scrape. */
export class Registry {
  private readonly metrics = new Map<string, Metric<string, unknown>>();
  private readonly collectors: Collector[] = [];

  constructor(private readonly onCollectError: (err: Error) => void = () => undefined) {}

  counter<L extends string = never>(spec: MetricSpec<L>): Counter<L> {
    return this.add(new Counter<L>(spec));
  }

  gauge<L extends string = never>(spec: MetricSpec<L>): Gauge<L> {
    return this.add(new Gauge<L>(spec));
  }

  histogram<L extends string = never>(spec: MetricSpec<L> & { buckets: readonly number[] }): Histogram<L> {
    return this.add(new Histogram<L>(spec));
  }

  collect(fn: Collector): void {
    this.collectors.push(fn);
  }

  /** Runs the collectors (a failing one leaves its gauges at their last values), then renders every metric. */
  async exposition(): Promise<string> {
    for (const c of this.collectors) {
      try {
        await c();
      } catch (err) {
        this.onCollectError(err as Error);
      }
    }
    return [...this.metrics.values()].map((m) => m.render()).join('');
  }

  private add<M extends Metric<string, unknown>>(m: M): M {
    if (this.metrics.has(m.name)) throw new TypeError(`metric ${m.name} registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
