/**
 * verify's HTML report: one self-contained file (images inlined as data: URLs, no script), the
 * totals, then every URL that is not identical, worst first, with both answers side by side.
 */
import type { Answer } from "./requests.js";
import type { Thresholds, Verdict, VerifyEntry } from "./verify.js";

interface Report {
  old: string;
  new: string;
  accept: string;
  thresholds: Thresholds;
  totals: Record<Verdict, number>;
  entries: VerifyEntry[];
}

export function verifyReportHtml(report: Report, bodies: ReadonlyMap<string, { old: Answer; new: Answer }>): string {
  const rows = report.entries.filter((e) => e.verdict !== "identical").map((e) => row(e, bodies.get(e.path)));
  const totals = (Object.entries(report.totals) as Array<[Verdict, number]>)
    .map(([v, n]) => `<li class="${v}"><b>${n}</b> ${v}</li>`)
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edge-resizer verify</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem; }
ul.totals { display: flex; gap: 1.5rem; list-style: none; padding: 0; }
.broken b, tr.broken td.verdict { color: #b00020; } .different b, tr.different td.verdict { color: #a15c00; } .close b { color: #555; }
table { border-collapse: collapse; width: 100%; } td, th { border-top: 1px solid #ddd; padding: .4rem; vertical-align: top; text-align: left; }
td.path { word-break: break-all; } figure { margin: 0; display: inline-block; max-width: 48%; } img { max-width: 100%; height: auto; border: 1px solid #ccc; }
figcaption { font-size: 12px; color: #555; }
</style>
</head>
<body>
<h1>thumbor → edge: ${report.entries.length} URLs</h1>
<p>old <code>${esc(report.old)}</code>, new <code>${esc(report.new)}</code>, Accept <code>${esc(report.accept)}</code>;
close = PSNR ≥ ${report.thresholds.minPsnr} dB and SSIM ≥ ${report.thresholds.minSsim}</p>
<ul class="totals">${totals}</ul>
${rows.length === 0 ? `<p id="all-identical">Every URL is identical.</p>` : `<table id="cases"><thead><tr><th>verdict</th><th>URL</th><th>why</th><th>old | new</th></tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table>`}
</body>
</html>
`;
}

function row(e: VerifyEntry, pair: { old: Answer; new: Answer } | undefined): string {
  const images = pair ? `${figure("thumbor", pair.old, e.old.status)}${figure("edge", pair.new, e.new.status)}` : "";
  return `<tr class="${e.verdict}" data-path="${esc(e.path)}"><td class="verdict">${e.verdict}</td><td class="path">${esc(e.path)}</td><td>${esc(e.reason)}</td><td>${images}</td></tr>`;
}

function figure(label: string, answer: Answer, status: number | null): string {
  const type = answer.headers.get("content-type") ?? "";
  const caption = `<figcaption>${label}: ${status} ${esc(type)}, ${answer.body.length} B</figcaption>`;
  if (!/^image\//.test(type)) return `<figure>${caption}<pre>${esc(answer.body.subarray(0, 300).toString("utf8"))}</pre></figure>`;
  return `<figure><img alt="${label}" src="data:${esc(type)};base64,${answer.body.toString("base64")}">${caption}</figure>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
