import { AdminErrorCode } from '../../errors.js';
import { graphqlJs } from '../graphql-js.js';

const { GraphQLError, GraphQLScalarType, Kind } = graphqlJs;

const BAD_USER_INPUT = { extensions: { code: AdminErrorCode.BAD_USER_INPUT } };

export const DateTime = new GraphQLScalarType<Date | null, string>({
  name: 'DateTime',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue(value) {
    const date = new Date(String(value));
    if (typeof value !== 'string' || Number.isNaN(date.getTime())) {
      throw new GraphQLError('DateTime must be an ISO-8601 string', BAD_USER_INPUT);
    }
    return date;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING || Number.isNaN(new Date(ast.value).getTime())) {
      throw new GraphQLError('DateTime must be an ISO-8601 string', BAD_USER_INPUT);
    }
    return new Date(ast.value);
  },
});

/** Keys that must never be shown even if a writer of event data put one there by mistake. */
const SECRET_KEY = /token|secret|ciphertext|password|authorization|cookie/i;

function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1)]),
    );
  }
  return value;
}

/** Output-only JSON for event details, with secret-looking keys redacted as a second line of defence. */
export const JSON_ = new GraphQLScalarType({
  name: 'JSON',
  serialize: (value) => redact(value),
  parseValue: () => {
    throw new GraphQLError('JSON is an output type', BAD_USER_INPUT);
  },
  parseLiteral: () => {
    throw new GraphQLError('JSON is an output type', BAD_USER_INPUT);
  },
});
