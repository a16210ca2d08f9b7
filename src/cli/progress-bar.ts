// A one-line progress bar on stderr (redrawn in a terminal, a line every few seconds otherwise).

export class ProgressBar {
  private readonly started = Date.now();
  private lastLine = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly total: number,
    private readonly from: number,
  ) {}

  update(done: number, fields: Record<string, string>): void {
    const now = Date.now();
    if (!this.tty && now - this.lastLine < 5000 && done < this.total) return;
    this.lastLine = now;
    const elapsed = (now - this.started) / 1000;
    const rate = (done - this.from) / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const width = 24;
    const filled = Math.round((width * done) / Math.max(1, this.total));
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const extra = Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(' | ');
    const line = `step ${done}/${this.total} ${bar} ${extra} | ${rate.toFixed(2)} steps/s | ETA ${formatDuration(eta)}`;
    process.stderr.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
