/**
 * A gRPC client reads the outcome of a call from `grpc-status` and `grpc-message`, not from the
 * HTTP status or a body: every answer the enforcer gives a gRPC call is HTTP 200 with those fields
 * and no message ("Trailers-Only" in the gRPC over HTTP/2 protocol), so the client's library
 * raises PERMISSION_DENIED, UNAUTHENTICATED or RESOURCE_EXHAUSTED as its code expects. Each
 * answer's gRPC status sits beside its HTTP status in problem.ts.
 */
/** gRPC status codes (grpc/doc/statuscodes.md) the enforcer answers with. */
export const GRPC = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** `application/grpc`, `application/grpc+proto`, `application/grpc+json` …; not gRPC-Web. */
export function isGrpc(contentType: string | undefined): boolean {
  if (!contentType?.startsWith('application/grpc')) return false;
  return contentType.length === 16 || contentType[16] === '+' || contentType[16] === ';';
}
