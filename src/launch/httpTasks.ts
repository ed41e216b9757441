/**
 * HTTP servers without code changes: Node's built-in diagnostics channels mark each request as a
 * task (from `http.server.request.start` to `http.server.response.finish`), named by method and
 * route. The framework's route when it exposes one on the request (Express: `req.route.path` under
 * `req.baseUrl`), else the path with its ids collapsed: `GET /users/:id`. Pure naming here; the
 * bootloader subscribes.
 */

/** Path segments that are ids, not routes: numbers, UUIDs, long hex, and long mixed tokens. */
const ID_SEGMENT = /^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|(?=[^/]*\d)[A-Za-z0-9_-]{20,})$/i;
/** Longest task name: a path with hundreds of segments is still one route. */
const MAX_NAME = 120;

/** `/users/42/orders?x=1` → `/users/:id/orders`. */
export function collapsePath(url: string): string {
  const path = url.split(/[?#]/, 1)[0] || '/';
  const segments = path.split('/').map((segment) => (ID_SEGMENT.test(segment) ? ':id' : segment));
  return segments.join('/') || '/';
}

/** What the bootloader reads of a request: structural, so any framework's request object fits. */
export interface RequestLike {
  method?: unknown;
  url?: unknown;
  originalUrl?: unknown;
  baseUrl?: unknown;
  route?: unknown;
}

/**
 * "GET /users/:id": the framework's route when the request carries one (or `route`, one the
 * framework told otherwise: Fastify), else the collapsed path.
 */
export function requestTaskName(request: RequestLike, route = frameworkRoute(request)): string {
  const method = typeof request.method === 'string' ? request.method.toUpperCase() : 'HTTP';
  const url = typeof request.originalUrl === 'string' ? request.originalUrl : typeof request.url === 'string' ? request.url : '/';
  const name = `${method} ${route ?? collapsePath(url)}`;
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name;
}

/** Express (and routers that copy it) leave the matched route on the request: `req.baseUrl + req.route.path`. */
function frameworkRoute(request: RequestLike): string | undefined {
  const route = request.route as { path?: unknown } | undefined;
  if (!route || typeof route !== 'object' || typeof route.path !== 'string') return undefined;
  const base = typeof request.baseUrl === 'string' ? request.baseUrl : '';
  return `${base}${route.path}` || '/';
}

/** Whether a task name is one the bootloader gave an HTTP request ("GET /users/:id"). */
export function isRequestTaskName(name: string): boolean {
  return /^(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE|HTTP) \//.test(name);
}

/**
 * The named functions that handled a request: Express's route handlers (`req.route.stack[].handle`)
 * or the one a framework told (Fastify's `routeOptions.handler`). Anonymous ones say nothing.
 */
export function routeHandlers(request: RequestLike, told?: unknown): string[] {
  const stack = (request.route as { stack?: unknown } | undefined)?.stack;
  const handles = Array.isArray(stack) ? stack.map((layer) => (layer as { handle?: unknown } | undefined)?.handle) : [];
  const names = [...handles, told].map((fn) => (typeof fn === 'function' ? fn.name.replace(/^bound /, '') : '')).filter((name) => name && name !== 'anonymous');
  return [...new Set(names)].slice(0, 8);
}
