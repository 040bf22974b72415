import { describe, expect, it } from 'vitest';

import { resolveTransport } from '../../src/actions';
import { cancelEnvelope, parseKernelData, requestEnvelope } from '../../src/comm';

describe('comm envelopes', () => {
  it('wraps a request and a cancel as the binding says', () => {
    expect(requestEnvelope('c:1', 'demo_train', { epochs: 2 })).toEqual({
      request: { id: 'c:1', action: 'demo_train', payload: { epochs: 2 } }
    });
    expect(requestEnvelope('c:2', 'context_info')).toEqual({
      request: { id: 'c:2', action: 'context_info', payload: {} }
    });
    expect(cancelEnvelope('c:1')).toEqual({ cancel: { id: 'c:1' } });
  });

  it('refuses a request without id or action', () => {
    expect(() => requestEnvelope('', 'x')).toThrow(TypeError);
    expect(() => requestEnvelope('1', '')).toThrow(TypeError);
  });
});

describe('parsing kernel comm data', () => {
  it('reads hello, response, reply and preview', () => {
    const hello = { beakerlike_version: '0.1.0', protocol_version: '1.0', features: ['actions'] };
    expect(parseKernelData({ hello })).toEqual({ kind: 'hello', hello });
    expect(parseKernelData({ response: { id: 'a', data: { epoch: 1 } } })).toEqual({
      kind: 'response',
      id: 'a',
      data: { epoch: 1 }
    });
    expect(parseKernelData({ reply: { id: 'a', status: 'ok', return: 3 } })).toEqual({
      kind: 'reply',
      id: 'a',
      reply: { status: 'ok', return: 3 }
    });
    expect(
      parseKernelData({ preview: { variables: { x: {} }, metadata: { beakerlike: { seq: 4 } } } })
    ).toEqual({
      kind: 'preview',
      preview: { variables: { x: {} }, metadata: { beakerlike: { seq: 4 } } }
    });
  });

  it('keeps a protocol error reply without id', () => {
    const parsed = parseKernelData({
      reply: { id: null, status: 'error', ename: 'ProtocolError', evalue: 'bad', traceback: [] }
    });
    expect(parsed).toEqual({
      kind: 'reply',
      id: null,
      reply: { status: 'error', ename: 'ProtocolError', evalue: 'bad', traceback: [] }
    });
  });

  it('marks anything else unknown', () => {
    for (const data of [null, [], 'x', {}, { hello: {}, reply: {} }, { reply: { id: 'a' } }, { other: 1 }]) {
      expect(parseKernelData(data).kind).toBe('unknown');
    }
  });
});

describe('transport choice', () => {
  it('passes an explicit transport through and refuses an unknown one', async () => {
    const kernel = {} as any;
    expect(await resolveTransport(kernel, 'messages')).toBe('messages');
    expect(await resolveTransport(kernel, 'comm')).toBe('comm');
    expect(() => resolveTransport(kernel, 'zmq' as any)).toThrow(TypeError);
  });
});
