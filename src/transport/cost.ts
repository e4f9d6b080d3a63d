import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ListSize } from '../features/feature.js';

/**
 * The weights graphql-armor's cost-limit used (and the README's figures are
 * made of): a field with a selection costs 2 plus 1.5 times each of its
 * children (times its size, for a list), a leaf 1, and `__schema` nothing.
 * Fragments, inline or spread, cost what their fields would cost written in
 * their place: armor counted each as one more level (a spread as a field
 * and an object besides), so the client kit's page of messages, written
 * with fragments, cost nearly twice the same fields written inline.
 */
const OBJECT_COST = 2;
const SCALAR_COST = 1;
const DEPTH_FACTOR = 1.5;
/** The arguments that say how many items a field returns (Relay's, and this API's). */
const SIZE_ARGUMENTS = new Set(['first', 'last']);

export interface CostOptions {
  /** Over this, the operation is refused (`MAX_QUERY_COST`). */
  maxCost: number;
  /** How many items a list without a size argument is taken to hold (`MAX_LIST_SIZE_ASSUMED`). */
  assumedListSize: number;
  /** What features say of their lists' sizes, by schema coordinate (Feature.listSizes); the rest are assumed. */
  listSizes?: Readonly<Record<string, ListSize>>;
}

/** What a request carries besides its document: its variables and which operation it runs. */
interface RequestParams {
  variables?: unknown;
  operationName?: unknown;
}

/**
 * The cost limit as a validation step that sees the request's variables:
 * `messages(last: $n)` costs what `$n` is, an argument left out costs its
 * default, and a list without a size argument (`myRooms`, `members`) costs
 * the assumed size. A validation rule cannot do it: rules see the document
 * only, and yoga caches their verdict by document. This runs after that
 * verdict, whether it was computed or cached (useValidationCache, which
 * must come before it in the plugin list), and adds its error to it, so a
 * document is refused with GRAPHQL_VALIDATION_FAILED on both transports.
 * The context at validation is yoga's (HTTP, SSE, multipart) or the one
 * operations.ts passes to getEnveloped (WebSocket): both hold `params`.
 */
export function useCostLimit(options: CostOptions): Plugin {
  const estimator = new CostEstimator(options.assumedListSize, options.listSizes);
  return {
    onValidate({ params, context }) {
      const schema = params.schema as GraphQLSchema;
      const document = params.documentAST as DocumentNode;
      const request = (context as { params?: RequestParams }).params ?? {};
      return ({ setResult, result }) => {
        const errors: GraphQLError[] = [];
        for (const cost of estimator.costs(schema, document, request)) {
          if (cost > options.maxCost) errors.push(costError(options.maxCost, cost));
        }
        if (errors.length > 0) setResult([...result, ...errors]);
      };
    },
  };
}

/**
 * yoga marks validation errors with their code and HTTP status in a hook
 * that runs only when the rules found something (it reads `valid` from
 * before this plugin's verdict), so the cost's error carries them itself:
 * what yoga would have added (status 400 for application/graphql-response+json).
 */
function costError(maxCost: number, cost: number): GraphQLError {
  return new GraphQLError(`Query Cost limit of ${maxCost} exceeded, found ${cost}.`, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { spec: true, status: 400 } },
  });
}

/**
 * yoga's validation cache, keyed by document only, in our plugin list so
 * that useCostLimit runs after it: yoga's own runs after every plugin of
 * ours, and would cache (and replay) the cost verdict of one request's
 * variables for every later request of the same document. The rules of
 * this server are the same for every request, so the document (the same
 * object for the same text, from yoga's parse cache) is the whole key.
 */
export function useValidationCache(): Plugin {
  const cache = new WeakMap<DocumentNode, readonly Error[]>();
  return {
    onValidate({ params, setResult }) {
      const document = params.documentAST as DocumentNode;
      const cached = cache.get(document);
      if (cached) return setResult(cached);
      return ({ result }) => void cache.set(document, result);
    },
  };
}

/** The cost of each operation a request may run (the one it names; all when it names none). */
export class CostEstimator {
  /** The costs of documents whose cost read no variable, by operation. */
  private readonly fixed = new WeakMap<DocumentNode, Map<string, number>>();

  constructor(
    private readonly assumedListSize: number,
    private readonly listSizes: Readonly<Record<string, ListSize>> = {},
  ) {}

  costs(schema: GraphQLSchema, document: DocumentNode, request: RequestParams = {}): number[] {
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const named =
      typeof request.operationName === 'string' ? operations.filter((o) => o.name?.value === request.operationName) : [];
    const variables = isPlainObject(request.variables) ? request.variables : {};
    return (named.length > 0 ? named : operations).map((operation) => {
      const key = operation.name?.value ?? '';
      const known = this.fixed.get(document)?.get(key);
      if (known !== undefined) return known;
      const walk = new CostWalk(schema, document, operation, variables, this.assumedListSize, this.listSizes);
      const cost = walk.operationCost();
      if (!walk.readVariables) {
        let byOperation = this.fixed.get(document);
        if (!byOperation) this.fixed.set(document, (byOperation = new Map<string, number>()));
        byOperation.set(key, cost);
      }
      return cost;
    });
  }
}

