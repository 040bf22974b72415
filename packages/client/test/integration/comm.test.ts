// Integration tests of the comm transport: @beakerlike/client against a real beakerlike kernel
// behind a real jupyter_server whose `allowed_message_types` holds only the standard types
// (custom `<name>_request` messages are dropped), so actions must travel over the `beakerlike`
// comm. tests/test_client_ts.py starts that server (BEAKERLIKE_RESTRICTED_URL) and a stock one
// (BEAKERLIKE_SERVER_URL, for `auto` choosing messages).
import { KernelManager, ServerConnection } from '@jupyterlab/services';
import type { Kernel } from '@jupyterlab/services';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute, nextChange, nextConnected, watcherKeys } from './helpers';

import {
  ActionAborted,
  ActionError,
  PreviewSubscription,
  call,
  commChannel,
  discover,
  page,
  resolveTransport,
  setProbeTimeout,
  stream
} from '../../src';

const restrictedUrl = process.env.BEAKERLIKE_RESTRICTED_URL;
const stockUrl = process.env.BEAKERLIKE_SERVER_URL;
const stockToken = process.env.BEAKERLIKE_SERVER_TOKEN ?? '';
const restrictedToken = process.env.BEAKERLIKE_RESTRICTED_TOKEN ?? '';
if (!restrictedUrl || !stockUrl) {
  throw new Error('set BEAKERLIKE_RESTRICTED_URL/_TOKEN and BEAKERLIKE_SERVER_URL/_TOKEN (tests/test_client_ts.py does)');
}

function settingsFor(baseUrl: string, token: string): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, 'ws'),
    token,
    appendToken: true,
    WebSocket: WebSocket as any,
    fetch: fetch as any,
    Request: Request as any,
    Headers: Headers as any
  });
}

const managers: KernelManager[] = [];
let kernel: Kernel.IKernelConnection;

async function startKernel(baseUrl: string, token: string): Promise<Kernel.IKernelConnection> {
  const manager = new KernelManager({ serverSettings: settingsFor(baseUrl, token) });
  managers.push(manager);
  await manager.ready;
  const k = await manager.startNew({ name: 'beakerlike' });
  await k.info;
  return k;
}




beforeAll(async () => {
  kernel = await startKernel(restrictedUrl, restrictedToken);
}, 60_000);

afterAll(async () => {
  for (const manager of managers) {
    await manager.shutdownAll().catch(() => undefined);
    manager.dispose();
  }
});

describe('transport auto', () => {
  it('picks the comm where custom messages are dropped, and caches the choice', async () => {
    expect(await resolveTransport(kernel)).toBe('comm');
    expect(await resolveTransport(kernel, 'auto')).toBe('comm');
    const hello = await commChannel(kernel).ready;
    expect(hello.protocol_version).toBe('1.0');
    expect(hello.features).toEqual(expect.arrayContaining(['actions', 'cancel', 'previews']));
  }, 30_000);

  it('picks messages on a stock server', async () => {
    const stock = await startKernel(stockUrl, stockToken);
    // A generous probe here: a stock server answers, however loaded the machine is.
    setProbeTimeout(30_000);
    try {
      expect(await resolveTransport(stock)).toBe('messages');
    } finally {
      setProbeTimeout(2000);
    }
    const info = await discover(stock);
    expect(Object.keys(info.actions)).toContain('demo_train');
    await stock.shutdown();
  }, 60_000);
});

describe('actions over the comm', () => {
  it('discovers and calls with streamed responses', async () => {
    const info = await discover(kernel, { transport: 'comm' });
    expect(Object.keys(info.actions)).toEqual(expect.arrayContaining(['preview_watch', 'demo_train']));
    const progress: number[] = [];
    const msgTypes = new Set<string>();
    const result = await call<{ epochs: number }, { epoch: number }>(kernel, 'demo_train', { epochs: 3, delay: 0 }, {
      transport: 'comm',
      onResponse: (r, msg) => {
        progress.push(r.epoch);
        msgTypes.add(msg.header.msg_type);
      }
    });
    expect(result).toMatchObject({ epochs: 3, target: 'model' });
    expect(progress).toEqual([1, 2, 3]);
    expect([...msgTypes]).toEqual(['comm_msg']);
  });

  it('streams as an async iterator', async () => {
    const it = stream<{ epoch: number }>(kernel, 'demo_train', { epochs: 4, delay: 0 }, { transport: 'comm' });
    const epochs: number[] = [];
    for await (const r of it) {
      epochs.push(r.epoch);
    }
    expect(epochs).toEqual([1, 2, 3, 4]);
    expect(await it.result).toMatchObject({ epochs: 4 });
  });

  it('rejects with the same typed errors', async () => {
    const invalid = await call(kernel, 'demo_train', { epochs: 'many', colour: 1 }).catch(e => e);
    expect(invalid).toBeInstanceOf(ActionError);
    expect(invalid.ename).toBe('ValidationError');
    expect(invalid.errors.map((e: any) => e.loc[0]).sort()).toEqual(['colour', 'epochs']);
    const unknown = await call(kernel, 'no_such_action', {}).catch(e => e);
    expect(unknown).toBeInstanceOf(ActionError);
    expect(unknown.ename).toBe('UnknownAction');
    const raised = await call(kernel, 'demo_train', { epochs: 0 }).catch(e => e);
    expect(raised.ename).toBe('ValueError');
  });

  it('aborting sends a cancel: ActionAborted (cancelled), the kernel lives on', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const err = await call(kernel, 'demo_train', { epochs: 1000, delay: 0.2 }, {
      signal: controller.signal,
      onResponse: (r: any) => {
        seen.push(r.epoch);
        controller.abort();
      }
    }).catch(e => e);
    expect(err).toBeInstanceOf(ActionAborted);
    expect(err.reason).toBe('cancelled');
    expect(seen.length).toBeLessThan(10);
    expect((await execute(kernel, 'print(1 + 1)')).trim()).toBe('2');
    expect(await call(kernel, 'demo_train', { epochs: 1, delay: 0 })).toMatchObject({ epochs: 1 });
  });

  it('breaking out of a stream cancels it', async () => {
    const it = stream<{ epoch: number }>(kernel, 'demo_train', { epochs: 1000, delay: 0.2 });
    for await (const r of it) {
      expect(r.epoch).toBe(1);
      break;
    }
    const err = await it.result.catch(e => e);
    expect(err).toBeInstanceOf(ActionAborted);
  });
});

