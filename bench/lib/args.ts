/** `--name value` / `--name=value` options of a benchmark, with numeric defaults (`min`: 0 allows "off"). */
export function numberOption(args: readonly string[], name: string, fallback: number, min = Number.MIN_VALUE): number {
  const flag = `--${name}`;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    let text: string | undefined;
    if (arg === flag) text = args[i + 1];
    else if (arg.startsWith(`${flag}=`)) text = arg.slice(flag.length + 1);
    else continue;
    const value = Number(text);
    if (text === undefined || text.trim() === '' || !Number.isFinite(value) || value < min) {
      const what = min > 0 ? 'a positive number' : `a number ≥ ${min}`;
      throw new UsageError(`${flag} needs ${what}, got ${JSON.stringify(text ?? '')}`);
    }
    return value;
  }
  return fallback;
}

/** Options this benchmark does not know, so that a typo is reported instead of silently ignored. */
export function checkOptions(args: readonly string[], known: readonly string[]): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const name = arg.slice(2).split('=')[0] ?? '';
    if (!known.includes(name))
      throw new UsageError(`unknown option --${name} (known: ${known.map((k) => `--${k}`).join(', ')})`);
    if (!arg.includes('=')) i++;
  }
}

export class UsageError extends Error {}