/** One operation's estimate under one request's variables. */
class CostWalk {
  /** Whether a variable's value went into the estimate (then it holds for this request only). */
  readVariables = false;
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  /** Fragments' costs (their fields' sum, before the factor of where they are spread), by name and whether their parent sized them. */
  private readonly fragmentCosts = new Map<string, number>();

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly operation: OperationDefinitionNode,
    private readonly variables: Readonly<Record<string, unknown>>,
    private readonly assumedListSize: number,
    private readonly listSizes: Readonly<Record<string, ListSize>>,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
    }
  }

  operationCost(): number {
    const root = this.schema.getRootType(this.operation.operation) ?? undefined;
    return this.children(root, this.operation.selectionSet, false, 1);
  }

  /**
   * The selections' costs, each times `factor` (1 at the operation's root,
   * 1.5 below a field). `sized`: the field above has a size argument, so a
   * list among these (a connection's `edges`) is its page, not counted again.
   */
  private children(parent: GraphQLNamedType | undefined, selectionSet: SelectionSetNode, sized: boolean, factor: number): number {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        cost += factor * this.field(parent, selection, sized);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parent;
        cost += this.children(type ?? undefined, selection.selectionSet, sized, factor);
      } else {
        cost += factor * this.fragment(selection.name.value, sized);
      }
    }
    return cost;
  }

  private fragment(name: string, sized: boolean): number {
    const key = `${name}:${sized}`;
    const known = this.fragmentCosts.get(key);
    if (known !== undefined) return known;
    const fragment = this.fragments.get(name);
    if (!fragment) return 0;
    this.fragmentCosts.set(key, 0); // a fragment that spreads itself (refused by validation anyway) ends here
    const type = this.schema.getType(fragment.typeCondition.name.value) ?? undefined;
    const cost = this.children(type, fragment.selectionSet, sized, 1);
    this.fragmentCosts.set(key, cost);
    return cost;
  }

  private field(parent: GraphQLNamedType | undefined, node: FieldNode, sizedByParent: boolean): number {
    if (node.name.value === '__schema') return 0;
    if (!node.selectionSet) return SCALAR_COST;
    const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[node.name.value] : undefined;
    const type = definition ? getNamedType(definition.type) : undefined;
    const { size, sizes } = this.size(parent, definition, node, sizedByParent);
    return size * (OBJECT_COST + this.children(isCompositeType(type) ? type : undefined, node.selectionSet, sizes, DEPTH_FACTOR));
  }

  /**
   * How many items a field returns (what its first/last ask, else what its
   * feature says it returns unasked, else the assumed size; never more than
   * its feature says it returns at most), and whether it sized its
   * children's lists itself.
   */
  private size(
    parent: GraphQLNamedType | undefined,
    definition: GraphQLField<unknown, unknown> | undefined,
    node: FieldNode,
    sizedByParent: boolean,
  ): { size: number; sizes: boolean } {
    const known = (parent && definition && this.listSizes[`${parent.name}.${definition.name}`]) || {};
    const bounded = (size: number) => Math.min(size, known.atMost ?? Infinity);
    // A field the schema does not know (refused by validation anyway) is sized by the arguments it was given.
    const names = definition
      ? definition.args.filter((arg) => SIZE_ARGUMENTS.has(arg.name)).map((arg) => arg.name)
      : (node.arguments ?? []).filter((arg) => SIZE_ARGUMENTS.has(arg.name.value)).map((arg) => arg.name.value);
    if (names.length > 0) {
      const given = names
        .map((name) =>
          this.integer(
            node.arguments?.find((arg) => arg.name.value === name)?.value,
            definition?.args.find((arg) => arg.name === name),
          ),
        )
        .filter((n): n is number => n !== null);
      const asked = given.length > 0 ? Math.max(1, ...given) : (known.unasked ?? this.assumedListSize);
      return { size: bounded(asked), sizes: true };
    }
    if (!definition || !isListType(getNullableType(definition.type)) || sizedByParent) return { size: 1, sizes: false };
    return { size: bounded(known.unasked ?? this.assumedListSize), sizes: false };
  }

  /**
   * The integer an argument gets: its literal, its variable's value (or the
   * variable's default when the request leaves it out), or the argument's
   * default when it is left out or null. null when none is an integer: the
   * request then fails on its own, or the service applies its default.
   */
  private integer(value: ValueNode | undefined, argument: GraphQLArgument | undefined): number | null {
    const fallback = int(argument?.defaultValue);
    if (!value) return fallback;
    if (value.kind === Kind.INT) return int(Number(value.value)) ?? fallback;
    if (value.kind !== Kind.VARIABLE) return fallback;
    // Given or not, the variable makes this estimate the request's own.
    this.readVariables = true;
    const name = value.name.value;
    if (Object.hasOwn(this.variables, name)) return int(this.variables[name]) ?? fallback;
    const declared = this.operation.variableDefinitions?.find((d) => d.variable.name.value === name)?.defaultValue;
    return declared?.kind === Kind.INT ? (int(Number(declared.value)) ?? fallback) : fallback;
  }
}

/** A GraphQL Int (32-bit), or null. */
function int(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2 ** 31 - 1 ? value : null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
