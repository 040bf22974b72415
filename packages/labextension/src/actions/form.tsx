import type { JSONObject } from '@beakerlike/client';
import { FormComponent, ReactWidget } from '@jupyterlab/ui-components';
import type { WidgetProps } from '@rjsf/utils';
import validator from '@rjsf/validator-ajv8';
import React from 'react';

import { formSchema, hasFieldErrors, uiSchemaFor } from './schema';
import type { IErrorSchema } from './schema';

/** Options of {@link PayloadForm}. */
export interface IPayloadFormOptions {
  /** Unique among forms on the page (becomes the rjsf `idPrefix`, so input ids are `<idPrefix>_<field>`). */
  idPrefix: string;
  /** JSON Schema of the payload (pydantic's, as `context_info` gives it). */
  schema: JSONObject;
  /** Prefill (`default_payload`, `default_info`). */
  initial: JSONObject;
  /** Label of the submit button. */
  submitLabel: string;
  /** Current variable names, suggested in variable-name fields. */
  variables?: () => string[];
  /** Called with a payload that passed the schema (form view) or parsed (JSON view). */
  onSubmit: (payload: JSONObject) => void;
}

interface IFormContext {
  variables: () => string[];
}

/** A text input offering the notebook's variables (a `<datalist>`). */
function VariableWidget(props: WidgetProps): JSX.Element {
  const context = (props.registry?.formContext ?? {}) as Partial<IFormContext>;
  const names = context.variables ? context.variables() : [];
  const listId = `${props.id}__variables`;
  return (
    <>
      <input
        id={props.id}
        name={props.id}
        className="form-control bl-variable-input"
        list={listId}
        autoComplete="off"
        value={props.value ?? ''}
        required={props.required}
        disabled={props.disabled || props.readonly}
        autoFocus={props.autofocus}
        placeholder={props.placeholder || (names.length ? 'a variable of the notebook' : '')}
        onChange={e => props.onChange(e.target.value === '' ? props.options.emptyValue : e.target.value)}
        onBlur={e => props.onBlur(props.id, e.target.value)}
        onFocus={e => props.onFocus(props.id, e.target.value)}
      />
      <datalist id={listId}>
        {names.map(n => (
          <option key={n} value={n} />
        ))}
      </datalist>
    </>
  );
}

/**
 * A payload form generated from a JSON Schema with JupyterLab's own form renderer
 * (`FormComponent`, rjsf + ajv). The schema is checked in the browser before
 * anything is sent; errors the kernel finds (a `ValidationError` reply's `errors`)
 * are shown on their fields with {@link setErrors}. A JSON view sends any payload
 * as typed, unchecked.
 */
export class PayloadForm extends ReactWidget {
  private _options: IPayloadFormOptions;
  private _schema: JSONObject;
  private _uiSchema: JSONObject;
  private _data: JSONObject;
  private _extra: IErrorSchema | undefined = undefined;
  private _message = '';
  private _mode: 'form' | 'json' = 'form';
  private _json = '';
  private _jsonError = '';
  private _busy = false;
  private _formKey = 0;

  constructor(options: IPayloadFormOptions) {
    super();
    this._options = options;
    this.addClass('bl-payload-form');
    this._schema = formSchema(options.schema);
    this._uiSchema = {
      ...uiSchemaFor(this._schema, VariableWidget),
      'ui:options': {
        submitButtonOptions: {
          norender: false,
          submitText: options.submitLabel,
          props: { className: 'jp-mod-styled jp-mod-accept bl-form-submit' }
        } as any
      }
    };
    this._data = { ...options.initial };
  }

  /** The current payload (form view). */
  get data(): JSONObject {
    return this._data;
  }

  /** Disable the submit while something is under way. */
  set busy(value: boolean) {
    this._busy = value;
    this.update();
  }

  /** Show errors from the kernel on their fields (and `message` above the form); back to the form view. */
  setErrors(errors: IErrorSchema | null, message = ''): void {
    this._extra = errors && hasFieldErrors(errors) ? errors : undefined;
    this._message = message;
    if (this._mode === 'json') {
      const parsed = this._parseJson();
      if (parsed) {
        this._data = parsed;
        this._formKey++;
      }
      this._mode = 'form';
    }
    this.update();
  }

