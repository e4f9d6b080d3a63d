import fc from 'fast-check';
import {
  getNamedType,
  GraphQLBoolean,
  GraphQLNonNull,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  Lexer,
  Source,
  TokenKind,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type GraphQLUnionType,
} from 'graphql';

/**
 * Generators of bad input for the property tests: GraphQL operations built
 * from the served schema, HTTP bodies and WebSocket frames. Each draws on a
 * World: real ids, cursors and tokens of the file's own users, so random
 * input reaches past the first check (NOT_FOUND) as often as it stops there.
 */
export interface World {
  userIds: string[];
  roomIds: string[];
  messageIds: string[];
  /** Real cursors of real messages. */
  cursors: string[];
  /** Authorization header values, each followed by what they are. */
  tokens: { valid: string; expired: string; otherSecret: string; algNone: string };
  /** A password the requests carry that no answer may ever contain. */
  secret: string;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An id that names nothing, but is well formed. */
export const MISSING_ID = '00000000-0000-4000-8000-000000000000';

/** The start of a text or of bytes (as UTF-8), for failure reports: fast-check would print every byte. */
export const clip = (value: string | Uint8Array, max = 200): string => {
  const textValue = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  return textValue.length > max
    ? `${JSON.stringify(textValue.slice(0, max))}… (${textValue.length} chars)`
    : JSON.stringify(textValue);
};

/** `value`, printed by fast-check (in a counterexample) as `print` says. */
function printedAs<T extends object>(value: T, print: () => string): T {
  Object.defineProperty(value, fc.toStringMethod, { value: print, enumerable: false });
  return value;
}

// ---------------------------------------------------------------------------
// Scalars

/** `arbitrary` once in `outOf` draws, null otherwise. */
export const rarely = <T>(arbitrary: fc.Arbitrary<T>, outOf: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: outOf - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

/** A lone (unpaired) UTF-16 surrogate: not well-formed text. */
export const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

/** Text with lone surrogates in it, at the start, the end or between characters. */
export const textWithLoneSurrogate = fc
  .tuple(fc.string({ maxLength: 8 }), loneSurrogate, fc.string({ maxLength: 8 }))
  .map(([a, s, b]) => a + s + b);

/** Strings people and tools get wrong: empty, blank, NUL, huge, tsquery syntax, injection attempts, odd Unicode. */
const SPECIAL_STRINGS = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  'a\u0000b',
  '\uFEFF',
  '\u200B',
  '\u202Eabc',
  'e\u0301',
  '👍',
  '👨‍👩‍👧',
  '🇫🇷',
  '👍👍',
  '\uD83D',
  '\uDC4D',
  "'; drop table messages; --",
  '" OR ""="',
  '%',
  '_',
  '\\',
  '$1',
  '${x}',
  '{{x}}',
  '<script>alert(1)</script>',
  '!',
  '&',
  '|',
  ':*',
  '(',
  'a & !b | (c',
  '"unterminated',
  '-',
  'OR',
  'a OR',
  '*',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'v1:',
  'NaN',
];

const words = (count: number, separator: string) =>
  Array.from({ length: count }, (_, i) => `w${(i * 7919) % 100_000}`).join(separator);

/** Long text: just past a limit (4000, 256, 64 characters), or far past it, or the many-words search that broke PGlite. */
const longString = fc.oneof(
  fc.constantFrom(65, 101, 257, 4001, 8193).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 300, max: 20_000 }).map((n) => words(Math.ceil(n / 7), ' ')),
  fc.integer({ min: 1000, max: 9500 }).map((n) => words(n, ' OR ')),
  fc.integer({ min: 100, max: 5000 }).map((n) => '👍'.repeat(n)),
);

/** Any text, weighted to the short and the odd. */
export const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 2, arbitrary: textWithLoneSurrogate },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 1, arbitrary: longString },
);

/** Ints around every documented bound, past int4, and not ints at all. */
export const int: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -3, max: 260 }) },
  { weight: 3, arbitrary: fc.constantFrom(0, -1, 20, 100, 101, 199, 200, 201, 2 ** 31 - 1, -(2 ** 31)) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53 - 1, -(2 ** 53), 1e21) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }) },
);

/** A seq a forged cursor may carry: in range, on its edges and past int4 (what sent PGlite into an endless loop). */
const cursorSeq = fc.oneof(
  fc.integer({ min: 0, max: 5 }),
  fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 32, 9_999_999_999, 99_999_999_999, -1),
);

/**
 * Ids, mostly real: for an argument whose name says what it names (roomId,
 * userId, messageId, replyToId), mostly one of those, so that what follows
 * the lookup (membership, cursors, limits) is reached too.
 */
export function ids(world: World, name = ''): fc.Arbitrary<string> {
  const real = [...world.userIds, ...world.roomIds, ...world.messageIds];
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...namedIds(world, name)) },
    { weight: 2, arbitrary: fc.constantFrom(...real) },
    { weight: 1, arbitrary: fc.constantFrom(...real).map((id) => id.toUpperCase()) },
    { weight: 2, arbitrary: fc.constantFrom(MISSING_ID, '', '0', '-1', 'null', ' ') },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: text },
  );
}

/** The real ids an argument's name says it wants: rooms for roomId, users for userId, messages for messageId and replyToId. */
function namedIds(world: World, name: string): string[] {
  if (/^room/i.test(name)) return world.roomIds;
  if (/^user/i.test(name)) return world.userIds;
  if (/message|reply/i.test(name)) return world.messageIds;
  return [...world.userIds, ...world.roomIds, ...world.messageIds];
}

