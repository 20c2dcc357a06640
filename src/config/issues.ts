import type { z } from 'zod';
import type { KeyPath } from './problems.js';
import { isRecord } from '../json.js';

/**
 * Zod issues in an operator's words, for every zod problem of the config (./site.ts reports them,
 * ./rule-spec.ts words rules' with it) so that one `tocsin check-config` run reads in one dialect:
 * one problem per unknown key, "required", "expected number, got string". Parse with
 * `{ reportInput: true }`: the messages quote the input. Its wording is tested on its own
 * (test/unit/config-issues.test.ts).
 */

export interface Described {
  readonly path: KeyPath;
  readonly message: string;
}

/** Zod's issues in an operator's words: "required", "unknown key", "expected number, got string". */
export function describeIssue(issue: z.core.$ZodIssue, prefix: KeyPath): Described[] {
  const path = [...prefix, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown key' }));
    case 'invalid_union':
      return describeUnion(issue, path);
    default:
      return [{ path, message: issueMessage(issue) }];
  }
}

function describeUnion(issue: z.core.$ZodIssueInvalidUnion, path: KeyPath): Described[] {
  if (issue.discriminator !== undefined && 'options' in issue && issue.options) {
    const options = issue.options.map(show).join(', ');
    const value = isRecord(issue.input) ? issue.input[issue.discriminator] : undefined;
    return [
      {
        path,
        message:
          value === undefined
            ? `required: one of ${options}`
            : `expected one of ${options}, got ${show(value)}`,
      },
    ];
  }
  const branches = issue.errors;
  const typeOnly = branches.filter(
    (b) => b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0,
  );
  if (branches.length > 0 && typeOnly.length === branches.length) {
    const expected = [
      ...new Set(typeOnly.map((b) => (b[0]?.code === 'invalid_type' ? typeWord(b[0].expected) : ''))),
    ];
    return [
      {
        path,
        message:
          issue.input === undefined
            ? 'required'
            : `expected ${expected.join(' or ')}, got ${typeName(issue.input)}`,
      },
    ];
  }
  // The branch of the right type says what is wrong inside it (e.g. a bad status pattern).
  const best = branches.filter((b) => !typeOnly.includes(b)).sort((a, b) => a.length - b.length)[0];
  return best ? best.flatMap((sub) => describeIssue(sub, path)) : [{ path, message: issue.message }];
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      if (issue.expected === 'int' && typeof issue.input === 'number')
        return `expected an integer, got ${issue.input}`;
      return `expected ${typeWord(issue.expected)}, got ${typeName(issue.input)}`;
    case 'invalid_value': {
      const options = issue.values.map(show).join(', ');
      if (issue.input === undefined) return `required: one of ${options}`;
      return issue.values.length === 1
        ? `expected ${options}, got ${show(issue.input)}`
        : `expected one of ${options}, got ${show(issue.input)}`;
    }
    case 'too_small':
      return (
        sizeMessage(issue.origin, 'at least', Number(issue.minimum), issue.inclusive !== false) ??
        issue.message
      );
    case 'too_big':
      return (
        sizeMessage(issue.origin, 'at most', Number(issue.maximum), issue.inclusive !== false) ??
        issue.message
      );
    case 'invalid_format':
      return formatMessage(issue);
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    default:
      // custom (durations, host:port, maintenance windows): the schemas' own messages are meant for operators.
      return issue.message;
  }
}

function sizeMessage(origin: string, bound: 'at least' | 'at most', n: number, inclusive: boolean) {
  if (origin === 'array' || origin === 'set') {
    return bound === 'at least' && n === 1
      ? 'must not be empty'
      : `must have ${bound} ${n} item${n === 1 ? '' : 's'}`;
  }
  if (origin === 'string') {
    return bound === 'at least' && n === 1
      ? 'must not be empty'
      : `must be ${bound} ${n} character${n === 1 ? '' : 's'} long`;
  }
  if (origin === 'number' || origin === 'int' || origin === 'bigint') {
    const op = bound === 'at least' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
    return `must be ${op} ${n}`;
  }
  return undefined;
}

function formatMessage(issue: z.core.$ZodIssueInvalidStringFormat): string {
  const got = issue.input === undefined ? '' : `, got ${show(issue.input)}`;
  switch (issue.format) {
    case 'url':
      return `expected a URL${got}`;
    case 'datetime':
      return `expected an RFC 3339 date-time with offset, e.g. 2024-11-18T21:00:00Z${got}`;
    case 'regex':
      // Our schemas give every pattern an operator-facing message.
      return issue.message;
    default:
      return `expected ${issue.format}${got}`;
  }
}

/** YAML words for JSON types: an operator writes mappings and lists, not objects and arrays. */
function typeWord(type: string): string {
  if (type === 'object' || type === 'record') return 'mapping';
  if (type === 'array' || type === 'tuple') return 'list';
  if (type === 'int') return 'integer';
  return type;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeWord(typeof value);
}

/** A value as written in a message: strings quoted, numbers as is, collections by type. */
export function show(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return JSON.stringify(value);
  return typeName(value);
}
