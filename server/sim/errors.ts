/**
 * API errors worded as kube-apiserver words them (k8s.io/apimachinery/pkg/api/errors), so
 * kubectl prints exactly what it prints against a real cluster. Every handler throws these;
 * the HTTP layer turns them into `Status` objects.
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A resource as errors name it: `pods`, `deployments.apps`. */
export interface QualifiedResource {
  group: string;
  resource: string;
}

const qualified = (r: QualifiedResource) => (r.group ? `${r.resource}.${r.group}` : r.resource);

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      // metav1.Status's reason is omitempty: an uninterpreted error (reason "") carries none.
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }

  static notFound(r: QualifiedResource, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, {
      name,
      ...(r.group ? { group: r.group } : {}),
      kind: r.resource,
    });
  }

  static alreadyExists(r: QualifiedResource, name: string): ApiError {
    return new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, {
      name,
      ...(r.group ? { group: r.group } : {}),
      kind: r.resource,
    });
  }

  /** Optimistic-concurrency failure: a stale resourceVersion. */
  static conflict(r: QualifiedResource, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
    return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, {
      name,
      ...(r.group ? { group: r.group } : {}),
      kind: r.resource,
    });
  }

  /**
   * 422 with field causes. `kind` is the object's Kind and `group` its API group, as in
   * `Deployment.apps "web" is invalid: spec.selector: Required value`.
   */
  static invalid(gk: { group: string; kind: string }, name: string, causes: FieldError[]): ApiError {
    const qualifiedKind = gk.group ? `${gk.kind}.${gk.group}` : gk.kind;
    const rendered = causes.map(renderFieldError);
    const summary = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
    return new ApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
      name,
      ...(gk.group ? { group: gk.group } : {}),
      kind: gk.kind,
      causes: causes.map((c) => ({ reason: c.type, message: renderFieldErrorBody(c), field: c.field })),
    });
  }

  static badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  }

  static unauthorized(): ApiError {
    return new ApiError(401, 'Unauthorized', 'Unauthorized');
  }

  static forbidden(r: QualifiedResource, name: string, why: string): ApiError {
    const target = name ? `${qualified(r)} "${name}"` : qualified(r);
    return new ApiError(403, 'Forbidden', `${target} is forbidden: ${why}`, {
      ...(name ? { name } : {}),
      ...(r.group ? { group: r.group } : {}),
      kind: r.resource,
    });
  }

  static methodNotAllowed(): ApiError {
    return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }

  static notAcceptable(message: string): ApiError {
    return new ApiError(406, 'NotAcceptable', message);
  }

  static unsupportedMediaType(contentType: string): ApiError {
    return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${contentType})`);
  }

  /** A watch or list asked for a resourceVersion older than the store still remembers. */
  static gone(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  }

  static tooLarge(message: string): ApiError {
    return new ApiError(413, 'RequestEntityTooLarge', message);
  }

  static internal(message: string): ApiError {
    return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
  }

  /** What the embedded cluster deliberately does not implement: loud, never a silent success. */
  static notSupported(what: string): ApiError {
    return new ApiError(501, 'NotImplemented', `${what} is not supported by the embedded cluster`);
  }
}

/** One field problem, as field.Error in apimachinery's validation package. */
export interface FieldError {
  type:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueNotSupported'
    | 'FieldValueDuplicate'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong'
    | 'FieldValueTypeInvalid'
    | 'FieldValueNotFound';
  field: string;
  /** The offending value, for Invalid / NotSupported / Duplicate. */
  value?: unknown;
  /** Detail text, e.g. the list of supported values or why it is invalid. */
  detail?: string;
  /** Supported values (FieldValueNotSupported). */
  supported?: string[];
}

const typeText: Record<FieldError['type'], string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueNotFound: 'Not found',
};

function renderValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** The part after `field: `, as field.Error.ErrorBody() renders it. */
export function renderFieldErrorBody(e: FieldError): string {
  let body = typeText[e.type];
  const showsValue = e.type === 'FieldValueInvalid' || e.type === 'FieldValueNotSupported' || e.type === 'FieldValueDuplicate' || e.type === 'FieldValueTypeInvalid' || e.type === 'FieldValueNotFound';
  if (showsValue && e.value !== undefined) body += `: ${renderValue(e.value)}`;
  if (e.type === 'FieldValueNotSupported' && e.supported?.length) {
    body += `: supported values: ${e.supported.map((s) => `"${s}"`).join(', ')}`;
  } else if (e.detail) {
    body += `: ${e.detail}`;
  }
  return body;
}

export function renderFieldError(e: FieldError): string {
  return `${e.field}: ${renderFieldErrorBody(e)}`;
}