/** Real cursors, forged ones (any room, any seq, other versions), base64 junk and text; only real and well-formed forged ones when clean. */
export function cursors(world: World, values: Values = 'dirty'): fc.Arbitrary<string> {
  const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  // Well formed, of a real room, with any seq: what reaches SQL.
  const forged = fc.tuple(fc.constantFrom(...world.roomIds), cursorSeq).map(([room, seq]) => encode(`v1:${room}:${seq}`));
  const malformed = fc
    .tuple(fc.constantFrom('v1', 'v2', '', 'v1:v1'), fc.oneof(fc.constantFrom(...world.roomIds), fc.uuid(), text), cursorSeq)
    .map(([version, room, seq]) => encode(`${version}:${room}:${seq}`));
  if (values === 'clean')
    return fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...world.cursors) }, { weight: 3, arbitrary: forged });
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...world.cursors) },
    { weight: 4, arbitrary: forged },
    { weight: 2, arbitrary: malformed },
    { weight: 1, arbitrary: fc.base64String({ maxLength: 300 }) },
    { weight: 2, arbitrary: text },
  );
}

// ---------------------------------------------------------------------------
// Values for a schema input type: valid-shaped (of the type, with bad contents) or of another type

/** Any JSON at all: what a client that ignores the schema sends. */
export const junk: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;

/** Ints a careful client sends: counts within their limits, seqs that exist or just past them. */
const cleanInt = fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constantFrom(1, 5, 199, 200, 2 ** 31 - 1));

/**
 * Values for one document: 'dirty' ones come from every bad-input generator
 * (and, for variables, of another shape now and then); 'clean' ones keep
 * everything but text and cursors valid (ints in range, real ids, every
 * required field), so the bad text and the forged cursors get past the
 * first check that any other bad value would trip.
 */
export type Values = 'clean' | 'dirty';

function scalarValue(type: string, name: string, world: World, values: Values): fc.Arbitrary<Json> {
  const lower = name.toLowerCase();
  const clean = values === 'clean';
  if (type === 'Int') return clean ? cleanInt : int;
  if (type === 'Boolean') return fc.boolean();
  if (type === 'Float') return fc.double({ noNaN: true, noDefaultInfinity: true });
  if (type === 'ID') return clean ? fc.constantFrom(...namedIds(world, name)) : ids(world, name);
  if (type === 'DateTime')
    return fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      text,
    );
  if (lower === 'after' || lower === 'before') return cursors(world, values);
  if (lower === 'password') return fc.oneof(fc.constant(world.secret), fc.constant(`${world.secret}${'!'.repeat(300)}`), text);
  // Search text: the many-words queries that block or break the embedded database, as often as any other text.
  if (lower === 'query') return fc.oneof(text, longString);
  if (lower === 'emoji') return fc.oneof(fc.constantFrom('👍', '👨‍👩‍👧', '🇫🇷', '👍🏽', '❤️', 'a', ':+1:', '👍👍'), text);
  return text;
}

/**
 * A value for `type`, shaped as the type says (so it passes GraphQL's
 * coercion as often as not) but with contents from the bad-input
 * generators; 'dirty' ones, now and then, of another shape entirely.
 */
export function valueFor(
  type: GraphQLInputType,
  name: string,
  world: World,
  values: Values = 'dirty',
  depth = 0,
): fc.Arbitrary<Json> {
  const shaped = shapedValue(type, name, world, values, depth);
  if (values === 'clean') return shaped;
  return fc.oneof({ weight: 9, arbitrary: shaped }, { weight: 1, arbitrary: fc.oneof(junk, fc.constant(null)) });
}

function shapedValue(type: GraphQLInputType, name: string, world: World, values: Values, depth: number): fc.Arbitrary<Json> {
  const clean = values === 'clean';
  if (isNonNullType(type)) return shapedValue(type.ofType, name, world, values, depth);
  if (isListType(type)) return fc.array(valueFor(type.ofType, name, world, values, depth + 1), { maxLength: 3 });
  if (isEnumType(type)) {
    const names = type.getValues().map((v) => v.name);
    if (clean) return fc.constantFrom(...names);
    return fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...names) },
      { weight: 1, arbitrary: fc.constantFrom('NOPE', 'public', '') },
    );
  }
  if (isInputObjectType(type)) {
    if (depth > 3) return fc.constant({});
    const fields = Object.values(type.getFields());
    const entries = fields.map((field) =>
      fc.tuple(
        fc.constant(field.name),
        valueFor(field.type, field.name, world, values, depth + 1),
        fc.integer({ min: 0, max: 19 }),
      ),
    );
    const extras = clean ? fc.constant(null) : rarely(fc.tuple(fc.constantFrom('extra', 'roomID', '__proto__'), junk), 10);
    return fc.tuple(fc.tuple(...entries), extras).map(([given, extra]) => {
      const object: Record<string, Json> = {};
      given.forEach(([key, value, roll], i) => {
        // Required fields are (nearly, when dirty) always there, optional ones half the time.
        const required = isNonNullType(fields[i]!.type);
        if (roll < (required ? (clean ? 20 : 18) : 10)) object[key] = value;
      });
      if (extra) Object.defineProperty(object, extra[0], { value: extra[1], enumerable: true });
      return object;
    });
  }
  return scalarValue(getNamedType(type).name, name, world, values);
}

// ---------------------------------------------------------------------------
// GraphQL operations from the schema

export type OperationKind = 'query' | 'mutation' | 'subscription';

export interface GeneratedOperation {
  kind: OperationKind;
  query: string;
  variables: Record<string, Json>;
  operationName?: string;
  /** The longest chain of nested fields: `{ me { id } }` is 2. */
  depth: number;
  /** Aliases as graphql-armor counts them (not those of __typename). */
  aliases: number;
  /** Lexical tokens of the document; null when it was mangled into something that does not lex. */
  tokens: number | null;
  /** The printed document was cut or had a character put in: it may not parse. */
  mangled: boolean;
}

/** A planned argument: a literal in the document, or a variable (declared with its type or a wrong one). */
interface ArgumentPlan {
  name: string;
  /** null for an argument the field does not have. */
  type: GraphQLInputType | null;
  /** The value as a variable carries it (of any shape now and then). */
  value: Json;
  /** The value written inline: of the argument's type (its contents are still bad input). */
  literal: Json;
  /** null: inline; 'right': a variable declared with the argument's type (the 'wrong variable type' flaw changes it). */
  variable: null | 'right';
  /** The variable's value is left out of `variables`. */
  absent: boolean;
}

