import type { IValidationErrorItem, JSONObject, JSONValue } from '@beakerlike/client';

/** rjsf's error schema: `{field: {__errors: [...], nested: {...}}}`. */
export interface IErrorSchema {
  __errors?: string[];
  [key: string]: any;
}

/**
 * Make a pydantic JSON Schema friendlier to a form: an optional field
 * (`anyOf: [X, {type: null}]`) becomes plain X (leaving it empty omits it, and the
 * kernel then uses its default). Titles, descriptions and bounds are kept.
 */
export function formSchema(schema: JSONObject): JSONObject {
  const out = simplify(schema) as JSONObject;
  delete out.title; // "run_job_payload": the form has its own heading
  return out;
}

function simplify(node: JSONValue): JSONValue {
  if (Array.isArray(node)) {
    return node.map(simplify);
  }
  if (node === null || typeof node !== 'object') {
    return node;
  }
  const out: JSONObject = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = simplify(value);
  }
  const anyOf = out.anyOf;
  if (Array.isArray(anyOf)) {
    const rest = anyOf.filter(
      s => !(s && typeof s === 'object' && !Array.isArray(s) && (s as JSONObject).type === 'null')
    );
    if (rest.length === 1 && rest.length < anyOf.length && rest[0] && typeof rest[0] === 'object') {
      delete out.anyOf;
      if (out.default === null) {
        delete out.default;
      }
      return { ...(rest[0] as JSONObject), ...out };
    }
  }
  return out;
}

/** Property names treated as "a variable of the notebook": they get variable suggestions. */
export function isVariableField(key: string, schema: JSONValue): boolean {
  const type = schema && typeof schema === 'object' && !Array.isArray(schema) ? schema.type : null;
  if (type !== 'string') {
    return false;
  }
  return /^(name|var|variable|frame|df|as_name)$|_(name|var|variable)$/.test(key);
}

/** The uiSchema of a (simplified) payload schema: variable fields get `widget`. */
export function uiSchemaFor(schema: JSONObject, widget: unknown): JSONObject {
  const ui: { [key: string]: any } = {};
  const props = schema.properties;
  if (props && typeof props === 'object' && !Array.isArray(props)) {
    for (const [key, sub] of Object.entries(props)) {
      if (isVariableField(key, sub)) {
        ui[key] = { 'ui:widget': widget };
      }
    }
  }
  return ui as JSONObject;
}

/** Put `message` at `loc` (a pydantic error location) in an rjsf error schema. */
export function addError(target: IErrorSchema, loc: (string | number)[], message: string): void {
  let node = target;
  for (const step of loc) {
    const key = String(step);
    node[key] = node[key] ?? {};
    node = node[key];
  }
  node.__errors = [...(node.__errors ?? []), message];
}

/** A `ValidationError` reply's `errors` as an rjsf error schema (for `extraErrors`). */
export function errorSchemaFromItems(items: IValidationErrorItem[]): IErrorSchema {
  const out: IErrorSchema = {};
  for (const item of items) {
    addError(out, Array.isArray(item.loc) ? item.loc : [], String(item.msg ?? 'invalid'));
  }
  return out;
}

/**
 * The fields named by an `InvalidContextInfo` message:
 * `invalid payload for 'data': context_info.sample_rows: Input should be ...; context_info.x: ...`.
 */
export function errorSchemaFromContextInfo(evalue: string): IErrorSchema {
  const out: IErrorSchema = {};
  const body = evalue.replace(/^[^:]*:\s*/, '');
  for (const part of body.split(/;\s*(?=context_info\b)/)) {
    const m = /^context_info((?:\.[^:\s]+)*):\s*(.*)$/s.exec(part.trim());
    if (!m) {
      continue;
    }
    const loc = m[1].split('.').filter(Boolean);
    addError(out, loc, m[2]);
  }
  return out;
}

/** Whether an error schema names any field. */
export function hasFieldErrors(errors: IErrorSchema | null | undefined): boolean {
  return !!errors && Object.keys(errors).some(k => k !== '__errors');
}

/** A progress fraction from a response: `progress` (0..1) or `done`/`total`; null if neither. */
export function progressOf(data: unknown): number | null {
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    return null;
  }
  const d = data as { progress?: unknown; done?: unknown; total?: unknown };
  if (typeof d.progress === 'number' && isFinite(d.progress)) {
    return Math.min(1, Math.max(0, d.progress));
  }
  if (typeof d.done === 'number' && typeof d.total === 'number' && d.total > 0) {
    return Math.min(1, Math.max(0, d.done / d.total));
  }
  return null;
}

/** One compact line of JSON, cut to `max` characters. */
export function jsonLine(value: unknown, max = 300): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}
