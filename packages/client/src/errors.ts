import type { IValidationErrorItem } from './messages';

/** The action replied `status: "error"` (the handler raised, bad payload, unknown action...). */
export class ActionError extends Error {
  /** Exception class name in the kernel (`ValidationError`, `UnknownAction`, `KeyError`...). */
  readonly ename: string;
  /** Exception message. */
  readonly evalue: string;
  /** Formatted Python traceback lines. */
  readonly traceback: string[];
  /** The bad fields of a `ValidationError`. */
  readonly errors: IValidationErrorItem[];
  /** The action that failed. */
  readonly action: string;

  constructor(
    action: string,
    content: {
      ename?: string;
      evalue?: string;
      traceback?: string[];
      errors?: IValidationErrorItem[];
    }
  ) {
    const ename = String(content.ename ?? 'Error');
    const evalue = String(content.evalue ?? '');
    super(`${action}: ${ename}: ${evalue}`);
    this.name = 'ActionError';
    this.action = action;
    this.ename = ename;
    this.evalue = evalue;
    this.traceback = Array.isArray(content.traceback) ? content.traceback : [];
    this.errors = Array.isArray(content.errors) ? content.errors : [];
  }
}

/** The action replied `status: "aborted"`, or was cancelled before it was sent. */
export class ActionAborted extends Error {
  /** `interrupted`, `shutdown`, `cancelled`, or `disposed` (the kernel connection went away). */
  readonly reason: string;
  /** The action that was aborted. */
  readonly action: string;

  constructor(action: string, reason: string) {
    super(`${action}: aborted (${reason})`);
    this.name = 'ActionAborted';
    this.action = action;
    this.reason = reason;
  }
}
