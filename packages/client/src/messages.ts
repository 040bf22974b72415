// Types of every beakerlike message (see docs/protocol.md). Hand-written to match
// beakerlike/protocol.py and the built-in actions; keep both in step.

/** Any JSON value. */
export type JSONValue =
  | null
  | boolean
  | number
  | string
  | JSONValue[]
  | { [key: string]: JSONValue };

/** A JSON object. */
export type JSONObject = { [key: string]: JSONValue };

/** One entry of a `ValidationError` reply's `errors` (pydantic's error shape). */
export interface IValidationErrorItem {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** `<name>_reply` content with `status: "ok"`. */
export interface IActionReplyOk<R = JSONValue> {
  status: 'ok';
  return: R;
}

/** `<name>_reply` content with `status: "error"`. */
export interface IActionReplyError {
  status: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
  errors?: IValidationErrorItem[];
}

/** `<name>_reply` content with `status: "aborted"`. */
export interface IActionReplyAborted {
  status: 'aborted';
  reason: 'interrupted' | 'shutdown' | 'cancelled' | string;
}

/** Any `<name>_reply` content. */
export type ActionReply<R = JSONValue> =
  | IActionReplyOk<R>
  | IActionReplyError
  | IActionReplyAborted;

/** One action as listed by `context_info`. */
export interface IActionInfo {
  docs: string;
  schema: JSONObject;
  default_payload: JSONObject;
  streaming: boolean;
  concurrent: boolean;
  timeout: number | null;
  scope: 'public' | 'internal' | string;
  origin: string;
}

/** A plugin that failed to load. */
export interface IPluginError {
  plugin: string;
  phase: string;
  error: string;
  traceback: string;
}

/** The active context in `context_info`. */
export interface IActiveContext {
  name: string;
  docs: string;
  info: JSONObject;
  always_on: boolean;
}

/** One available context in `context_info`. */
export interface IContextInfo {
  docs: string;
  setup_schema: JSONObject;
  default_info: JSONObject;
  actions: string[];
  previewers: string[];
  always_on: boolean;
}

/** `context_info_reply` `return` (also `context_setup_reply`). */
export interface IContextInfoReply {
  beakerlike_version: string;
  protocol_version: string;
  actions: { [name: string]: IActionInfo };
  plugin_errors: IPluginError[];
  context?: IActiveContext;
  contexts?: { [name: string]: IContextInfo };
  [key: string]: unknown;
}

/** `context_setup_request` content. */
export interface IContextSetupRequest {
  context: string;
  context_info?: JSONObject | null;
}

/** The `beakerlike` key of `kernel_info_reply`. */
export interface IKernelInfoBeakerlike {
  version: string;
  protocol_version: string;
}

/** Kind of a previewed value. */
export type PreviewKind =
  | 'scalar'
  | 'text'
  | 'container'
  | 'array'
  | 'table'
  | 'object';

/** `application/vnd.beakerlike.preview+json`: what the kernel says about one variable. */
export interface IPreview {
  name: string;
  type: string;
  module: string;
  kind: PreviewKind | string;
  shape: number[] | null;
  length: number | null;
  summary: string;
  columns?: string[] | null;
  rows?: JSONValue[][] | null;
  index?: JSONValue[] | null;
  truncated?: boolean;
  status: 'ok' | 'over_budget' | 'error' | string;
  error?: string | null;
  pageable?: boolean;
  /** Memory size in bytes, when the kernel can tell cheaply. */
  nbytes?: number | null;
  [key: string]: unknown;
}

/** The mime type of the structured preview. */
export const PREVIEW_MIME = 'application/vnd.beakerlike.preview+json';

/** One ITEM: a mime bundle with text/plain, text/html and the structured preview. */
export interface IPreviewItem {
  'text/plain'?: string;
  'text/html'?: string;
  'application/vnd.beakerlike.preview+json'?: IPreview;
  [mime: string]: unknown;
}

/** A full snapshot or update as returned by `preview_watch` / `preview_snapshot`. */
export interface IPreviewSnapshot {
  variables: { [name: string]: IPreviewItem };
  removed: string[];
  seq: number;
  full: boolean;
}

/** `preview_watch_request` / `preview_unwatch_request` content. */
export interface IPreviewWatchRequest {
  key?: string;
}

/** `preview_unwatch_reply` `return`. */
export interface IPreviewUnwatchReply {
  watching: boolean;
  watchers: number;
}

/** Content of the iopub `preview` message. */
export interface IPreviewMessageContent {
  variables?: { [name: string]: IPreviewItem };
}

/** Metadata of the iopub `preview` message. */
export interface IPreviewMessageMetadata {
  beakerlike?: {
    removed?: { variables?: string[] };
    seq: number;
    full: boolean;
  };
}

/** A path step: a dict key, an index, a DataFrame column, or an attribute `{"attr": name}`. */
export type PathStep = string | number | { attr: string };

/** `preview_page_request` content. */
export interface IPageRequest {
  path: PathStep[];
  offset?: number;
  limit?: number;
  columns?: string[] | null;
  binary?: boolean;
}

/** A child of a container or object page (tree expansion). */
export interface IPageChild {
  name: string;
  step: PathStep;
  type: string;
  summary: string;
  size?: string | number | null;
  expandable: boolean;
}

/** `preview_page_reply` `return` (JSON page). */
export interface IPageReply {
  path?: PathStep[];
  offset: number;
  limit: number;
  total: number;
  columns: string[];
  rows: JSONValue[][];
  index?: JSONValue[];
  /** `lines` or `characters` for text pages. */
  unit?: string;
  children?: IPageChild[];
  [key: string]: unknown;
}

/** A column of a binary page as described in the reply. */
export interface IBinaryColumnSpec {
  column: string;
  dtype: string;
  buffer: number | null;
}

/** `preview_page_reply` `return` with `binary: true`. */
export interface IBinaryPageReply {
  path?: PathStep[];
  offset: number;
  limit: number;
  total: number;
  columns: IBinaryColumnSpec[];
}

/** `cancel_action_request` content and reply. */
export interface ICancelActionRequest {
  msg_id: string;
}
export interface ICancelActionReply {
  cancelled: boolean;
}

/** `delete_variable_request` content. */
export interface IDeleteVariableRequest {
  name: string;
}
