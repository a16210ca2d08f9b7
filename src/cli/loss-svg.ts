// loss.csv → a small SVG chart (per-step loss and its moving average, log scale), written next to
// the checkpoints so a run can be looked at without tools.

export function lossChartSvg(rows: { step: number; loss: number }[], title: string): string {
  const width = 640;
  const height = 320;
  const pad = { left: 56, right: 16, top: 28, bottom: 36 };
  const finite = rows.filter((r) => Number.isFinite(r.loss) && r.loss > 0);
  if (finite.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"/>`;
  const steps = finite.map((r) => r.step);
  const [s0, s1] = [Math.min(...steps), Math.max(...steps, Math.min(...steps) + 1)];
  const logs = finite.map((r) => Math.log10(r.loss));
  const [l0, l1] = [Math.floor(Math.min(...logs) * 4) / 4, Math.ceil(Math.max(...logs) * 4) / 4 + 1e-9];
  const x = (s: number) => pad.left + ((s - s0) / (s1 - s0)) * (width - pad.left - pad.right);
  const y = (l: number) => pad.top + ((l1 - l) / (l1 - l0)) * (height - pad.top - pad.bottom);
  const path = (pts: [number, number][]) => pts.map(([a, b], i) => `${i ? 'L' : 'M'}${a.toFixed(1)},${b.toFixed(1)}`).join('');
  const window = Math.max(1, Math.round(finite.length / 40));
  const smooth = finite.map((r, i) => {
    const part = finite.slice(Math.max(0, i - window + 1), i + 1);
    return [r.step, Math.log10(part.reduce((a, p) => a + p.loss, 0) / part.length)] as [number, number];
  });
  const ticks: string[] = [];
  for (let e = Math.ceil(l0); e <= Math.floor(l1); e++) {
    for (const m of [1, 2, 5]) {
      const l = e + Math.log10(m);
      if (l < l0 || l > l1) continue;
      ticks.push(
        `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(l)}" y2="${y(l)}" stroke="#e5e7eb"/>` +
          `<text x="${pad.left - 6}" y="${y(l) + 4}" text-anchor="end">${Number((10 ** l).toPrecision(2))}</text>`,
      );
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11" fill="#374151">
<rect width="100%" height="100%" fill="white"/>
<text x="${pad.left}" y="18" font-size="13" font-weight="bold">${title}</text>
${ticks.join('\n')}
<path d="${path(finite.map((r, i) => [x(r.step), y(logs[i]!)]))}" fill="none" stroke="#bfdbfe" stroke-width="1"/>
<path d="${path(smooth.map(([s, l]) => [x(s), y(l)]))}" fill="none" stroke="#1d4ed8" stroke-width="2"/>
<text x="${pad.left}" y="${height - 10}">step ${s0}</text>
<text x="${width - pad.right}" y="${height - 10}" text-anchor="end">step ${s1}</text>
<text x="${width - pad.right}" y="18" text-anchor="end" fill="#1d4ed8">loss (log scale) · moving average of ${window}</text>
</svg>
`;
}
