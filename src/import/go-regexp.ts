// Go's regular expressions (RE2 syntax: Blackbox exporter's regexps, Prometheus's relabelling) in
// JavaScript syntax with the same matches. Flags are written into the pattern rather than as
// JavaScript flags, because Tocsin's `body_regex` takes none, because Go scopes them to a group
// (`(?i:abc)`) where Node 20 cannot, and because a relabel regex is anchored around the operator's
// pattern: its anchors must not change meaning with an `(?m)` inside it.

export type GoRegexpTranslation =
  | { readonly ok: true; readonly source: string }
  | { readonly ok: false; readonly reason: string };

export interface TranslateOptions {
  /** Keep named groups (`$name` in a relabel replacement needs them). Default true. */
  readonly names?: boolean;
}

/** Translates a Go (RE2) pattern into JavaScript source matching the same texts, or says why not. */
export function translateGoRegexp(pattern: string, options: TranslateOptions = {}): GoRegexpTranslation {
  let source: string;
  try {
    source = new Translator(pattern, options.names ?? true).run();
  } catch (err) {
    if (err instanceof Unsupported) return { ok: false, reason: err.message };
    throw err;
  }
  try {
    new RegExp(source);
  } catch (err) {
    return { ok: false, reason: `not valid once in JavaScript syntax: ${(err as Error).message}` };
  }
  return { ok: true, source };
}

/**
 * One JavaScript pattern that matches a text when every one of `required` matches it somewhere
 * and none of `forbidden` does (Go's MatchString is unanchored): how several Blackbox regexps
 * become the single regular expression a Tocsin expectation holds.
 */
export function combinePatterns(required: readonly string[], forbidden: readonly string[]): string {
  if (required.length === 1 && forbidden.length === 0 && required[0] !== undefined) return required[0];
  const ahead = required.map((r) => `(?=[\\s\\S]*?(?:${r}))`).join('');
  const not = forbidden.length > 0 ? `(?![\\s\\S]*?(?:${forbidden.join('|')}))` : '';
  return `^${ahead}${not}`;
}

class Unsupported extends Error {}

interface Flags {
  readonly i: boolean;
  readonly m: boolean;
  readonly s: boolean;
  readonly U: boolean;
}

const NO_FLAGS: Flags = { i: false, m: false, s: false, U: false };

/** RE2's `\s` is ASCII whitespace only; JavaScript's also takes \v and Unicode spaces. */
const SPACE = '\\t\\n\\f\\r ';

/** `[[:name:]]` classes, as class contents. */
const POSIX: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** One element of a character class: its JavaScript text, and its code point when it is one character. */
interface ClassAtom {
  readonly text: string;
  readonly cp?: number;
}

const hex4 = (cp: number): string => `\\u${cp.toString(16).padStart(4, '0')}`;

function isLetter(cp: number): boolean {
  return (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122);
}

