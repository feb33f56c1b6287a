// GraphQL errors (api.md: `extensions.code`) and WebSocket close codes mapped to what the
// dashboard shows.

/** graphql-transport-ws close code patchbay uses for a missing/invalid token. */
export const WS_CLOSE_FORBIDDEN = 4403;

export interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown> | null;
  path?: ReadonlyArray<string | number> | null;
}

/** The subset of urql's CombinedError used here. */
export interface CombinedErrorLike {
  message?: string;
  graphQLErrors?: ReadonlyArray<GraphQLErrorLike>;
  networkError?: Error | null;
  response?: { status?: number } | null;
}

export type ErrorKind =
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'bad-input'
  | 'conflict'
  | 'rate-limited'
  | 'upstream'
  | 'unavailable'
  | 'network'
  | 'internal';

export interface ErrorView {
  kind: ErrorKind;
  code: string | null;
  title: string;
  message: string;
  /** `extensions.field` of BAD_USER_INPUT: a JSON path like `input.name`. */
  field?: string;
  retryAfterSeconds?: number;
  requestId?: string;
}

const TITLES: Record<ErrorKind, string> = {
  unauthenticated: 'Your token was refused',
  forbidden: 'Not allowed',
  'not-found': 'Not found',
  'bad-input': 'Check the input',
  conflict: 'Changed elsewhere',
  'rate-limited': 'Too many requests',
  upstream: 'The upstream call failed',
  unavailable: 'Integration unavailable',
  network: 'Cannot reach the server',
  internal: 'Something went wrong',
};

const KIND_OF_CODE: Record<string, ErrorKind> = {
  UNAUTHENTICATED: 'unauthenticated',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not-found',
  BAD_USER_INPUT: 'bad-input',
  GRAPHQL_VALIDATION_FAILED: 'bad-input',
  GRAPHQL_PARSE_FAILED: 'bad-input',
  CONFLICT: 'conflict',
  RATE_LIMITED: 'rate-limited',
  UPSTREAM_ERROR: 'upstream',
  INTEGRATION_UNAVAILABLE: 'unavailable',
  INTERNAL: 'internal',
};

export function errorCode(error: GraphQLErrorLike): string | null {
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : null;
}

/** True when the error means the token is missing, invalid or revoked. */
export function isAuthFailure(error: CombinedErrorLike | null | undefined): boolean {
  if (!error) return false;
  if (error.graphQLErrors?.some((e) => errorCode(e) === 'UNAUTHENTICATED')) return true;
  return error.response?.status === 401;
}

/** True for a WebSocket close event patchbay sends for a refused token. */
export function isAuthClose(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    'code' in event &&
    (event as { code: unknown }).code === WS_CLOSE_FORBIDDEN
  );
}

function stripPrefix(message: string): string {
  return message.replace(/^\[(GraphQL|Network)\]\s*/, '');
}

/** Maps the first error to what the UI shows. */
export function describeError(error: CombinedErrorLike | GraphQLErrorLike | null | undefined): ErrorView | null {
  if (!error) return null;
  const combined = error as CombinedErrorLike;
  const first: GraphQLErrorLike | undefined =
    combined.graphQLErrors && combined.graphQLErrors.length
      ? combined.graphQLErrors[0]
      : 'extensions' in error && !('graphQLErrors' in error)
        ? (error as GraphQLErrorLike)
        : undefined;
  if (first) {
    const code = errorCode(first);
    const kind: ErrorKind = (code && KIND_OF_CODE[code]) || 'internal';
    const ext = first.extensions || {};
    const view: ErrorView = { kind, code, title: TITLES[kind], message: stripPrefix(first.message) };
    if (typeof ext.field === 'string') view.field = ext.field;
    if (typeof ext.retryAfterSeconds === 'number') view.retryAfterSeconds = ext.retryAfterSeconds;
    if (typeof ext.requestId === 'string') view.requestId = ext.requestId;
    return view;
  }
  if (combined.response?.status === 401) {
    return { kind: 'unauthenticated', code: 'UNAUTHENTICATED', title: TITLES.unauthenticated, message: 'The server refused the token.' };
  }
  const message = combined.networkError?.message || combined.message || 'Unknown error';
  return { kind: 'network', code: null, title: TITLES.network, message: stripPrefix(message) };
}

/** The field an error points at, relative to `input.` (for inline form messages). */
export function errorField(view: ErrorView | null): string | null {
  if (!view?.field) return null;
  return view.field.replace(/^input\./, '');
}
