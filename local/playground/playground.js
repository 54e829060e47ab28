// The playground: asks the local edge what a URL maps to (/_edge/explain), then fetches it
// through the edge and shows the image with its size, format, time and cache outcome.
"use strict";

// What Chromium sends for <img>, so the key shown is the one an <img> tag would get.
const IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

const $ = (id) => document.getElementById(id);
let lastObjectUrl = null;

function formatBytes(n) {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB (${n} B)`;
}

function setText(id, text) {
  $(id).textContent = text;
}

async function show(rawUrl) {
  const asked = rawUrl.trim();
  if (!asked) return;
  $("result").hidden = false;
  $("result-error").hidden = true;
  $("result-notice").hidden = true;
  // The image box only once there is an image: an error shows as text, not a broken-image icon.
  $("result-image").hidden = true;
  for (const id of ["fact-key", "fact-status", "fact-format", "fact-dimensions", "fact-bytes", "fact-time", "fact-cache", "fact-plan"])
    setText(id, "…");
  $("result-img").removeAttribute("src");

  const explainRes = await fetch(`/_edge/explain?url=${encodeURIComponent(asked)}&accept=${encodeURIComponent(IMAGE_ACCEPT)}`, {
    cache: "no-store",
  });
  const explained = await explainRes.json();
  if (explained.error) return fail(explained.error);
  setText("fact-target", explained.target);
  if (explained.refused) {
    setText("fact-key", "(refused by viewer-request)");
    setText("fact-status", String(explained.refused.status));
    for (const id of ["fact-format", "fact-dimensions", "fact-bytes", "fact-time", "fact-cache", "fact-plan"]) setText(id, "-");
    return fail(explained.refused.reason);
  }
  setText("fact-key", explained.variant ? explained.key : `${explained.key} (an original, served as stored)`);
  if (explained.ignoredFilters && explained.ignoredFilters.length > 0) {
    const notice = $("result-notice");
    notice.textContent = `The edge ignores ${explained.ignoredFilters.length === 1 ? "this filter" : "these filters"} (as thumbor does): ${explained.ignoredFilters.join(", ")}`;
    notice.hidden = false;
  }
  setText("fact-plan", explained.plan ? JSON.stringify(explained.plan, null, 2) : "-");

  const started = performance.now();
  const res = await fetch(explained.target, { headers: { Accept: IMAGE_ACCEPT }, cache: "no-store" });
  const blob = await res.blob();
  const ms = performance.now() - started;
  const serverTiming = /dur=([\d.]+)/.exec(res.headers.get("server-timing") || "");
  setText("fact-status", `${res.status}${res.redirected ? " (after a redirect)" : ""}`);
  setText("fact-format", res.headers.get("content-type") || "-");
  setText("fact-bytes", formatBytes(blob.size));
  setText("fact-time", `${ms.toFixed(0)} ms in the browser${serverTiming ? `, ${Number(serverTiming[1]).toFixed(0)} ms at the edge` : ""}`);
  setText("fact-cache", res.headers.get("x-cache") || "-");
  if (!res.ok) {
    setText("fact-dimensions", "-");
    return fail(await blob.text());
  }
  if (lastObjectUrl) URL.revokeObjectURL(lastObjectUrl);
  lastObjectUrl = URL.createObjectURL(blob);
  const img = $("result-img");
  img.onload = () => {
    $("result-image").hidden = false;
    setText("fact-dimensions", `${img.naturalWidth} × ${img.naturalHeight}`);
  };
  img.onerror = () => {
    setText("fact-dimensions", "-");
    fail("the browser cannot display this answer as an image");
  };
  img.src = lastObjectUrl;
}

function fail(message) {
  $("result-image").hidden = true;
  $("result-img").removeAttribute("src");
  const el = $("result-error");
  el.textContent = message;
  el.hidden = false;
}

function figure(url) {
  const fig = document.createElement("figure");
  const img = document.createElement("img");
  img.loading = "lazy";
  img.src = url;
  img.alt = url;
  img.title = "inspect " + url;
  const caption = document.createElement("figcaption");
  caption.textContent = url;
  img.onload = () => {
    caption.textContent = `${url} → ${img.naturalWidth}×${img.naturalHeight}`;
  };
  img.onerror = () => {
    caption.textContent = `${url} → failed (click to see why)`;
  };
  img.onclick = () => {
    $("url").value = url;
    show(url);
    window.scrollTo({ top: 0, behavior: "smooth" });
  };
  fig.append(img, caption);
  return fig;
}

async function gallery() {
  const res = await fetch("/_edge/samples", { cache: "no-store" });
  const { samples, sizes } = await res.json();
  const root = $("gallery");
  root.textContent = "";
  if (samples.length === 0) root.textContent = "No samples were uploaded.";
  for (const key of samples) {
    const row = document.createElement("div");
    row.className = "gallery-row";
    const title = document.createElement("h3");
    title.textContent = key;
    const pairs = document.createElement("div");
    pairs.className = "pairs";
    for (const size of sizes) {
      const pair = document.createElement("div");
      pair.className = "pair";
      const imgs = document.createElement("div");
      imgs.className = "imgs";
      const path = key.split("/").map(encodeURIComponent).join("/");
      imgs.append(figure(`/${path}?d=${size}`), figure(`/unsafe/${size}/${path}`));
      pair.append(imgs);
      pairs.append(pair);
    }
    row.append(title, pairs);
    root.append(row);
  }
}

$("try-form").addEventListener("submit", (event) => {
  event.preventDefault();
  show($("url").value).catch((err) => fail(String(err)));
});
gallery().catch((err) => {
  $("gallery").textContent = `gallery failed: ${err}`;
});
