/**
 * The per-miss comparison as an SVG bar chart (BENCHMARKS.md links it): for each workload one
 * bar of edge-resizer's CPU per miss, split by phase, and one bar of the Pillow anchor. Pure.
 */
import { cpus } from "node:os";
import sharp from "sharp";
import { PHASES, PHASE_LABELS, phaseMedians, type ProfileOutput } from "./miss-profile-child.js";

export interface ChartRow {
  workload: { label: string };
  own?: ProfileOutput;
  pillow?: { cpuMs: number };
}

const COLOURS: Record<string, string> = { get: "#9ecae1", render: "#3182bd", put: "#fdae6b", answer: "#e6550d", pillow: "#74c476" };
const BAR = 18;
const LEFT = 330;
const PLOT = 520;

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function text(x: number, y: number, body: string, extra = ""): string {
  return `<text x="${x}" y="${y}" ${extra}>${escapeXml(body)}</text>`;
}

export function missChartSvg(results: ChartRow[], facts: { date: string }): string {
  const measured = results.filter((r) => r.own);
  const rowHeight = 2 * BAR + 26;
  const top = 70;
  const height = top + measured.length * rowHeight + 60;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${LEFT + PLOT + 200}" height="${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(
    text(
      10,
      20,
      "CPU ms per origin-response miss (built bundle, S3 over HTTP) vs Pillow doing thumbor's engine work",
      'font-weight="bold" font-size="14"',
    ),
  );
  const machine = `${cpus()[0]?.model.trim() ?? "?"}, ${cpus().length} cores; Node ${process.version}; sharp ${sharp.versions.sharp ?? "?"} / libvips ${sharp.versions.vips}; ${facts.date}`;
  out.push(text(10, 38, `${machine}; bars scaled per workload`, 'fill="#555"'));
  measured.forEach((r, i) => {
    const y = top + i * rowHeight;
    const m = phaseMedians(r.own!);
    // Each workload on its own scale (the longer of its two bars fills the plot): an 18 MP
    // original would otherwise flatten the others; the numbers are printed beside the bars.
    const scale = PLOT / Math.max(1, m.total, r.pillow?.cpuMs ?? 0);
    out.push(text(10, y + BAR - 4, r.workload.label));
    let x = LEFT;
    for (const phase of PHASES) {
      const w = m[phase] * scale;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(0, w).toFixed(1)}" height="${BAR}" fill="${COLOURS[phase]}"><title>${escapeXml(`${PHASE_LABELS[phase]}: ${m[phase].toFixed(1)} ms`)}</title></rect>`,
      );
      x += Math.max(0, w);
    }
    out.push(text(x + 4, y + BAR - 4, `edge-resizer ${m.total.toFixed(1)} ms`));
    if (r.pillow) {
      const w = r.pillow.cpuMs * scale;
      out.push(`<rect x="${LEFT}" y="${y + BAR + 2}" width="${w.toFixed(1)}" height="${BAR}" fill="${COLOURS.pillow}"/>`);
      out.push(text(LEFT + w + 4, y + 2 * BAR - 2, `Pillow ${r.pillow.cpuMs.toFixed(1)} ms (x${(m.total / r.pillow.cpuMs).toFixed(2)})`));
    } else {
      out.push(text(LEFT, y + 2 * BAR - 2, "Pillow anchor skipped (no BENCH_PYTHON)", 'fill="#999"'));
    }
  });
  const legendY = height - 30;
  let lx = 10;
  for (const [key, label] of [...PHASES.map((p) => [p, PHASE_LABELS[p]] as const), ["pillow", "Pillow (thumbor's engine)"] as const]) {
    out.push(`<rect x="${lx}" y="${legendY}" width="12" height="12" fill="${COLOURS[key]}"/>`);
    out.push(text(lx + 16, legendY + 10, label));
    lx += 30 + label.length * 6.5;
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