interface FieldPlan {
  name: string;
  aliased: boolean;
  args: ArgumentPlan[];
  directive: null | 'include' | 'skip' | 'unknown';
  selection: SetPlan | null;
}

interface SetPlan {
  type: GraphQLObjectType | GraphQLUnionType;
  fields: FieldPlan[];
  /** Union members selected with inline fragments. */
  fragments: Array<{ on: string; set: SetPlan }>;
  typename: boolean;
}

/** How deep a selection on each type can go (capped): a type with only scalars is 1. */
function reachOf(schema: GraphQLSchema): Map<string, number> {
  const CAP = 20;
  const reach = new Map<string, number>();
  const composite = Object.values(schema.getTypeMap()).filter(
    (t) => (isObjectType(t) || isUnionType(t)) && !t.name.startsWith('__'),
  );
  for (const t of composite) reach.set(t.name, 1);
  for (let changed = true; changed;) {
    changed = false;
    for (const t of composite) {
      let best = 1;
      if (isObjectType(t)) {
        for (const field of Object.values(t.getFields())) {
          const sub = reach.get(getNamedType(field.type).name);
          if (sub !== undefined) best = Math.max(best, 1 + sub);
        }
      } else {
        for (const member of (t as GraphQLUnionType).getTypes()) best = Math.max(best, reach.get(member.name) ?? 1);
      }
      best = Math.min(best, CAP);
      if (best > reach.get(t.name)!) {
        reach.set(t.name, best);
        changed = true;
      }
    }
  }
  return reach;
}

type Composite = GraphQLObjectType | GraphQLUnionType;

/** One of `fields`, those with arguments more often: arguments are where the input is. */
const weighted = (fields: Array<GraphQLField<unknown, unknown>>) =>
  fc.oneof(...fields.map((field) => ({ weight: 1 + 2 * field.args.length, arbitrary: fc.constant(field) })));
const BOOLEAN = new GraphQLNonNull(GraphQLBoolean);
const isComposite = (t: GraphQLNamedType): t is Composite => isObjectType(t) || isUnionType(t);

export interface OperationOptions {
  /** Which root types to draw from. */
  kinds?: OperationKind[];
}

/**
 * What makes a document invalid, at most one per document: most documents
 * validate, so their values reach the resolvers (a flaw in each field would
 * refuse nearly all of them before any resolver ran).
 */
export type Flaw =
  | 'none'
  | 'unknown argument'
  | 'missing argument'
  | 'unknown directive'
  | 'wrong variable type'
  | 'literal of another type'
  | 'second operation'
  | 'fragment cycle'
  | 'unknown fragment'
  | 'mangled';

const flaws = fc.oneof(
  { weight: 18, arbitrary: fc.constant<Flaw>('none') },
  {
    weight: 9,
    arbitrary: fc.constantFrom<Flaw>(
      'unknown argument',
      'missing argument',
      'unknown directive',
      'wrong variable type',
      'literal of another type',
      'second operation',
      'fragment cycle',
      'unknown fragment',
      'mangled',
      'mangled',
    ),
  },
);

/**
 * Random operations of the served schema: a root field chosen at random with
 * a selection whose deepest chain of fields is 1-16 long (depth 0-15 below
 * the root field), 0-50 aliases, arguments inline or as variables, values
 * from valueFor (variables of another type now and then), named fragments,
 * @include/@skip, and at most one flaw that makes the document invalid.
 */
export function operations(
  schema: GraphQLSchema,
  world: World,
  options: OperationOptions = {},
): fc.Arbitrary<GeneratedOperation> {
  const reach = reachOf(schema);
  const roots: Record<OperationKind, GraphQLObjectType | null | undefined> = {
    query: schema.getQueryType(),
    mutation: schema.getMutationType(),
    subscription: schema.getSubscriptionType(),
  };
  const kinds = (options.kinds ?? ['query', 'mutation', 'subscription']).filter((k) => roots[k]);
  const plan = fc
    .record({
      kind: fc.constantFrom(...kinds),
      depth: fc.integer({ min: 1, max: 16 }),
      aliasRate: fc.constantFrom(0, 0, 0.1, 0.5, 1),
      padding: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 })),
      bulk: rarely(fc.integer({ min: 1500, max: 2600 }), 8),
      variableRate: fc.constantFrom(0, 0.5, 1),
      named: fc.boolean(),
      operationName: fc.oneof(
        { weight: 6, arbitrary: fc.constant<Knobs['operationName']>('none') },
        { weight: 3, arbitrary: fc.constant<Knobs['operationName']>('right') },
        { weight: 1, arbitrary: fc.constant<Knobs['operationName']>('wrong') },
      ),
      namedFragment: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
      values: fc.constantFrom<Values>('clean', 'dirty'),
      flaw: flaws,
      mangle: fc.tuple(
        fc.constantFrom<'cut' | 'insert'>('cut', 'insert'),
        fc.nat(),
        fc.constantFrom('{', '}', '(', '$', '"', '@', '...', '#', '\u0000', 'é'),
      ),
    })
    // Clean values carry no flaw either: those documents are for reaching the resolvers.
    .map((knob) => (knob.values === 'clean' ? { ...knob, flaw: 'none' as const } : knob))
    .chain((knob) => {
      const root = roots[knob.kind]!;
      const ctx: PlanContext = {
        schema,
        world,
        reach,
        aliasRate: knob.aliasRate,
        variableRate: knob.variableRate,
        values: knob.values,
      };
      const depth = Math.min(knob.depth, reach.get(root.name) ?? 1);
      // A subscription selects one root field, and no __typename beside it.
      return setPlan(root, depth, ctx, knob.kind === 'subscription' ? 1 : 3)
        .map((set) => (knob.kind === 'subscription' ? { ...set, typename: false } : set))
        .map((set) => ({ knob, set }));
    });
  return plan.map(({ knob, set }) => printOperation(knob, set));
}

interface PlanContext {
  schema: GraphQLSchema;
  world: World;
  reach: Map<string, number>;
  aliasRate: number;
  variableRate: number;
  values: Values;
}

