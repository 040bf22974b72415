import { describe, expect, it } from 'vitest';

import {
  errorSchemaFromContextInfo,
  errorSchemaFromItems,
  formSchema,
  hasFieldErrors,
  isVariableField,
  jsonLine,
  progressOf,
  uiSchemaFor
} from '../src/actions/schema';

describe('formSchema', () => {
  it('turns optional pydantic fields into plain ones and drops the payload title', () => {
    const schema = formSchema({
      title: 'save_var_payload',
      type: 'object',
      properties: {
        name: { title: 'Name', type: 'string' },
        store: { anyOf: [{ type: 'string' }, { type: 'null' }], default: null, title: 'Store' },
        columns: {
          anyOf: [{ items: { type: 'string' }, type: 'array' }, { type: 'null' }],
          default: null,
          title: 'Columns'
        },
        path: { items: { anyOf: [{ type: 'string' }, { type: 'integer' }] }, type: 'array' }
      },
      required: ['name']
    });
    expect(schema.title).toBeUndefined();
    const props = schema.properties as any;
    expect(props.store).toEqual({ type: 'string', title: 'Store' });
    expect(props.columns).toEqual({ items: { type: 'string' }, type: 'array', title: 'Columns' });
    // A union without null stays a union.
    expect(props.path.items.anyOf).toHaveLength(2);
    expect(schema.required).toEqual(['name']);
  });
});

describe('field errors', () => {
  it('puts ValidationError items at their loc', () => {
    const errors = errorSchemaFromItems([
      { loc: ['steps'], msg: 'Input should be a valid integer', type: 'int_parsing' },
      { loc: ['opts', 'depth'], msg: 'too deep', type: 'x' },
      { loc: ['steps'], msg: 'second', type: 'y' }
    ]);
    expect(errors.steps.__errors).toEqual(['Input should be a valid integer', 'second']);
    expect(errors.opts.depth.__errors).toEqual(['too deep']);
    expect(hasFieldErrors(errors)).toBe(true);
    expect(hasFieldErrors({})).toBe(false);
  });

  it('reads the fields an InvalidContextInfo message names', () => {
    const errors = errorSchemaFromContextInfo(
      "invalid payload for 'data': context_info.sample_rows: Input should be greater than or equal to 100; " +
        'context_info.max_page_rows: Input should be a valid integer'
    );
    expect(errors.sample_rows.__errors).toEqual(['Input should be greater than or equal to 100']);
    expect(errors.max_page_rows.__errors).toEqual(['Input should be a valid integer']);
    expect(hasFieldErrors(errorSchemaFromContextInfo('setup failed: boom'))).toBe(false);
  });
});

describe('progressOf', () => {
  it('follows the progress convention', () => {
    expect(progressOf({ progress: 0.25 })).toBe(0.25);
    expect(progressOf({ done: 3, total: 4 })).toBe(0.75);
    expect(progressOf({ progress: 0.5, done: 1, total: 4 })).toBe(0.5);
    expect(progressOf({ progress: 7 })).toBe(1);
    expect(progressOf({ done: 1, total: 0 })).toBeNull();
    expect(progressOf({ stage: 'x' })).toBeNull();
    expect(progressOf([1, 2])).toBeNull();
    expect(progressOf('50%')).toBeNull();
  });
});

describe('variable fields and JSON lines', () => {
  it('suggests variables only for string fields that name one', () => {
    expect(isVariableField('name', { type: 'string' })).toBe(true);
    expect(isVariableField('as_name', { type: 'string' })).toBe(true);
    expect(isVariableField('frame_name', { type: 'string' })).toBe(true);
    expect(isVariableField('store', { type: 'string' })).toBe(false);
    expect(isVariableField('name', { type: 'integer' })).toBe(false);
    const ui = uiSchemaFor(formSchema({ properties: { name: { type: 'string' }, n: { type: 'integer' } } }), 'W');
    expect(Object.keys(ui)).toEqual(['name']);
  });

  it('cuts long JSON lines', () => {
    expect(jsonLine({ a: 1 })).toBe('{"a":1}');
    const line = jsonLine({ text: 'x'.repeat(500) }, 50);
    expect(line).toHaveLength(50);
    expect(line.endsWith('…')).toBe(true);
  });
});
