import { checkOptions, UsageError } from './args.js';

/**
 * Options beyond lib/args.ts's numbers: on/off flags (`--quick`, no value), words and lists of
 * numbers. `checkOptions` takes the word after every option as its value, so flags are taken out
 * of the arguments first (`splitFlags`) and the rest is checked as usual.
 */
export function splitFlags(
  args: readonly string[],
  flags: readonly string[],
  valued: readonly string[],
): { rest: string[]; set: ReadonlySet<string> } {
  const set = new Set<string>();
  const rest: string[] = [];
  for (const arg of args) {
    const name = arg.startsWith('--') ? arg.slice(2) : '';
    if (flags.includes(name)) set.add(name);
    else if (flags.some((f) => arg.startsWith(`--${f}=`))) throw new UsageError(`--${name.split('=')[0]} takes no value`);
    else rest.push(arg);
  }
  checkOptions(rest, valued);
  return { rest, set };
}

function optionText(args: readonly string[], name: string): string | undefined {
  const flag = `--${name}`;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === flag) return args[i + 1] ?? '';
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}

/** `--name text`, or undefined when absent. */
export function textOption(args: readonly string[], name: string): string | undefined {
  return optionText(args, name);
}

/** `--name word`, one of `choices`. */
export function choiceOption<T extends string>(
  args: readonly string[],
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const text = optionText(args, name);
  if (text === undefined) return fallback;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(text)}`);
  }
  return text as T;
}

/** `--name 100,300,1000`: positive integers; `0` or `none` for an empty list. */
export function intListOption(args: readonly string[], name: string, fallback: readonly number[]): number[] {
  const text = optionText(args, name);
  if (text === undefined) return [...fallback];
  if (text.trim() === '0' || text.trim() === 'none') return [];
  const values = text.split(',').map((s) => Number(s.trim()));
  if (text.trim() === '' || values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new UsageError(`--${name} needs positive integers separated by commas (or none), got ${JSON.stringify(text)}`);
  }
  return values;
}