/**
 * A selection on `type` whose deepest chain of fields is `levels` long: one
 * field carries the chain on (the spine), up to `breadth - 1` others are
 * leaves or shallow.
 */
function setPlan(type: Composite, levels: number, ctx: PlanContext, breadth = 3): fc.Arbitrary<SetPlan> {
  if (isUnionType(type)) {
    const members = type.getTypes();
    const deepEnough = members.filter((m) => (ctx.reach.get(m.name) ?? 1) >= levels);
    const spine = deepEnough.length > 0 ? deepEnough : members;
    return fc
      .tuple(fc.constantFrom(...spine), fc.subarray([...members], { maxLength: 2 }), fc.boolean())
      .chain(([main, others, typename]) => {
        const rest = others.filter((m) => m !== main);
        return fc
          .tuple(setPlan(main, levels, ctx), ...rest.map((m) => setPlan(m, Math.min(levels, 2), ctx, 2)))
          .map(([mainSet, ...otherSets]) => ({
            type,
            fields: [],
            fragments: [main, ...rest].map((m, i) => ({ on: m.name, set: i === 0 ? mainSet : otherSets[i - 1]! })),
            typename,
          }));
      });
  }
  const fields = Object.values(type.getFields());
  const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
  const nested = fields.filter((f) => isComposite(getNamedType(f.type)));
  const spines = nested.filter((f) => (ctx.reach.get(getNamedType(f.type).name) ?? 1) >= levels - 1);
  const typenameOnly = leaves.length === 0 && (levels <= 1 || spines.length === 0);
  if (levels <= 1 || spines.length === 0) {
    // The last level: scalars only.
    if (typenameOnly) return fc.constant({ type, fields: [], fragments: [], typename: true });
    return fc
      .tuple(fc.subarray(leaves, { minLength: 1, maxLength: Math.min(breadth, leaves.length) }), fc.boolean())
      .chain(([chosen, typename]) =>
        fc
          .tuple(...chosen.map((f) => fieldPlan(f, 1, ctx)))
          .map((planned) => ({ type, fields: planned, fragments: [], typename })),
      );
  }
  const others = [...leaves, ...nested];
  return fc
    .tuple(weighted(spines), fc.subarray(others, { maxLength: Math.min(breadth - 1, others.length) }), fc.boolean())
    .chain(([spine, extra, typename]) =>
      fc
        .tuple(
          fieldPlan(spine, levels, ctx),
          ...extra.filter((f) => f !== spine).map((f) => fieldPlan(f, Math.min(2, levels - 1), ctx)),
        )
        .map((planned) => ({ type, fields: planned, fragments: [], typename })),
    );
}

/** A field (with its arguments and, for an object or union type, a selection `levels` deep counting itself). */
function fieldPlan(field: GraphQLField<unknown, unknown>, levels: number, ctx: PlanContext): fc.Arbitrary<FieldPlan> {
  const named = getNamedType(field.type);
  const selection = isComposite(named) ? setPlan(named, Math.max(1, levels - 1), ctx, 2) : fc.constant(null);
  const args = field.args.map((arg) =>
    fc.record({
      name: fc.constant(arg.name),
      type: fc.constant(arg.type),
      // Variables may be of any shape (refused at run time, BAD_USER_INPUT); a literal of another type is a flaw.
      value: valueFor(arg.type, arg.name, ctx.world, ctx.values),
      literal: shapedValue(arg.type, arg.name, ctx.world, ctx.values, 0),
      // Required arguments are always given (leaving one out is a flaw), optional ones a third (clean) or half the time.
      given: fc.integer({ min: 0, max: 5 }).map((n) => isNonNullType(arg.type) || n < (ctx.values === 'clean' ? 2 : 3)),
      variable: fc
        .double({ min: 0, max: 1, noNaN: true })
        .map((roll): ArgumentPlan['variable'] => (roll >= ctx.variableRate ? null : 'right')),
      absent: ctx.values === 'clean' ? fc.constant(false) : fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
    }),
  );
  return fc
    .record({
      args: fc.tuple(...args),
      aliased: fc.double({ min: 0, max: 1, noNaN: true }).map((roll) => roll < ctx.aliasRate),
      directive: rarely(fc.constantFrom<FieldPlan['directive']>('include', 'skip'), 20),
      selection,
    })
    .map(({ args: planned, aliased, directive, selection: set }) => {
      const given: ArgumentPlan[] = planned
        .filter((a) => a.given)
        .map(({ name, type, value, literal, variable, absent }) => ({ name, type, value, literal, variable, absent }));
      return { name: field.name, aliased, args: given, directive: directive ?? null, selection: set };
    });
}

/** GraphQL literal syntax for a JSON value; enum-typed strings that are names print bare. */
export function printLiteral(value: Json, type: GraphQLInputType | null): string {
  const named = type ? getNamedType(type) : null;
  if (value === null) return 'null';
  if (typeof value === 'string') {
    if (named && isEnumType(named) && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value) && !['true', 'false', 'null'].includes(value))
      return value;
    return JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const inner = type && isNonNullType(type) ? type.ofType : type;
  if (Array.isArray(value))
    return `[${value.map((v) => printLiteral(v, inner && isListType(inner) ? inner.ofType : null)).join(', ')}]`;
  const fields = named && isInputObjectType(named) ? named.getFields() : {};
  const entries = Object.entries(value).map(([key, v], i) => {
    const name = /^[_A-Za-z][_0-9A-Za-z]*$/.test(key) ? key : `k${i}`;
    return `${name}: ${printLiteral(v, fields[key]?.type ?? null)}`;
  });
  return `{${entries.join(', ')}}`;
}

interface Knobs {
  kind: OperationKind;
  padding: number;
  /** This many more `__typename`s, for documents around the token limit. */
  bulk: number | null;
  named: boolean;
  operationName: 'none' | 'right' | 'wrong';
  /** The deepest nested selection as a named fragment. */
  namedFragment: boolean;
  flaw: Flaw;
  /** Where and how a 'mangled' document is cut or has a character put in. */
  mangle: ['cut' | 'insert', number, string];
}

