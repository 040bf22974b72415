import { describe, expect, it } from 'vitest';

import { messageTypes, replyValue, responseElements } from '../../src/actions';
import { isBeakerlikeInfo, beakerlikeInfo } from '../../src/discovery';
import { ActionAborted, ActionError } from '../../src/errors';

describe('message types', () => {
  it('swaps only the suffix', () => {
    expect(messageTypes('save_var')).toEqual({
      request: 'save_var_request',
      response: 'save_var_response',
      reply: 'save_var_reply'
    });
  });

  it('refuses names ending in a message suffix', () => {
    expect(() => messageTypes('x_request')).toThrow(TypeError);
    expect(() => messageTypes('')).toThrow(TypeError);
  });
});

describe('responseElements', () => {
  it('unpacks a coalesced batch', () => {
    expect(responseElements({ batch: [1, { a: 2 }] })).toEqual([1, { a: 2 }]);
  });

  it('passes anything else through whole', () => {
    expect(responseElements({ batch: [1], other: 2 })).toEqual([{ batch: [1], other: 2 }]);
    expect(responseElements({ epoch: 1 })).toEqual([{ epoch: 1 }]);
  });
});

describe('replyValue', () => {
  it('returns the return value of an ok reply', () => {
    expect(replyValue('a', { status: 'ok', return: { x: 1 } })).toEqual({ x: 1 });
  });

  it('throws a typed ActionError with validation errors', () => {
    const errors = [{ loc: ['name'], msg: 'Field required', type: 'missing' }];
    try {
      replyValue('save_var', { status: 'error', ename: 'ValidationError', evalue: 'bad', traceback: [], errors });
      throw new Error('no throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ActionError);
      const e = err as ActionError;
      expect([e.ename, e.evalue, e.action, e.errors]).toEqual(['ValidationError', 'bad', 'save_var', errors]);
      expect(e.message).toBe('save_var: ValidationError: bad');
    }
  });

  it('throws ActionAborted with the reason', () => {
    expect(() => replyValue('a', { status: 'aborted', reason: 'interrupted' })).toThrow(ActionAborted);
    try {
      replyValue('a', { status: 'aborted', reason: 'shutdown' });
    } catch (err) {
      expect((err as ActionAborted).reason).toBe('shutdown');
    }
  });
});

describe('kernel_info', () => {
  it('recognises beakerlike by supported_features', () => {
    const info = { supported_features: ['debugger', 'beakerlike'], beakerlike: { version: '0.1.0', protocol_version: '1.0' } };
    expect(isBeakerlikeInfo(info)).toBe(true);
    expect(beakerlikeInfo(info)).toEqual({ version: '0.1.0', protocol_version: '1.0' });
    expect(isBeakerlikeInfo({ supported_features: ['debugger'] })).toBe(false);
    expect(isBeakerlikeInfo({})).toBe(false);
    expect(beakerlikeInfo(null)).toBeNull();
  });
});
