// gRPC status codes that Firestore and Pub/Sub errors carry, and the checks every package makes on them.

export const GRPC = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
} as const;

/** The gRPC status code of a Google client error, if it has one. */
export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A create() of a document (or topic, subscription) that already exists. */
export const isAlreadyExists = (error: unknown): boolean => grpcCode(error) === GRPC.ALREADY_EXISTS;

/** An update whose precondition (lastUpdateTime, exists) no longer holds: someone else wrote first. */
export const isPreconditionFailed = (error: unknown): boolean => grpcCode(error) === GRPC.FAILED_PRECONDITION;