function printOperation(knob: Knobs, root: SetPlan): GeneratedOperation {
  const declarations: string[] = [];
  const variables: Record<string, Json> = {};
  let aliases = 0;
  let padding = knob.padding;
  let bulk = knob.bulk ?? 0;
  /** The flaw still to be put in (each goes in once, at the first place it fits). */
  let flaw = knob.flaw;
  const take = (which: Flaw) => flaw === which && ((flaw = 'none'), true);
  let fragment: 'named' | 'cycle' | 'unknown' | null =
    knob.flaw === 'fragment cycle' ? 'cycle' : knob.flaw === 'unknown fragment' ? 'unknown' : knob.namedFragment ? 'named' : null;
  const fragments: string[] = [];
  let aliasIndex = 0;

  const printArg = (arg: ArgumentPlan) => {
    if (arg.variable === null) {
      const inline = take('literal of another type') ? (typeof arg.literal === 'string' ? true : 'twelve') : arg.literal;
      return `${arg.name}: ${printLiteral(inline, arg.type)}`;
    }
    const name = `v${declarations.length}`;
    const declared = take('wrong variable type') ? (String(arg.type) === 'Int' ? 'String' : 'Int') : String(arg.type ?? 'Int');
    declarations.push(`$${name}: ${declared}`);
    if (!arg.absent) variables[name] = arg.value;
    return `${arg.name}: $${name}`;
  };
  const printSet = (set: SetPlan, level: number): { text: string; depth: number } => {
    const parts: string[] = [];
    let depth = level;
    if (set.typename) parts.push('__typename');
    for (const field of set.fields) {
      let text = field.name;
      if (field.aliased) {
        text = `a${aliasIndex++}: ${text}`;
        aliases += 1;
      }
      const args = field.args.filter((arg) => !(arg.type !== null && isNonNullType(arg.type) && take('missing argument')));
      if (take('unknown argument')) args.push({ name: 'nope', type: null, value: 1, literal: 1, variable: null, absent: false });
      if (args.length > 0) text += `(${args.map(printArg).join(', ')})`;
      if (field.directive) {
        const condition = printArg({ name: 'if', type: BOOLEAN, value: true, literal: true, variable: 'right', absent: false });
        text += ` @${field.directive}(${condition})`;
      }
      if (take('unknown directive')) text += ' @nope';
      if (field.selection) {
        const inner = printSet(field.selection, level + 1);
        if (fragment !== null) {
          const name = `F${fragments.length}`;
          const own = inner.text.slice(2, -2);
          if (fragment === 'named') fragments.push(`fragment ${name} on ${field.selection.type.name} { ${own} }`);
          if (fragment === 'cycle') fragments.push(`fragment ${name} on ${field.selection.type.name} { ${own} ...${name} }`);
          text += fragment === 'unknown' ? ` { ${own} ...Nope }` : ` { ...${name} }`;
          fragment = null;
        } else {
          text += ` ${inner.text}`;
        }
        depth = Math.max(depth, inner.depth);
      }
      parts.push(text);
    }
    for (const fragmentOn of set.fragments) {
      const inner = printSet(fragmentOn.set, level);
      parts.push(`... on ${fragmentOn.on} ${inner.text}`);
      depth = Math.max(depth, inner.depth);
    }
    // Aliases of one scalar field to reach the alias count, on the first set that has one.
    const leaf = isObjectType(set.type)
      ? Object.values(set.type.getFields()).find((f) => isLeafType(getNamedType(f.type)) && f.args.length === 0)
      : undefined;
    if (padding > 0 && leaf && level > 1) {
      for (; padding > 0; padding--) {
        parts.push(`p${padding}: ${leaf.name}`);
        aliases += 1;
      }
    }
    if (bulk > 0 && level > 1) {
      parts.push(...Array<string>(bulk).fill('__typename'));
      bulk = 0;
    }
    return { text: `{ ${parts.join(' ')} }`, depth };
  };

  const body = printSet(root, 1);
  const name = knob.named ? 'Op' : '';
  const header =
    declarations.length > 0 ? `${knob.kind} ${name}(${declarations.join(', ')})` : name ? `${knob.kind} ${name}` : knob.kind;
  let query = [`${header} ${body.text}`, ...fragments].join(' ');
  if (take('second operation')) query += ' query Other { __typename }';
  const mangled = take('mangled');
  if (mangled) {
    const [how, at, ch] = knob.mangle;
    const position = at % (query.length + 1);
    query = how === 'cut' ? query.slice(0, position) : query.slice(0, position) + ch + query.slice(position);
  }
  const operationName =
    knob.operationName === 'right' ? (knob.named ? 'Op' : undefined) : knob.operationName === 'wrong' ? 'Nope' : undefined;
  return {
    kind: knob.kind,
    query,
    variables,
    ...(operationName !== undefined ? { operationName } : {}),
    depth: body.depth,
    aliases,
    tokens: countTokens(query),
    mangled,
  };
}

