/**
 * The explorer's pictures, as inline SVG drawn on the server (no script, no external asset): a
 * bar chart for a series over blocks or requests, and a model's lineage as a small graph.
 */
import { html } from './html.ts';

export interface Bar {
  label: string;
  value: number;
  /** Where a click on the bar goes. */
  href?: string;
}

/** Bars scaled to the largest value (or `max`), with the axis' top value written out. */
export function barChart(title: string, bars: Bar[], opts: { unit?: string; max?: number; width?: number; height?: number } = {}) {
  const width = opts.width ?? 720;
  const height = opts.height ?? 140;
  const top = opts.max ?? Math.max(1, ...bars.map((b) => b.value));
  const pad = 22;
  const w = bars.length === 0 ? 0 : (width - pad) / bars.length;
  const unit = opts.unit ?? '';
  return html`<figure>
    <figcaption>${title}</figcaption>
    <svg viewBox=${`0 0 ${width} ${height + pad}`} width=${width} height=${height + pad} role="img" aria-label=${title}>
      <text x="2" y="12" font-size="10" fill="#667085">${fmt(top)}${unit}</text>
      <line x1=${pad} y1=${height} x2=${width} y2=${height} stroke="#e4e7ec" />
      ${bars.map((b, i) => {
        const hgt = Math.max(b.value > 0 ? 1 : 0, (Math.min(b.value, top) / top) * (height - 16));
        const rect = html`<rect x=${pad + i * w + 1} y=${height - hgt} width=${Math.max(1, w - 2)} height=${hgt} fill="#3856d6"
          ><title>${b.label}: ${fmt(b.value)}${unit}</title></rect
        >`;
        return b.href === undefined ? rect : html`<a href=${b.href}>${rect}</a>`;
      })}
      ${bars.length > 0 ? html`<text x=${pad} y=${height + 14} font-size="10" fill="#667085">${bars[0]!.label}</text>` : null}
      ${bars.length > 1 ? html`<text x=${width - 4} y=${height + 14} font-size="10" fill="#667085" text-anchor="end">${bars.at(-1)!.label}</text>` : null}
    </svg>
  </figure>`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(2);
}

export interface LineageNode {
  id: string;
  label: string;
  parent?: string;
  current: boolean;
  href: string;
}

/** A model's versions as a tree: ancestors in a column down to it, its children beside their parent. */
export function lineageGraph(nodes: LineageNode[]) {
  const depth = new Map<string, number>();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const level = (n: LineageNode, guard = 0): number => {
    const known = depth.get(n.id);
    if (known !== undefined) return known;
    const p = n.parent === undefined ? undefined : byId.get(n.parent);
    const d = p === undefined || guard > 64 ? 0 : level(p, guard + 1) + 1;
    depth.set(n.id, d);
    return d;
  };
  for (const n of nodes) level(n);
  const column = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const d = depth.get(n.id)!;
    const c = column.get(d) ?? 0;
    column.set(d, c + 1);
    pos.set(n.id, { x: 10 + c * 190, y: 10 + d * 60 });
  }
  const width = 20 + Math.max(1, ...column.values()) * 190;
  const height = 20 + (Math.max(0, ...depth.values()) + 1) * 60;
  return html`<figure>
    <figcaption>Lineage</figcaption>
    <svg viewBox=${`0 0 ${width} ${height}`} width=${width} height=${height} role="img" aria-label="Model lineage">
      ${nodes.map((n) => {
        const p = n.parent === undefined ? undefined : pos.get(n.parent);
        const me = pos.get(n.id)!;
        return p === undefined ? null : html`<line x1=${p.x + 85} y1=${p.y + 36} x2=${me.x + 85} y2=${me.y} stroke="#98a2b3" />`;
      })}
      ${nodes.map((n) => {
        const { x, y } = pos.get(n.id)!;
        return html`<a href=${n.href}
          ><rect x=${x} y=${y} width="170" height="36" rx="6" fill=${n.current ? '#3856d6' : '#eef1fb'} stroke="#3856d6" /><text
            x=${x + 85}
            y=${y + 22}
            font-size="11"
            text-anchor="middle"
            fill=${n.current ? '#fff' : '#1d2330'}
            >${n.label}</text
          ></a
        >`;
      })}
    </svg>
  </figure>`;
}