/** Both cases of an ASCII letter, as a class (what `(?i)` makes of a literal). */
function bothCases(ch: string): string {
  return `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
}

/** The other-case counterpart of the ASCII letters in [lo, hi], as class contents (for `(?i)`). */
function otherCaseRanges(lo: number, hi: number): string {
  let out = '';
  for (const [from, to, shift] of [
    [97, 122, -32],
    [65, 90, 32],
  ] as const) {
    const a = Math.max(lo, from);
    const b = Math.min(hi, to);
    if (a <= b) out += a === b ? hex4(a + shift) : `${hex4(a + shift)}-${hex4(b + shift)}`;
  }
  return out;
}

class Translator {
  private at = 0;
  private out = '';
  private flags: Flags = NO_FLAGS;
  private readonly groups: Flags[] = [];
  /** Whether what was emitted last can take a quantifier (Go rejects `a**`; so would JavaScript). */
  private atom = false;

  constructor(
    private readonly p: string,
    private readonly names: boolean,
  ) {}

  run(): string {
    while (this.at < this.p.length) this.step();
    return this.out;
  }

  private emit(text: string, atom: boolean): void {
    this.out += text;
    this.atom = atom;
  }

  private literal(ch: string): void {
    const cp = ch.codePointAt(0) ?? 0;
    if (this.flags.i && isLetter(cp)) return this.emit(bothCases(ch), true);
    this.emit(/[\\^$.|?*+()[\]{}/]/.test(ch) ? `\\${ch}` : ch, true);
  }

  private step(): void {
    const c = this.p[this.at] ?? '';
    switch (c) {
      case '\\':
        return this.escape();
      case '[':
        return this.charClass();
      case '(':
        return this.open();
      case ')':
        this.at++;
        this.flags = this.groups.pop() ?? NO_FLAGS;
        return this.emit(')', true);
      case '.':
        this.at++;
        // RE2's `.` leaves out only \n; JavaScript's also \r, \u2028 and \u2029.
        return this.emit(this.flags.s ? '[\\s\\S]' : '[^\\n]', true);
      case '^':
        this.at++;
        return this.emit(this.flags.m ? '(?<![^\\n])' : '^', false);
      case '$':
        this.at++;
        return this.emit(this.flags.m ? '(?![^\\n])' : '$', false);
      case '|':
        this.at++;
        return this.emit('|', false);
      case '*':
      case '+':
      case '?':
        this.at++;
        return this.quantifier(c);
      case '{': {
        const m = /^\{\d+(?:,\d*)?\}/.exec(this.p.slice(this.at));
        if (m) {
          this.at += m[0].length;
          return this.quantifier(m[0]);
        }
        this.at++;
        return this.literal('{');
      }
      default: {
        const ch = String.fromCodePoint(this.p.codePointAt(this.at) ?? 0);
        this.at += ch.length;
        return this.literal(ch);
      }
    }
  }

  private quantifier(q: string): void {
    if (!this.atom) throw new Unsupported(`missing argument to repetition operator ${q}`);
    let lazy = false;
    if (this.p[this.at] === '?') {
      lazy = true;
      this.at++;
    }
    // `(?U)` swaps greedy and lazy.
    if (this.flags.U) lazy = !lazy;
    this.emit(`${q}${lazy ? '?' : ''}`, false);
  }

  private open(): void {
    const rest = this.p.slice(this.at);
    const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
    if (named) {
      this.at += named[0].length;
      this.groups.push(this.flags);
      return this.emit(this.names ? `(?<${named[1]}>` : '(', false);
    }
    const flagged = /^\(\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
    if (flagged) {
      this.at += flagged[0].length;
      const set = flagged[1] ?? '';
      const clear = flagged[2] ?? '';
      const next = { ...this.flags };
      for (const f of set) next[f as keyof Flags] = true;
      for (const f of clear) next[f as keyof Flags] = false;
      if (flagged[3] === ')') {
        // `(?i)`: for the rest of the enclosing group.
        this.flags = next;
        return;
      }
      this.groups.push(this.flags);
      this.flags = next;
      return this.emit('(?:', false);
    }
    if (rest.startsWith('(?')) throw new Unsupported(`unsupported group syntax ${rest.slice(0, 4)}`);
    this.at++;
    this.groups.push(this.flags);
    this.emit('(', false);
  }

  /** Reads an escape after `\`, outside or inside a class: its JavaScript text and code point if any. */
  private escapeAtom(inClass: boolean): ClassAtom {
    const c = this.p[this.at + 1];
    if (c === undefined) throw new Unsupported('trailing backslash');
    this.at += 2;
    switch (c) {
      case 'a':
        return { text: '\\x07', cp: 7 };
      case 'f':
        return { text: '\\f', cp: 12 };
      case 't':
        return { text: '\\t', cp: 9 };
      case 'n':
        return { text: '\\n', cp: 10 };
      case 'r':
        return { text: '\\r', cp: 13 };
      case 'v':
        return { text: '\\v', cp: 11 };
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return { text: `\\${c}` };
      case 's':
        return { text: inClass ? SPACE : `[${SPACE}]` };
      case 'S':
        // Inside a class only JavaScript's wider \S can be written; outside, RE2's exactly.
        return { text: inClass ? '\\S' : `[^${SPACE}]` };
      case 'p':
      case 'P':
        throw new Unsupported('Unicode classes (\\p, \\P) have no equivalent without the u flag');
      case 'C':
        throw new Unsupported('\\C (any byte) has no equivalent');
      case 'x': {
        const braced = /^\{([0-9A-Fa-f]+)\}/.exec(this.p.slice(this.at));
        const short = /^[0-9A-Fa-f]{2}/.exec(this.p.slice(this.at));
        const digits = braced?.[1] ?? short?.[0];
        if (digits === undefined) throw new Unsupported('malformed \\x escape');
        this.at += (braced ?? short)?.[0].length ?? 0;
        const cp = parseInt(digits, 16);
        if (cp > 0xffff) throw new Unsupported(`\\x{${digits}} is beyond the Basic Multilingual Plane`);
        return { text: hex4(cp), cp };
      }
      default: {
        if (/[0-7]/.test(c)) {
          const digits = /^[0-7]{0,2}/.exec(this.p.slice(this.at))?.[0] ?? '';
          // Go reads \1 to \7 alone as a back reference, which RE2 does not support.
          if (c !== '0' && digits === '') throw new Unsupported(`back reference \\${c} is not supported by Go either`);
          this.at += digits.length;
          const cp = parseInt(`${c}${digits}`, 8);
          return { text: hex4(cp), cp };
        }
        if (/[A-Za-z0-9]/.test(c)) {
          // \b and \B are assertions (outside classes); RE2 knows no other letter escapes.
          if (!inClass && (c === 'b' || c === 'B')) return { text: `\\${c}` };
          throw new Unsupported(`unknown escape \\${c}`);
        }
        return { text: `\\${c}`, cp: c.codePointAt(0) ?? 0 };
      }
    }
  }

  private escape(): void {
    const c = this.p[this.at + 1];
    if (c === 'Q') {
      // \Q...\E: literal text.
      const end = this.p.indexOf('\\E', this.at + 2);
      const text = this.p.slice(this.at + 2, end === -1 ? undefined : end);
      this.at = end === -1 ? this.p.length : end + 2;
      for (const ch of text) this.literal(ch);
      return;
    }
    if (c === 'E') {
      this.at += 2;
      return;
    }
    if (c === 'A') {
      this.at += 2;
      return this.emit('(?<![\\s\\S])', false);
    }
    if (c === 'z') {
      this.at += 2;
      return this.emit('(?![\\s\\S])', false);
    }
    if (c === 'b' || c === 'B') {
      this.at += 2;
      return this.emit(`\\${c}`, false);
    }
    const atom = this.escapeAtom(false);
    if (atom.cp !== undefined && this.flags.i && isLetter(atom.cp)) {
      return this.emit(bothCases(String.fromCodePoint(atom.cp)), true);
    }
    this.emit(atom.text, true);
  }

  private classAtom(): ClassAtom {
    if (this.p[this.at] === '\\') return this.escapeAtom(true);
    const ch = String.fromCodePoint(this.p.codePointAt(this.at) ?? 0);
    this.at += ch.length;
    const cp = ch.codePointAt(0) ?? 0;
    return { text: /[\\\]^[-]/.test(ch) ? `\\${ch}` : ch, cp };
  }

  private charClass(): void {
    this.at++;
    let body = '';
    let negated = false;
    if (this.p[this.at] === '^') {
      negated = true;
      this.at++;
    }
    let first = true;
    for (;;) {
      if (this.at >= this.p.length) throw new Unsupported('missing closing ]');
      // A `]` right after `[` or `[^` is a literal in Go.
      if (this.p[this.at] === ']' && !first) break;
      first = false;
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.p.slice(this.at));
      if (posix) {
        const contents = POSIX[posix[2] ?? ''];
        if (contents === undefined) throw new Unsupported(`unknown class [:${posix[2]}:]`);
        if (posix[1]) throw new Unsupported(`negated class [:^${posix[2]}:] inside brackets`);
        this.at += posix[0].length;
        body += contents;
        // A POSIX class under (?i) (e.g. [[:lower:]]) takes the other case too.
        if (this.flags.i) body += foldedPosix(posix[2] ?? '');
        continue;
      }
      const lo = this.classAtom();
      const isRange = this.p[this.at] === '-' && this.p[this.at + 1] !== undefined && this.p[this.at + 1] !== ']';
      if (isRange) {
        this.at++;
        const hi = this.classAtom();
        if (lo.cp === undefined || hi.cp === undefined) throw new Unsupported('a class escape cannot bound a range');
        body += `${lo.text}-${hi.text}`;
        if (this.flags.i) body += otherCaseRanges(lo.cp, hi.cp);
      } else {
        body += lo.text;
        if (this.flags.i && lo.cp !== undefined && isLetter(lo.cp)) body += otherCaseRanges(lo.cp, lo.cp);
      }
    }
    this.at++;
    this.emit(`[${negated ? '^' : ''}${body}]`, true);
  }
}

/** The other case of a POSIX class's letters under `(?i)` (only lower and upper change). */
function foldedPosix(name: string): string {
  if (name === 'lower') return 'A-Z';
  if (name === 'upper') return 'a-z';
  return '';
}
