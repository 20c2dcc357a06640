/**
 * Minimal SVG plots written by the benchmarks themselves (docs/img/*.svg): the figures in the docs
 * come from the runs that printed the tables, not from a separate tool. Lines/points with vertical
 * markers (a fault, a notification), and grouped bars. No dependency: the SVG is a few elements.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** docs/img/ of the repository (this file runs as dist/bench/lib/plot.js). */
export const IMG_DIR = fileURLToPath(new URL('../../../docs/img/', import.meta.url));

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];
const W = 800;
const H = 360;
const M = { top: 40, right: 20, bottom: 50, left: 64 };

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  /** Points only (no line), for discrete events such as check results. */
  readonly dots?: boolean;
  /** Draw as a step function (a state that holds until the next point). */
  readonly step?: boolean;
}

export interface Marker {
  readonly x: number;
  readonly label: string;
  readonly color?: string;
}

export interface LinePlot {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly markers?: readonly Marker[];
  readonly yMin?: number;
  readonly yMax?: number;
}

export interface BarPlot {
  readonly title: string;
  readonly yLabel: string;
  /** One group per category on the x axis. */
  readonly categories: readonly string[];
  /** Each bar series gives one value per category (NaN: no bar). */
  readonly series: readonly { readonly name: string; readonly values: readonly number[] }[];
  /** Horizontal reference lines (a floor, a goal). */
  readonly lines?: readonly { readonly y: number; readonly label: string }[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Round tick values covering [min, max]: 1, 2 or 5 times a power of ten apart. */
function ticks(min: number, max: number, count = 6): number[] {
  const span = max - min || 1;
  const raw = span / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

function frame(title: string, xLabel: string, yLabel: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(14 ${H / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function legend(names: readonly string[]): string[] {
  return names.map(
    (name, i) =>
      `<rect x="${M.left + 10 + i * 150}" y="${M.top - 12}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/>` +
      `<text x="${M.left + 24 + i * 150}" y="${M.top - 3}">${esc(name)}</text>`,
  );
}

export function linePlotSvg(plot: LinePlot): string {
  const xs = plot.series.flatMap((s) => s.points.map((p) => p[0])).concat((plot.markers ?? []).map((m) => m.x));
  const ys = plot.series.flatMap((s) => s.points.map((p) => p[1]));
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, x0 + 1);
  const y0 = plot.yMin ?? Math.min(0, ...ys);
  const y1 = plot.yMax ?? Math.max(...ys, y0 + 1) * 1.05;
  const px = (x: number): number => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number): number => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const body: string[] = [];
  for (const t of ticks(y0, y1)) {
    body.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${num(py(t))}" y2="${num(py(t))}" stroke="#eee"/>`);
    body.push(`<text x="${M.left - 6}" y="${num(py(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  for (const t of ticks(x0, x1, 10)) {
    body.push(`<text x="${num(px(t))}" y="${H - M.bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  body.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
  body.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  plot.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] ?? '#000';
    if (s.dots) {
      for (const [x, y] of s.points) body.push(`<circle cx="${num(px(x))}" cy="${num(py(y))}" r="2.5" fill="${color}"/>`);
      return;
    }
    const pts: string[] = [];
    let prevY: number | undefined;
    for (const [x, y] of s.points) {
      if (s.step && prevY !== undefined) pts.push(`${num(px(x))},${num(py(prevY))}`);
      pts.push(`${num(px(x))},${num(py(y))}`);
      prevY = y;
    }
    body.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
  });
  (plot.markers ?? []).forEach((m, i) => {
    const x = num(px(m.x));
    const color = m.color ?? '#555';
    body.push(`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${H - M.bottom}" stroke="${color}" stroke-dasharray="4 3"/>`);
    body.push(`<text x="${Number(x) + 3}" y="${M.top + 12 + (i % 4) * 13}" fill="${color}">${esc(m.label)}</text>`);
  });
  body.push(...legend(plot.series.map((s) => s.name)));
  return frame(plot.title, plot.xLabel, plot.yLabel, body);
}

export function barPlotSvg(plot: BarPlot): string {
  const values = plot.series.flatMap((s) => s.values).filter(Number.isFinite);
  const y1 = Math.max(...values, ...(plot.lines ?? []).map((l) => l.y), 1) * 1.1;
  const py = (y: number): number => H - M.bottom - (y / y1) * (H - M.top - M.bottom);
  const groupW = (W - M.left - M.right) / Math.max(1, plot.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, plot.series.length);
  const body: string[] = [];
  for (const t of ticks(0, y1)) {
    body.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${num(py(t))}" y2="${num(py(t))}" stroke="#eee"/>`);
    body.push(`<text x="${M.left - 6}" y="${num(py(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  plot.categories.forEach((c, ci) => {
    const gx = M.left + ci * groupW + groupW * 0.1;
    body.push(`<text x="${num(gx + groupW * 0.4)}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(c)}</text>`);
    plot.series.forEach((s, si) => {
      const v = s.values[ci] ?? Number.NaN;
      if (!Number.isFinite(v)) return;
      const x = gx + si * barW;
      body.push(
        `<rect x="${num(x)}" y="${num(py(v))}" width="${num(barW - 2)}" height="${num(py(0) - py(v))}" fill="${PALETTE[si % PALETTE.length]}"/>`,
        `<text x="${num(x + barW / 2)}" y="${num(py(v) - 3)}" text-anchor="middle" font-size="10">${num(v)}</text>`,
      );
    });
  });
  for (const l of plot.lines ?? []) {
    body.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${num(py(l.y))}" y2="${num(py(l.y))}" stroke="#555" stroke-dasharray="4 3"/>`);
    body.push(`<text x="${W - M.right - 4}" y="${num(py(l.y) - 4)}" text-anchor="end" fill="#555">${esc(l.label)}</text>`);
  }
  body.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  body.push(...legend(plot.series.map((s) => s.name)));
  return frame(plot.title, '', plot.yLabel, body);
}

/** Writes an SVG (creating its directory) and returns the path, for the benchmark's output. */
export function writeSvg(path: string, svg: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
  return path;
}
