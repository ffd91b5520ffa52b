// Live tiles: every .tiles container (data-job: that job's workers, "" for all) asks
// /api/live for the frame blocks publishing now, keeps one tile per block and, when a
// block's sequence number moved, fetches its newest frame (/live/frame/<block>, PNG;
// the X-Frame-Seq header says which frame it is: the tile's data-seq). A block that
// disappears (its worker ended or died) keeps its last frame, marked "stopped".
"use strict";
const POLL_MS = Number(document.body.dataset.pollMs || 250);

function tileFor(container, p) {
  let tile = container.querySelector(`.tile[data-block="${CSS.escape(p.name)}"]`);
  if (!tile) {
    const empty = container.querySelector(".empty");
    if (empty) empty.remove();
    tile = document.createElement("figure");
    tile.className = "tile";
    tile.dataset.block = p.name;
    tile.dataset.seq = "0";
    tile.dataset.updates = "0";
    const img = document.createElement("img");
    img.alt = p.name;
    const label = document.createElement("figcaption");
    label.className = "label";
    tile.append(img, label);
    container.append(tile);
  }
  return tile;
}

async function refreshFrame(tile, seq) {
  if (tile.dataset.busy === "1" || String(seq) === tile.dataset.seq) return;
  tile.dataset.busy = "1";
  try {
    const r = await fetch(`/live/frame/${encodeURIComponent(tile.dataset.block)}`, {cache: "no-store"});
    if (!r.ok) return;
    const shown = r.headers.get("X-Frame-Seq");
    const url = URL.createObjectURL(await r.blob());
    const img = tile.querySelector("img");
    await new Promise((resolve) => { img.onload = img.onerror = resolve; img.src = url; });
    if (tile.dataset.url) URL.revokeObjectURL(tile.dataset.url);
    tile.dataset.url = url;
    tile.dataset.seq = shown;
    tile.dataset.updates = String(Number(tile.dataset.updates) + 1);
  } finally {
    tile.dataset.busy = "0";
  }
}

async function poll(container) {
  const job = container.dataset.job;
  try {
    const r = await fetch("/api/live" + (job ? `?job=${encodeURIComponent(job)}` : ""), {cache: "no-store"});
    const publishers = (await r.json()).publishers;
    const seen = new Set();
    const work = [];
    for (const p of publishers) {
      const tile = tileFor(container, p);
      seen.add(p.name);
      tile.classList.remove("gone");
      tile.querySelector(".label").textContent = job ? p.label : `${p.job} · ${p.label}`;
      work.push(refreshFrame(tile, p.seq));
    }
    for (const tile of container.querySelectorAll(".tile")) {
      if (!seen.has(tile.dataset.block) && !tile.classList.contains("gone")) {
        tile.classList.add("gone");
        tile.querySelector(".label").textContent += " · stopped";
      }
    }
    await Promise.all(work);
    container.dataset.polls = String(Number(container.dataset.polls || 0) + 1);
  } catch (e) {
    container.dataset.error = String(e);
  }
  setTimeout(() => poll(container), POLL_MS);
}

for (const container of document.querySelectorAll(".tiles")) poll(container);
