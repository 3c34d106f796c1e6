import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLNamedType,
  GraphQLSchema,
  SelectionSetNode,
  ValueNode,
} from 'graphql';
import { adminError } from '../errors.js';
import { graphqlJs } from './graphql-js.js';

const { getNamedType, getNullableType, isInterfaceType, isListType, isObjectType, Kind } = graphqlJs;

export interface QueryLimits {
  /** Deepest field nesting allowed; `{ accounts { edges { node { id } } } }` is 4. */
  maxDepth: number;
  /** Highest estimated cost: every field costs 1 times the page sizes (`first`) of the lists around it. */
  maxCost: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 10, maxCost: 10_000 };

/** Page size assumed for a connection whose `first` is neither given nor defaulted. */
const UNKNOWN_PAGE_SIZE = 100;
/** Size assumed for a plain list (no `first`): queues, statuses, a user's accounts. */
const PLAIN_LIST_SIZE = 20;

interface Measure {
  depth: number;
  cost: number;
}

/**
 * Measures the depth and cost of every operation in the document, with the request's variables (so
 * `first: $n` is priced at its real value), and throws QUERY_TOO_DEEP or QUERY_TOO_COMPLEX. Runs after
 * validation, so the document is known to match the schema.
 */
export function enforceLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  limits: QueryLimits,
): Measure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const total: Measure = { depth: 0, cost: 0 };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const root =
      definition.operation === 'mutation'
        ? schema.getMutationType()
        : definition.operation === 'subscription'
          ? schema.getSubscriptionType()
          : schema.getQueryType();
    if (!root) continue;
    const defaults = new Map<string, unknown>();
    for (const v of definition.variableDefinitions ?? []) {
      if (v.defaultValue) defaults.set(v.variable.name.value, literal(v.defaultValue, variables, defaults));
    }
    const ctx: WalkContext = { schema, fragments, variables, defaults, limits };
    const measure = walk(definition.selectionSet, root, 1, 1, ctx, new Set());
    total.depth = Math.max(total.depth, measure.depth);
    total.cost += measure.cost;
  }
  if (total.depth > limits.maxDepth) {
    throw adminError('QUERY_TOO_DEEP', `Query depth ${total.depth} exceeds the limit of ${limits.maxDepth}`, {
      depth: total.depth,
      maxDepth: limits.maxDepth,
    });
  }
  if (total.cost > limits.maxCost) {
    throw adminError(
      'QUERY_TOO_COMPLEX',
      `Query cost ${total.cost} exceeds the limit of ${limits.maxCost}: ask for smaller pages or fewer fields`,
      { cost: total.cost, maxCost: limits.maxCost },
    );
  }
  return total;
}

interface WalkContext {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown> | undefined;
  defaults: Map<string, unknown>;
  limits: QueryLimits;
}

function walk(
  selectionSet: SelectionSetNode,
  parentType: GraphQLNamedType,
  depth: number,
  multiplier: number,
  ctx: WalkContext,
  visiting: Set<string>,
  connectionSize?: number,
): Measure {
  const result: Measure = { depth: 0, cost: 0 };
  // Stop early: a pathological query must not make the measuring itself expensive.
  if (depth > ctx.limits.maxDepth + 1) return { depth, cost: 0 };
  for (const selection of selectionSet.selections) {
    let measure: Measure;
    if (selection.kind === Kind.FIELD) {
      measure = field(selection, parentType, depth, multiplier, ctx, visiting, connectionSize);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? ctx.schema.getType(selection.typeCondition.name.value) : parentType;
      measure = walk(selection.selectionSet, type ?? parentType, depth, multiplier, ctx, visiting, connectionSize);
    } else {
      const name = selection.name.value;
      const fragment = ctx.fragments.get(name);
      if (!fragment || visiting.has(name)) continue;
      visiting.add(name);
      const type = ctx.schema.getType(fragment.typeCondition.name.value) ?? parentType;
      measure = walk(fragment.selectionSet, type, depth, multiplier, ctx, visiting, connectionSize);
      visiting.delete(name);
    }
    result.depth = Math.max(result.depth, measure.depth);
    result.cost += measure.cost;
  }
  return result;
}

function field(
  node: FieldNode,
  parentType: GraphQLNamedType,
  depth: number,
  multiplier: number,
  ctx: WalkContext,
  visiting: Set<string>,
  connectionSize: number | undefined,
): Measure {
  if (node.name.value.startsWith('__')) return { depth: 0, cost: 0 };
  const definition: GraphQLField<unknown, unknown> | undefined =
    isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[node.name.value] : undefined;
  const cost = multiplier;
  if (!node.selectionSet || !definition) return { depth, cost };
  // A connection's `first` prices its `edges`; a plain list is priced at a fixed size.
  let childMultiplier = multiplier;
  let pageSize: number | undefined;
  const firstArg = definition.args.find((a) => a.name === 'first');
  if (firstArg) {
    const given = node.arguments?.find((a) => a.name.value === 'first');
    const value = given ? literal(given.value, ctx.variables, ctx.defaults) : firstArg.defaultValue;
    pageSize = typeof value === 'number' && value > 0 ? value : UNKNOWN_PAGE_SIZE;
  } else if (node.name.value === 'edges') {
    childMultiplier *= connectionSize ?? PLAIN_LIST_SIZE;
  } else if (isListType(getNullableType(definition.type))) {
    childMultiplier *= PLAIN_LIST_SIZE;
  }
  const child = walk(
    node.selectionSet,
    getNamedType(definition.type),
    depth + 1,
    childMultiplier,
    ctx,
    visiting,
    pageSize,
  );
  return { depth: Math.max(depth, child.depth), cost: cost + child.cost };
}

function literal(value: ValueNode, variables: Record<string, unknown> | undefined, defaults: Map<string, unknown>) {
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const name = value.name.value;
    return variables?.[name] ?? defaults.get(name);
  }
  return undefined;
}