/** Tokens as a lexer sees them (what a token limit counts), or null when the text does not lex. */
export function countTokens(query: string): number | null {
  try {
    const lexer = new Lexer(new Source(query));
    let count = 0;
    while (lexer.advance().kind !== TokenKind.EOF) count += 1;
    return count;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// HTTP bodies

export const KIB = 1024;

export interface GeneratedBody {
  /** What kind of body it is, for the failure report. */
  shape: string;
  contentType: string | null;
  accept: string | null;
  authorization: string | null;
  body: Uint8Array;
  /** Strings placed where no answer has a reason to repeat them. */
  canaries: string[];
}

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const canary = hex(12).map((h) => `canary${h}`);
const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

/** A few operations every signed-in user may run, to wrap in bad envelopes. */
export const PLAIN_QUERIES = [
  '{ me { id username } }',
  'query Me { me { id } }',
  '{ myRooms { id name lastMessage { id body } } }',
  'query($q: String) { publicRooms(query: $q) { id } }',
  'mutation { refreshToken { token } }',
];

/** Authorization header values: mostly the signed-in user's, else none, another scheme, or a bad token. */
export function authorizations(world: World): fc.Arbitrary<string | null> {
  const { valid, expired, otherSecret, algNone } = world.tokens;
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${valid}`) },
    { weight: 2, arbitrary: fc.constant(null) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        `bearer ${valid}`,
        `Bearer  ${valid} `,
        `Bearer ${expired}`,
        `Bearer ${otherSecret}`,
        `Bearer ${algNone}`,
        `Bearer ${valid}x`,
        `Basic ${Buffer.from('a:b').toString('base64')}`,
        'Bearer',
        'Bearer ',
        `Bearer ${valid} ${valid}`,
        `Bearer ${'a'.repeat(9 * KIB)}`,
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => `Bearer ${s.replace(/[^\x21-\x7e]/g, '')}`) },
  );
}

const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/graphql+json',
  'application/graphql-response+json',
  'application/graphql',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=xyz',
  'text/plain',
  'text/html',
  'application/octet-stream',
  'application/json, text/plain',
  '*/*',
  ';',
  'application/JSON',
);

const accepts = fc.constantFrom<string | null>(
  null,
  'application/json',
  'application/graphql-response+json',
  'application/graphql-response+json, application/json',
  '*/*',
  'text/plain',
  'application/xml',
  'application/json;q=0',
  'nonsense',
);

/** A JSON request as a client might build it, with bad parts: the query, variables, operationName, extensions, extra fields. */
function requestObject(secret: string): fc.Arbitrary<Record<string, Json>> {
  const request = fc.record(
    {
      query: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...PLAIN_QUERIES) },
        { weight: 2, arbitrary: text },
        { weight: 1, arbitrary: junk },
      ),
      variables: fc.oneof(fc.constant<Json>({}), fc.constant<Json>(null), junk, fc.constant<Json>('{"q":"x"}')),
      operationName: fc.oneof(fc.constantFrom<Json>('Me', 'Nope', '', null), junk),
      extensions: fc.oneof(fc.constant<Json>({ persistedQuery: { version: 1, sha256Hash: 'abc' } }), junk),
    },
    { requiredKeys: [] },
  );
  // The secret rides in the extensions (which yoga reads), or now and then in a field yoga refuses outright.
  return fc
    .tuple(request, fc.integer({ min: 0, max: 3 }))
    .map(([fields, roll]) => (roll === 0 ? { ...fields, password: secret } : { ...fields, extensions: { note: secret } }));
}

/** A JSON value with the secret inside it, where that is possible. */
const jsonWithSecret = (secret: string) =>
  junk.map((value): Json => {
    if (Array.isArray(value)) return [...value, secret];
    if (value && typeof value === 'object') return { ...value, secret };
    return value;
  });

/** Bodies that straddle the 256 KiB limit, in the shapes that reach it: a long string in a request, a long query, raw bytes. */
const sizes = fc.oneof(
  fc.constantFrom(255 * KIB, 256 * KIB - 1, 256 * KIB, 256 * KIB + 1, 300 * KIB, 400 * KIB),
  fc.integer({ min: 1 * KIB, max: 400 * KIB }),
);

function bodyOfSize(shape: 'string' | 'query' | 'bytes', size: number, secret: string): Uint8Array {
  if (shape === 'bytes') {
    const bytes = Buffer.alloc(size, 0x61);
    bytes[0] = 0x07; // as in the random bytes: a document that fails before the secret
    Buffer.from(secret).copy(bytes, 1);
    return new Uint8Array(bytes);
  }
  const extensions = { note: secret };
  const frame =
    shape === 'string'
      ? { query: '{ me { id } }', variables: { pad: '' }, extensions }
      : { query: '{ me { id } } #', extensions };
  const base = Buffer.byteLength(JSON.stringify(frame));
  const pad = 'x'.repeat(Math.max(0, size - base));
  const filled = shape === 'string' ? { ...frame, variables: { pad } } : { ...frame, query: `{ me { id } } #${pad}` };
  return utf8(JSON.stringify(filled));
}

/**
 * Random HTTP request bodies with their headers: bytes, any JSON, requests
 * with bad parts, truncated JSON, a BOM in front, batches, deep nesting, odd
 * encodings, form and GraphQL bodies, and bodies around the size limit.
 * Each carries a canary where no answer has a reason to repeat it.
 */
export function httpBodies(world: World): fc.Arbitrary<GeneratedBody> {
  const bodies: fc.Arbitrary<MadeBody> = canary.chain((secret) =>
    fc
      .oneof(
        fc
          .tuple(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 64 }))
          // BEL cannot start a token: read as a document, the bytes fail before the secret, which no error may quote.
          .map(([a, b]) => ({ shape: 'bytes', body: new Uint8Array([...a, 0x07, ...utf8(secret), ...b]), natural: null })),
        jsonWithSecret(secret).map((value) => ({
          shape: 'json',
          body: utf8(JSON.stringify(value)),
          natural: 'application/json',
        })),
        requestObject(secret).map((r) => ({ shape: 'request', body: utf8(JSON.stringify(r)), natural: 'application/json' })),
        fc.tuple(requestObject(secret), fc.nat()).map(([r, at]) => {
          const json = JSON.stringify({ password: secret, ...r });
          return {
            shape: 'truncated JSON',
            body: utf8(json.slice(0, 1 + (at % Math.max(1, json.length - 1)))),
            natural: 'application/json',
          };
        }),
        fc
          .tuple(fc.constantFrom(...PLAIN_QUERIES), fc.constantFrom('\uFEFF', '\uFEFF\uFEFF', ' \uFEFF', '\uFFFE'))
          .map(([query, bom]) => ({
            shape: 'BOM',
            body: utf8(bom + JSON.stringify({ query, extensions: { secret } })),
            natural: 'application/json',
          })),
        fc
          .array(requestObject(secret), { maxLength: 4 })
          .map((batch) => ({ shape: 'batch', body: utf8(JSON.stringify(batch)), natural: 'application/json' })),
        fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.constantFrom('[', '{"a":'), fc.boolean()).map(([depth, open, closed]) => {
          const close = open === '[' ? ']' : '}';
          const inner = open === '[' ? JSON.stringify(secret) : `{"s":${JSON.stringify(secret)}}`;
          return {
            shape: 'nested',
            body: utf8(open.repeat(depth) + inner + (closed ? close.repeat(depth) : '')),
            natural: 'application/json',
          };
        }),
        fc
          .tuple(fc.constantFrom(...PLAIN_QUERIES), fc.constantFrom<BufferEncoding>('utf16le', 'latin1'), fc.boolean())
          .map(([query, encoding, bom]) => ({
            shape: `encoded ${encoding}`,
            body: new Uint8Array(
              Buffer.from((bom ? '\uFEFF' : '') + JSON.stringify({ query, extensions: { secret } }), encoding),
            ),
            natural: encoding === 'utf16le' ? 'application/json; charset=utf-16' : 'application/json; charset=latin1',
          })),
        fc
          .tuple(
            fc.oneof(fc.constantFrom(...PLAIN_QUERIES), text),
            fc.oneof(text, fc.constantFrom('{bad', '[1]', '5', 'null', '{"q":1}')),
          )
          .map(([query, variables]) => ({
            shape: 'form',
            body: utf8(new URLSearchParams({ query, variables, secret }).toString()),
            natural: 'application/x-www-form-urlencoded',
          })),
        fc
          .oneof(fc.constantFrom(...PLAIN_QUERIES), text)
          .map((query) => ({ shape: 'graphql', body: utf8(query), natural: 'application/graphql' })),
        sizedBody(secret),
      )
      .map((made) => ({ ...made, secret })),
  );
  return withHeaders(world, bodies);
}

