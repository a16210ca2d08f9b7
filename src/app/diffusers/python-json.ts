// JSON text as diffusers' `save_config` writes it: Python's json.dumps(config, indent=2,
// sort_keys=True) + "\n", so an exported config.json is byte for byte what diffusers would write.
// Python keeps the type of a number (1 and 1.0 differ); the caller says which keys hold floats.

/** Python's repr of a float: shortest round-trip digits, fixed for exponents −4 … 15, else d.ddde±XX. */
export function pythonFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = v.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = v < 0 ? '-' : '';
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}.${frac || '0'}`;
}

/** json.dumps(value, indent=2, sort_keys=True) + "\n"; numbers under a key of `floatKeys` are written as floats. */
export function pythonJson(value: unknown, floatKeys: ReadonlySet<string> = new Set()): string {
  const write = (v: unknown, indent: string, asFloat: boolean): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return asFloat || !Number.isInteger(v) ? pythonFloat(v) : String(v);
    // ensure_ascii: non-ASCII characters as \uXXXX escapes.
    if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const inner = `${indent}  `;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((x) => inner + write(x, inner, asFloat)).join(',\n')}\n${indent}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, x]) => `${inner}${write(k, inner, false)}: ${write(x, inner, floatKeys.has(k))}`).join(',\n')}\n${indent}}`;
  };
  return `${write(value, '', false)}\n`;
}
