import { z } from 'zod';

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed exactly from its seed. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(probability: number): boolean {
    return this.next() < probability;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${this.pick(['8', '9', 'a', 'b'])}${hex.slice(17, 20)}-${hex.slice(20)}`;
  }
  hex(length: number): string {
    return Array.from({ length }, () => this.int(16).toString(16)).join('');
  }
}

/** Strings that have broken parsers, databases and templates before. */
export const NASTY_STRINGS = [
  '',
  ' ',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e309',
  'true',
  '{}',
  '[]',
  '../../../../etc/passwd',
  '..%2f..%2f',
  "' or '1'='1' --",
  '"; drop table events; --',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  '%s%s%s%n',
  '__proto__',
  'constructor',
  'prototype',
  'a\u0000b',
  '\u0000',
  '\ud800',
  'x\udfffy',
  '\ufeff',
  '\u2028\u2029',
  '\u202eevil',
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  '💥🔥👩‍👩‍👧‍👦',
  '日本語テキスト',
  'مرحبا',
  '\t\r\n',
  'x'.repeat(256),
  'y'.repeat(5000),
];

/** Header-safe (latin1, no control characters) versions: what an HTTP client can actually send. */
export const NASTY_HEADER_VALUES = [
  'garbage',
  'x'.repeat(300),
  'ÿþý',
  '"',
  '""',
  '*',
  'W/"1"',
  '"1", "2"',
  '"-1"',
  '"0"',
  '"99999999999999999999"',
  '1e3',
  '"1',
  'null',
  '{}',
  "' or 1=1 --",
  '../../etc',
  '__proto__',
  'has space',
  'tab\there',
];

export const MALFORMED_JSON = [
  '{',
  '}',
  '{"a":',
  '{"a":1,}',
  "{'a':1}",
  '{"a":1}}',
  '[1,2',
  'nul',
  'tru',
  'NaN',
  'undefined',
  '01',
  '-',
  '"unterminated',
  '{"a":"\u0000"}'.replace('\u0000', '\u0001'),
  '{"a": 1 /* comment */}',
  '\u0000',
  '{"name":"x"} trailing',
  '\ufeff\ufeff{}',
  '{"a":"\\x41"}',
  '{"a":"\\u12"}',
  '['.repeat(5000),
  '{"a":'.repeat(3000),
  '{"a":[}',
];

export const CONTENT_TYPES_NOT_JSON = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'text/html',
  'application/octet-stream',
  'garbage',
  'application/jsonx',
];

export const CONTENT_TYPES_JSON = [
  'application/json',
  'application/json; charset=utf-8',
  'application/problem+json',
  'application/merge-patch+json',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
];

/** Ids a request may name: real ones of the fuzzing tenants, and lookalikes. */
export interface IdPool {
  real: string[];
  byName: Record<string, string[]>;
}

export function idLike(random: Random, pool: IdPool, name?: string): string {
  const named = name ? pool.byName[name] : undefined;
  const roll = random.next();
  if (roll < 0.45 && named?.length) return random.pick(named);
  if (roll < 0.65) return random.pick(pool.real);
  if (roll < 0.85) return random.uuid();
  return random.pick(['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', random.uuid().toUpperCase(), `{${random.uuid()}}`, random.uuid().replace(/-/g, '')]);
}

type JsonSchema = Record<string, any>;

/** Strings and values that pass a schema's shape checks yet are hostile to what stores or renders them. */
const HOSTILE_TEXT = ['a\u0000b', '\u0000', 'x\ud800', '\udfffy', 'ok\u2028\u2029', '\u202eevil', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇', '💥👩‍👩‍👧‍👦', "' or '1'='1' --", '<script>alert(1)</script>', '{{7*7}}', '__proto__'];

export interface ValueOptions {
  /** Chance that a free-text string or an untyped value is a hostile one that still fits the schema's shape. */
  hostility?: number;
}

/**
 * A value the schema accepts (mostly: its regexes are honoured only for the formats named); with hostility,
 * free text may carry NUL, lone surrogates and the like, and untyped values may nest deeply.
 */
export function validValue(random: Random, schema: JsonSchema, pool: IdPool, options: ValueOptions = {}, name?: string, depth = 0): unknown {
  const hostility = options.hostility ?? 0;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return random.pick(schema.enum);
  if (schema.oneOf || schema.anyOf) return validValue(random, random.pick(schema.oneOf ?? schema.anyOf), pool, options, name, depth);
  switch (schema.type) {
    case 'object': {
      const value: Record<string, unknown> = {};
      const required = new Set<string>(schema.required ?? []);
      for (const [key, inner] of Object.entries<JsonSchema>(schema.properties ?? {})) {
        if (required.has(key) || random.chance(0.5)) value[key] = validValue(random, inner, pool, options, key, depth + 1);
      }
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object' && random.chance(0.7)) {
        for (let n = random.int(3); n > 0; n--) {
          const key = random.chance(hostility) ? random.pick(HOSTILE_TEXT) : `k${random.hex(4)}`;
          value[key] = validValue(random, schema.additionalProperties, pool, options, undefined, depth + 1);
        }
      }
      return value;
    }
    case 'array': {
      const min = schema.minItems ?? 0;
      const length = random.between(min, Math.min(schema.maxItems ?? 3, min + 3));
      return Array.from({ length }, () => validValue(random, schema.items ?? {}, pool, options, name, depth + 1));
    }
    case 'string':
      return validString(random, schema, pool, hostility, name);
    case 'integer':
      return random.between(schema.minimum ?? 0, Math.min(schema.maximum ?? 1000, (schema.minimum ?? 0) + 1000));
    case 'number':
      return Math.round(random.next() * Math.min(schema.maximum ?? 1000, 1000) * 1000) / 1000 + (schema.minimum ?? 0);
    case 'boolean':
      return random.chance(0.5);
    case 'null':
      return null;
    default:
      if (random.chance(hostility)) {
        return random.chance(0.5) ? nestedValue(random.pick([65, 300, 2000])) : { [random.pick(HOSTILE_TEXT)]: random.pick(HOSTILE_TEXT) };
      }
      return anyJson(random, depth);
  }
}

function nestedValue(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = level % 2 ? [value] : { a: value };
  return value;
}

function validString(random: Random, schema: JsonSchema, pool: IdPool, hostility: number, name?: string): string {
  if (schema.format === 'uuid') return idLike(random, pool, name);
  if (schema.format === 'email' || name === 'email') return `fuzz-${random.hex(8)}@example.com`;
  if (schema.format === 'uri') {
    return random.pick(['https://hooks.example.invalid/fuzz', 'http://127.0.0.1:9/fuzz', 'http://[::1]:9/', 'https://example.invalid/ü?a=1#f']);
  }
  if (name && pool.byName[name]?.length && random.chance(0.6)) return random.pick(pool.byName[name]!);
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 40, min + 40);
  if (random.chance(hostility)) {
    const hostile = random.pick(HOSTILE_TEXT);
    if (hostile.length >= min && hostile.length <= (schema.maxLength ?? Infinity)) return hostile;
  }
  const alphabet = 'abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789-_.éüß日本💥';
  const length = random.between(Math.max(min, 1), Math.max(min, max, 1));
  let text = '';
  while ([...text].length < length) text += random.pick([...alphabet]);
  return [...text].slice(0, length).join('').trim().padEnd(Math.max(min, 1), 'x');
}

/** Arbitrary JSON, small. */
export function anyJson(random: Random, depth = 0): unknown {
  const kind = depth > 3 ? random.int(4) : random.int(7);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, -1, 1.5, 2 ** 53 + 1, 1e308, -1e308, 5e-324, 42]);
    case 3:
      return random.pick(NASTY_STRINGS);
    case 4:
      return Array.from({ length: random.int(4) }, () => anyJson(random, depth + 1));
    default: {
      const value: Record<string, unknown> = {};
      for (let n = random.int(4); n > 0; n--) value[random.pick(['a', 'b', '__proto__', 'constructor', 'summary', '💥', ''])] = anyJson(random, depth + 1);
      return value;
    }
  }
}

/** Nested arrays or objects `depth` levels deep, as text (JSON.stringify itself gives up long before 100 000). */
export function deeplyNested(random: Random, depth: number): string {
  return random.chance(0.5) ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const DEEP = '"__DEEP__"';

/**
 * A changed copy of a valid value, as JSON text: a field dropped, a wrong type, an unknown or prototype key, a
 * huge or hostile string, an edge-case number, or a subtree replaced by very deep nesting.
 */
export function mutatedJson(random: Random, valid: unknown): string {
  const copy = structuredClone(valid);
  const paths = leafPaths(copy);
  const [parent, key] = paths.length ? random.pick(paths) : [null, null];
  let deep: string | null = null;
  const set = (value: unknown) => {
    if (parent && key !== null) (parent as Record<string, unknown>)[key] = value;
  };
  switch (random.int(10)) {
    case 0:
      if (parent && key !== null) {
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete (parent as Record<string, unknown>)[key];
      }
      break;
    case 1:
      set(random.pick([null, 0, true, 'text', [], {}, [1, 2], { a: 1 }]));
      break;
    case 2: {
      const target = parent && !Array.isArray(parent) ? (parent as Record<string, unknown>) : copy && typeof copy === 'object' && !Array.isArray(copy) ? (copy as Record<string, unknown>) : null;
      if (target) Object.defineProperty(target, random.pick(['__proto__', 'constructor', 'prototype', 'isAdmin', '', '💥']), { value: anyJson(random), enumerable: true, configurable: true, writable: true });
      break;
    }
    case 3:
      set('h'.repeat(random.pick([1025, 70_000, 200_000])));
      break;
    case 4:
      set(random.pick(NASTY_STRINGS));
      break;
    case 5:
      set(random.pick([-0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 5e-324, 1e21]));
      break;
    case 6:
      deep = deeplyNested(random, random.pick([100, 1000, 20_000]));
      set('__DEEP__');
      break;
    case 7:
      set([parent && key !== null ? (parent as Record<string, unknown>)[key] : null]);
      break;
    case 8:
      return JSON.stringify(random.pick([null, 0, 'text', [], [copy], true]));
    default:
      set(anyJson(random));
  }
  const text = JSON.stringify(copy) ?? 'null';
  return deep ? text.replace(DEEP, deep) : text;
}

function leafPaths(value: unknown, found: [object, string][] = []): [object, string][] {
  if (value && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      found.push([value, key]);
      leafPaths((value as Record<string, unknown>)[key], found);
    }
  }
  return found;
}

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}