function sizedBody(secret: string) {
  return fc.tuple(fc.constantFrom<'string' | 'query' | 'bytes'>('string', 'query', 'bytes'), sizes).map(([shape, size]) => ({
    shape: `${shape} of ${size} bytes`,
    body: bodyOfSize(shape, size, secret),
    natural: 'application/json',
  }));
}

/** Bodies from 1 KiB to 400 KiB, many right at the 256 KiB limit: a long string in a request, a long query, raw bytes. */
export function bodiesAroundTheLimit(world: World): fc.Arbitrary<GeneratedBody> {
  return withHeaders(
    world,
    canary.chain((secret) => sizedBody(secret).map((made) => ({ ...made, secret }))),
  );
}

type MadeBody = { shape: string; body: Uint8Array; natural: string | null; secret: string };

function withHeaders(world: World, bodies: fc.Arbitrary<MadeBody>): fc.Arbitrary<GeneratedBody> {
  return fc
    .record({
      made: bodies,
      contentType: fc.oneof(
        // The content type that goes with the body's shape, written 'natural' here.
        { weight: 3, arbitrary: fc.constant<string | null>('natural') },
        { weight: 2, arbitrary: contentTypes },
        { weight: 1, arbitrary: fc.constant(null) },
      ),
      accept: accepts,
      authorization: authorizations(world),
    })
    .map(({ made, contentType, accept, authorization }) => {
      const body: GeneratedBody = {
        shape: made.shape,
        contentType: contentType === 'natural' ? made.natural : contentType,
        accept,
        authorization,
        body: made.body,
        canaries: [made.secret],
      };
      return printedAs(
        body,
        () =>
          `[${body.shape}, ${body.body.byteLength} bytes, content-type ${body.contentType}, accept ${body.accept}, authorization ${clip(body.authorization ?? 'none', 40)}] ${clip(body.body)}`,
      );
    });
}

/** Random GET parameters: a query (plain, random or mangled), variables and extensions that may not be JSON, anything else. */
export function getParameters(
  world: World,
): fc.Arbitrary<{ params: Array<[string, string]>; authorization: string | null; accept: string | null }> {
  const param = fc.oneof(
    fc.tuple(fc.constant('query'), fc.oneof(fc.constantFrom(...PLAIN_QUERIES), text)),
    fc.tuple(
      fc.constant('variables'),
      fc.oneof(fc.constantFrom('{bad', '[1]', '5', 'null', '"x"', '{"q":"a"}', '{"q":1}', '{'), text),
    ),
    fc.tuple(
      fc.constant('extensions'),
      fc.oneof(fc.constantFrom('{bad', '[]', '{"persistedQuery":{"version":1,"sha256Hash":"x"}}'), text),
    ),
    fc.tuple(fc.constant('operationName'), fc.oneof(fc.constantFrom('Me', 'Nope', ''), text)),
    fc.tuple(fc.oneof(fc.constantFrom('query', 'variables', 'x', ''), text), text),
  );
  return fc.record({
    params: fc.array(param, { maxLength: 5 }),
    authorization: authorizations(world),
    accept: accepts,
  });
}

// ---------------------------------------------------------------------------
// WebSocket frames

export interface GeneratedFrame {
  /** What kind of frame it is, for the failure report. */
  shape: string;
  data: Buffer;
  binary: boolean;
}

/** The graphql-ws limit on one frame. */
export const MAX_FRAME_BYTES = 64 * KIB;

const messageTypes = fc.constantFrom<Json>(
  'connection_init',
  'connection_ack',
  'ping',
  'pong',
  'subscribe',
  'next',
  'error',
  'complete',
  'start',
  'stop',
  'connection_terminate',
  'ka',
  '',
  'SUBSCRIBE',
  5,
  null,
);

const messageIds = fc.oneof(
  fc.constantFrom<Json>('1', 'a', '', ' ', '__proto__', 'x'.repeat(300), 1, null),
  text as fc.Arbitrary<Json>,
  fc.uuid() as fc.Arbitrary<Json>,
);

/** connection_init payloads: the valid token, the bad ones, odd shapes. */
function initPayloads(world: World): fc.Arbitrary<Json | undefined> {
  return fc.oneof(
    authorizations(world).map((header): Json => (header === null ? {} : { authorization: header })),
    fc.constantFrom<Json | undefined>(
      undefined,
      null,
      [],
      'Bearer x',
      5,
      { Authorization: `Bearer ${world.tokens.valid}` },
      { authorization: 5 },
    ),
    junk,
  );
}