describe('page over the comm', () => {
  it('pages JSON rows and binary columns from the comm_msg buffers', async () => {
    await execute(
      kernel,
      'import numpy as np, pandas as pd\n' +
        "frame = pd.DataFrame({'i': np.arange(1000, dtype='int64'), 'f': np.arange(1000) / 4})"
    );
    const json = await page(kernel, ['frame'], { offset: 500, limit: 2, transport: 'comm' });
    expect(json.total).toBe(1000);
    expect(json.rows).toEqual([[500, 125], [501, 125.25]]);
    const bin = await page(kernel, ['frame'], { offset: 998, limit: 10, binary: true, transport: 'comm' });
    const [i, f] = bin.columns;
    expect(Array.from(i.values as BigInt64Array, Number)).toEqual([998, 999]);
    expect(Array.from(f.values as Float64Array)).toEqual([249.5, 249.75]);
  });
});

describe('previews over the comm', () => {
  it('watches on the comm and applies the previews it sends', async () => {
    await execute(kernel, 'a = 1');
    const sub = new PreviewSubscription(kernel, { transport: 'comm' });
    await sub.start();
    expect(sub.state).toBe('watching');
    expect(sub.preview('a')?.summary).toBe('1');
    const key = `comm:${commChannel(kernel).commId}`;
    expect(await watcherKeys(kernel)).toContain(key);

    // The kernel sends each update on the comm (and, as always, on iopub: this server only filters inbound).
    const channel = commChannel(kernel);
    const onComm = new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no preview on the comm within 30 s')), 30_000);
      channel.previewReceived.connect((_, preview) => {
        if ('b' in preview.variables) {
          clearTimeout(timer);
          resolve(preview);
        }
      });
    });
    const added = nextChange(sub, c => c.updated.includes('b'));
    await execute(kernel, 'b = [1, 2, 3]\ndel a');
    const change = await added;
    const commPreview = await onComm;
    expect(commPreview.metadata.beakerlike.removed.variables).toEqual(['a']);
    expect(change.full).toBe(false);
    expect(sub.items.has('a')).toBe(false);
    expect(sub.preview('b')?.length).toBe(3);

    await sub.stop();
    expect(await watcherKeys(kernel)).not.toContain(key);
    sub.dispose();
  }, 60_000);
});

describe('restart', () => {
  it('aborts comm calls in flight (disposed), opens a new comm after, and a subscription re-watches on it', async () => {
    const sub = new PreviewSubscription(kernel, { transport: 'comm', key: 'ts-comm-restart' });
    await sub.start();
    const before = commChannel(kernel).commId;
    let started!: () => void;
    const first = new Promise<void>(resolve => (started = resolve));
    const running = call(kernel, 'demo_train', { epochs: 1000, delay: 0.2 }, { onResponse: () => started() }).catch(
      e => e
    );
    await first;
    const rewatched = nextChange(sub, c => c.full && c.seq >= 0);
    await kernel.restart();
    const err = await running;
    expect(err).toBeInstanceOf(ActionAborted);
    expect(err.reason).toBe('disposed');
    await rewatched;
    expect(commChannel(kernel).commId).not.toBe(before);
    expect(await call(kernel, 'demo_train', { epochs: 1, delay: 0 })).toMatchObject({ epochs: 1 });
    const after = nextChange(sub, c => c.updated.includes('c'));
    await execute(kernel, 'c = "after restart"');
    await after;
    expect(await watcherKeys(kernel)).toContain('ts-comm-restart');
    sub.dispose();
  }, 90_000);
});

describe('reconnect', () => {
  it('a dropped socket keeps the comm: the subscription re-watches once on it, no second watcher', async () => {
    const sub = new PreviewSubscription(kernel, { transport: 'comm' });
    await sub.start();
    const channel = commChannel(kernel);
    const key = `comm:${channel.commId}`;
    const before = await watcherKeys(kernel);
    expect(before).toContain(key);

    const rewatched = nextChange(sub, c => c.full && c.seq >= 0);
    const reconnected = nextConnected(kernel);
    (kernel as any)._ws.terminate(); // as on a network failure (close code 1006): services reconnects
    await reconnected;
    await rewatched;
    expect(sub.state).toBe('watching');
    expect(commChannel(kernel)).toBe(channel); // the kernel's comm lived on

    const after = nextChange(sub, c => !c.full && c.updated.includes('after_drop'));
    await execute(kernel, 'after_drop = 3');
    await after;
    expect(sub.preview('after_drop')?.summary).toBe('3');
    expect(await watcherKeys(kernel)).toEqual(before); // the same one watcher
    sub.dispose();
  }, 90_000);
});
