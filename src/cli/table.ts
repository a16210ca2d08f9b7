// Fixed-width text tables and the number formats the CLI prints in them.

export interface Column<T> {
  header: string;
  align?: 'left' | 'right';
  value: (row: T) => string;
}

export function formatTable<T>(columns: Column<T>[], rows: T[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i]!.align === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(columns.map((c) => c.header)), rule, ...cells.map(line)].join('\n');
}

/** Errors and other small magnitudes: `1.2e-7`; `-` when there is no value. */
export function formatSci(x: number | null | undefined): string {
  if (x == null) return '-';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  return x.toExponential(1);
}

export function formatFixed(x: number | null | undefined, digits: number): string {
  if (x == null) return '-';
  if (!Number.isFinite(x)) return formatSci(x);
  return x.toFixed(digits);
}