/** subscribe payloads: documents plain or random, variables that may be of any shape. */
function subscribePayloads(world: World): fc.Arbitrary<Json | undefined> {
  const room = fc.constantFrom(...world.roomIds);
  const documents = fc.oneof(
    fc.constantFrom(...PLAIN_QUERIES),
    room.map((r) => `subscription { messageAdded(roomId: "${r}") { id } }`),
    fc.constant('subscription($r: ID!, $a: String) { messageAdded(roomId: $r, after: $a) { id seq } }'),
    fc.constant('subscription { roomEvents(roomId: "x") { __typename } } subscription { myEvents { __typename } }'),
    text,
  );
  return fc.oneof(
    fc.record(
      {
        query: fc.oneof({ weight: 5, arbitrary: documents }, { weight: 1, arbitrary: junk }),
        variables: fc.oneof(
          fc.constant<Json>({}),
          fc.constant<Json>(null),
          room.map((r): Json => ({ r, a: null })),
          cursors(world).map((a): Json => ({ r: world.roomIds[0]!, a })),
          junk,
        ),
        operationName: fc.oneof(fc.constantFrom<Json>('Me', 'Nope', null), junk),
        extensions: fc.oneof(fc.constant<Json>(null), junk),
      },
      { requiredKeys: ['query'] },
    ),
    fc.constantFrom<Json | undefined>(undefined, null, {}, [], 'query'),
  );
}

const message = (value: Record<string, Json | undefined>) => JSON.stringify(value);

/**
 * Random frames: messages of every type (the client's, the server's, made-up
 * and old protocols') with random ids and payloads, any JSON, truncated JSON,
 * bytes, text that is not UTF-8, and frames around the 64 KiB limit; as text
 * or binary.
 */
export function wsFrames(world: World): fc.Arbitrary<GeneratedFrame> {
  const asFrame = (shape: string) => (arb: fc.Arbitrary<string>) =>
    fc
      .tuple(arb, fc.integer({ min: 0, max: 4 }))
      .map(([textValue, roll]) => ({ shape, data: Buffer.from(textValue, 'utf8'), binary: roll === 0 }));
  const big = fc
    .tuple(
      fc.constantFrom(MAX_FRAME_BYTES - 1, MAX_FRAME_BYTES, MAX_FRAME_BYTES + 1, 100 * KIB, 1024 * KIB),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([size, subscribe, binary]) => {
      const head = subscribe
        ? '{"id":"big","type":"subscribe","payload":{"query":"{ me { id } }","extensions":{"pad":"'
        : '{"type":"connection_init","payload":{"pad":"';
      const tail = subscribe ? '"}}}' : '"}}';
      const pad = 'x'.repeat(Math.max(0, size - head.length - tail.length));
      return { shape: `${subscribe ? 'subscribe' : 'init'} of ${size} bytes`, data: Buffer.from(head + pad + tail), binary };
    });
  const notUtf8 = fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom(0xff, 0xc0, 0xed, 0x80)).map(([textValue, bad]) => ({
    shape: 'text, not UTF-8',
    data: Buffer.concat([Buffer.from(textValue), Buffer.from([bad])]),
    binary: false,
  }));
  const bytes = fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.boolean())
    .map(([data, binary]) => ({ shape: 'bytes', data: Buffer.from(data), binary }));
  const truncated = fc
    .tuple(subscribePayloads(world), fc.nat())
    .map(([payload, at]) => message({ id: '1', type: 'subscribe', payload }).slice(0, at % 40));
  const anyMessage = fc.record({ type: messageTypes, id: fc.option(messageIds), payload: fc.option(junk) }, { requiredKeys: [] });
  return fc
    .oneof(
      {
        weight: 2,
        arbitrary: asFrame('init')(initPayloads(world).map((payload) => message({ type: 'connection_init', payload }))),
      },
      {
        weight: 4,
        arbitrary: asFrame('subscribe')(
          fc.tuple(messageIds, subscribePayloads(world)).map(([id, payload]) => message({ id, type: 'subscribe', payload })),
        ),
      },
      { weight: 3, arbitrary: asFrame('message')(anyMessage.map(message)) },
      {
        weight: 1,
        arbitrary: asFrame('ping')(
          fc.oneof(
            fc.constant(message({ type: 'ping' })),
            junk.map((payload) => message({ type: 'ping', payload })),
          ),
        ),
      },
      { weight: 1, arbitrary: asFrame('json')(junk.map((value) => JSON.stringify(value))) },
      { weight: 1, arbitrary: asFrame('truncated')(truncated) },
      { weight: 1, arbitrary: asFrame('text')(text) },
      { weight: 1, arbitrary: bytes },
      { weight: 1, arbitrary: notUtf8 },
      { weight: 1, arbitrary: big },
    )
    .map((frame) =>
      printedAs(
        frame,
        () => `[${frame.shape}, ${frame.binary ? 'binary' : 'text'}, ${frame.data.byteLength} bytes] ${clip(frame.data)}`,
      ),
    );
}

/** Whether a frame's bytes are longer than the limit allows. */
export const oversized = (frame: GeneratedFrame) => frame.data.byteLength > MAX_FRAME_BYTES;

// ---------------------------------------------------------------------------
// Hand-made values, for the examples every run tries first (inputs that once broke the server)

/** An operation as operations() would make it, written out. */
export function operation(
  kind: OperationKind,
  query: string,
  variables: Record<string, Json> = {},
  operationName?: string,
): GeneratedOperation {
  return {
    kind,
    query,
    variables,
    ...(operationName ? { operationName } : {}),
    depth: 1,
    aliases: 0,
    tokens: countTokens(query),
    mangled: false,
  };
}

/** A frame as wsFrames() would make it, written out. */
export function frame(shape: string, data: string | Buffer, binary = false): GeneratedFrame {
  const made = { shape, data: Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), binary };
  return printedAs(made, () => `[${shape}, ${binary ? 'binary' : 'text'}] ${clip(made.data)}`);
}