  /** Forget shown errors. */
  clearErrors(): void {
    if (this._extra || this._message) {
      this._extra = undefined;
      this._message = '';
      this.update();
    }
  }

  private _parseJson(): JSONObject | null {
    try {
      const value = JSON.parse(this._json);
      if (!value || typeof value !== 'object' || Array.isArray(value)) {
        this._jsonError = 'the payload must be a JSON object';
        return null;
      }
      this._jsonError = '';
      return value;
    } catch (err) {
      this._jsonError = `not JSON: ${(err as Error).message}`;
      return null;
    }
  }

  private _toggleMode(): void {
    if (this._mode === 'form') {
      this._json = JSON.stringify(this._data, null, 2);
      this._jsonError = '';
      this._mode = 'json';
    } else {
      const parsed = this._parseJson();
      if (!parsed) {
        this.update();
        return;
      }
      this._data = parsed;
      this._formKey++;
      this._mode = 'form';
    }
    this.update();
  }

  /**
   * rjsf fills optional array fields with `[]`; the kernel reads `[]` as "none" rather
   * than "not given" (`columns: []` selects no column). Drop empty arrays and objects
   * of optional fields the prefill did not have, so the handler's default applies.
   */
  private _prune(data: JSONObject): JSONObject {
    const required = new Set(Array.isArray(this._schema.required) ? (this._schema.required as string[]) : []);
    const out: JSONObject = {};
    for (const [key, value] of Object.entries(data)) {
      const empty =
        value !== null &&
        typeof value === 'object' &&
        (Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0);
      if (empty && !required.has(key) && !(key in this._options.initial)) {
        continue;
      }
      out[key] = value;
    }
    return out;
  }

  private _submit(payload: JSONObject): void {
    this._options.onSubmit(payload);
    if (this._extra || this._message) {
      this._extra = undefined;
      this._message = '';
      this.update();
    }
  }

  render(): JSX.Element {
    const o = this._options;
    const toggle = (
      <button
        type="button"
        className="jp-mod-styled jp-mod-reject bl-form-mode"
        title={this._mode === 'form' ? 'Edit the payload as JSON (sent unchecked)' : 'Back to the form'}
        onClick={() => this._toggleMode()}
      >
        {this._mode === 'form' ? 'JSON' : 'Form'}
      </button>
    );
    const message = this._message ? <div className="bl-form-message">{this._message}</div> : null;
    if (this._mode === 'json') {
      return (
        <div className="bl-form-json" data-mode="json">
          <div className="bl-form-buttons bl-form-top">{toggle}</div>
          {message}
          <textarea
            className="jp-mod-styled bl-form-json-text"
            aria-label="Payload as JSON"
            spellCheck={false}
            defaultValue={this._json}
            onChange={e => (this._json = e.target.value)}
          />
          {this._jsonError ? <div className="bl-form-message">{this._jsonError}</div> : null}
          <div className="bl-form-buttons">
            <button
              type="button"
              className="jp-mod-styled jp-mod-accept bl-form-submit"
              disabled={this._busy}
              onClick={() => {
                const parsed = this._parseJson();
                if (parsed) {
                  this._submit(parsed);
                } else {
                  this.update();
                }
              }}
            >
              {o.submitLabel}
            </button>
          </div>
        </div>
      );
    }
    const context: IFormContext = { variables: o.variables ?? (() => []) };
    return (
      <div className="bl-form-body" data-mode="form">
        <div className="bl-form-buttons bl-form-top">{toggle}</div>
        {message}
        <FormComponent
          key={this._formKey}
          idPrefix={o.idPrefix}
          schema={this._schema as any}
          uiSchema={this._uiSchema as any}
          formData={this._data}
          formContext={context}
          validator={validator as any}
          extraErrors={this._extra as any}
          showErrorList={false}
          noHtml5Validate={true}
          disabled={this._busy}
          compact={true}
          onChange={e => {
            this._data = (e.formData ?? {}) as JSONObject;
          }}
          onSubmit={e => this._submit(this._prune((e.formData ?? {}) as JSONObject))}
        />
      </div>
    );
  }
}
