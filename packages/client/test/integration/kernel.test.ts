// Integration tests: @beakerlike/client against a real beakerlike kernel through a real
// jupyter_server (websocket via `ws`). tests/test_client_ts.py starts the server and runs
// this file with BEAKERLIKE_SERVER_URL / BEAKERLIKE_SERVER_TOKEN set.
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
  discover,
  page,
  stream,
  supportsBeakerlike
} from '../../src';

const baseUrl = process.env.BEAKERLIKE_SERVER_URL;
const token = process.env.BEAKERLIKE_SERVER_TOKEN ?? '';
if (!baseUrl) {
  throw new Error('set BEAKERLIKE_SERVER_URL and BEAKERLIKE_SERVER_TOKEN (tests/test_client_ts.py does)');
}

const settings = ServerConnection.makeSettings({
  baseUrl,
  wsUrl: baseUrl.replace(/^http/, 'ws'),
  token,
  appendToken: true,
  WebSocket: WebSocket as any,
  fetch: fetch as any,
  Request: Request as any,
  Headers: Headers as any
});

let manager: KernelManager;
let kernel: Kernel.IKernelConnection;




beforeAll(async () => {
  manager = new KernelManager({ serverSettings: settings });
  await manager.ready;
  kernel = await manager.startNew({ name: 'beakerlike' });
  await kernel.info;
}, 60_000);

afterAll(async () => {
  await kernel?.shutdown().catch(() => undefined);
  manager?.dispose();
});

describe('discovery', () => {
  it('sees beakerlike in kernel_info and lists the actions', async () => {
    expect(await supportsBeakerlike(kernel)).toBe(true);
    const info = await discover(kernel);
    expect(info.protocol_version).toBe('1.0');
    expect(Object.keys(info.actions)).toEqual(expect.arrayContaining(['preview_watch', 'preview_page', 'demo_train']));
    expect(info.actions.demo_train.schema).toHaveProperty('properties');
  });
});

describe('call and stream', () => {
  it('returns the reply value and hands every response to onResponse', async () => {
    const progress: number[] = [];
    const result = await call<{ epochs: number; target: string }, { epoch: number }>(
      kernel,
      'demo_train',
      { epochs: 3, delay: 0 },
      { onResponse: r => progress.push(r.epoch) }
    );
    expect(result).toMatchObject({ epochs: 3, target: 'model' });
    expect(progress).toEqual([1, 2, 3]);
  });

  it('rejects with a typed ActionError carrying validation errors', async () => {
    const err = await call(kernel, 'demo_train', { epochs: 'many', colour: 1 }).catch(e => e);
    expect(err).toBeInstanceOf(ActionError);
    expect(err.ename).toBe('ValidationError');
    expect(err.errors.map((e: any) => e.loc[0]).sort()).toEqual(['colour', 'epochs']);
  });

  it('rejects an unknown action and a raising handler', async () => {
    const unknown = await call(kernel, 'no_such_action', {}).catch(e => e);
    expect(unknown).toBeInstanceOf(ActionError);
    expect(unknown.ename).toBe('UnknownAction');
    const raised = await call(kernel, 'demo_train', { epochs: 0 }).catch(e => e);
    expect(raised.ename).toBe('ValueError');
    expect(raised.traceback.join('\n')).toContain('epochs must be between');
  });

  it('streams responses as an async iterator, then the result', async () => {
    const it = stream<{ epoch: number }>(kernel, 'demo_train', { epochs: 4, delay: 0 });
    const epochs: number[] = [];
    for await (const r of it) {
      epochs.push(r.epoch);
    }
    expect(epochs).toEqual([1, 2, 3, 4]);
    expect(await it.result).toMatchObject({ epochs: 4 });
  });

  it('an aborted signal cancels the running action (ActionAborted) and the kernel lives on', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const started = call(kernel, 'demo_train', { epochs: 1000, delay: 0.2 }, {
      signal: controller.signal,
      onResponse: (r: any) => {
        seen.push(r.epoch);
        controller.abort();
      }
    });
    const err = await started.catch(e => e);
    expect(err).toBeInstanceOf(ActionAborted);
    expect(seen.length).toBeLessThan(10);
    expect((await execute(kernel, 'print(1 + 1)')).trim()).toBe('2');
  });

  it('an already aborted signal sends nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(call(kernel, 'demo_train', {}, { signal: controller.signal })).rejects.toBeInstanceOf(ActionAborted);
  });

  it('breaking out of a stream cancels it', async () => {
    const it = stream<{ epoch: number }>(kernel, 'demo_train', { epochs: 1000, delay: 0.2 });
    for await (const r of it) {
      expect(r.epoch).toBe(1);
      break;
    }
    await expect(it.result).rejects.toBeInstanceOf(ActionAborted);
  });
});

describe('PreviewSubscription', () => {
  it('watches, applies previews after cells, survives a restart, unwatches on dispose', async () => {
    await execute(kernel, 'a = 1');
    const sub = new PreviewSubscription(kernel, { key: 'ts-integration' });
    await sub.start();
    expect(sub.state).toBe('watching');
    expect(sub.preview('a')?.summary).toBe('1');
    expect(await watcherKeys(kernel)).toContain('ts-integration');

    const added = nextChange(sub, c => c.updated.includes('b'));
    await execute(kernel, 'b = [1, 2, 3]\ndel a');
    const change = await added;
    expect(change.full).toBe(false);
    expect(sub.items.has('a')).toBe(false);
    expect(sub.preview('b')?.length).toBe(3);

    const cleared = nextChange(sub, c => c.full && c.seq === -1);
    const rewatched = nextChange(sub, c => c.full && c.seq >= 0);
    await kernel.restart();
    await cleared;
    await rewatched;
    expect(sub.items.size).toBe(0);
    const after = nextChange(sub, c => c.updated.includes('c'));
    await execute(kernel, 'c = "after restart"');
    await after;
    expect(await watcherKeys(kernel)).toContain('ts-integration');

    sub.dispose();
    await new Promise(r => setTimeout(r, 500));
    expect(await watcherKeys(kernel)).not.toContain('ts-integration');
  }, 90_000);

  // A dropped websocket (not a restart): the kernel keeps its watchers, the subscription re-watches
  // once under the same key (never a second watcher) and gets the next preview.
  for (const [how, drop] of [
    ['kernel.reconnect()', async () => kernel.reconnect()],
    // The socket dies as on a network failure (close code 1006): @jupyterlab/services reconnects by itself.
    ['a terminated socket', async () => (kernel as any)._ws.terminate()]
  ] as [string, () => Promise<void>][]) {
    it(`re-watches after ${how}: one watcher, one preview_watch, the next preview arrives`, async () => {
      const key = `ts-reconnect-${how.replace(/\W+/g, '-')}`;
      const sub = new PreviewSubscription(kernel, { key });
      await sub.start();
      await execute(kernel, 'before_drop = 1');
      const others = (await watcherKeys(kernel)).filter(k => k !== key);
      expect(await watcherKeys(kernel)).toContain(key);

      let watchRequests = 0;
      const count = (_: unknown, args: Kernel.IAnyMessageArgs) => {
        if (args.direction === 'send' && (args.msg.header.msg_type as string) === 'preview_watch_request') {
          watchRequests++;
        }
      };
      kernel.anyMessage.connect(count);
      const states: string[] = [];
      const onState = (_: unknown, state: string) => states.push(state);
      sub.stateChanged.connect(onState);
      const rewatched = nextChange(sub, c => c.full && c.seq >= 0);
      const reconnected = nextConnected(kernel);
      await drop();
      await reconnected;
      await rewatched;
      expect(sub.state).toBe('watching');
      expect(states).toContain('restarting');
      expect(sub.preview('before_drop')?.summary).toBe('1'); // the kernel kept its variables

      const after = nextChange(sub, c => !c.full && c.updated.includes('after_drop'));
      await execute(kernel, 'after_drop = [1, 2]');
      await after;
      expect(sub.preview('after_drop')?.length).toBe(2);
      await new Promise(r => setTimeout(r, 300)); // a late second watch would show up by now
      expect(watchRequests).toBe(1);
      const keys = await watcherKeys(kernel);
      expect(keys.filter(k => k === key)).toHaveLength(1);
      expect(keys.filter(k => k !== key)).toEqual(others); // no watcher added under another key
      kernel.anyMessage.disconnect(count);
      sub.stateChanged.disconnect(onState);

      sub.dispose();
      await new Promise(r => setTimeout(r, 500));
      expect(await watcherKeys(kernel)).not.toContain(key);
    }, 90_000);
  }

  it('resyncs with a snapshot when it missed a preview', async () => {
    const sub = new PreviewSubscription(kernel, { key: 'ts-gap' });
    await sub.start();
    // Pretend we missed messages: the next preview's seq is not the next one.
    (sub as any)._table._seq -= 5;
    const resynced = nextChange(sub, c => c.full && c.updated.includes('gap_var'));
    await execute(kernel, 'gap_var = 7');
    await resynced;
    expect(sub.preview('gap_var')?.summary).toBe('7');
    sub.dispose();
  }, 60_000);
});

describe('page', () => {
  it('pages JSON rows and decodes binary numeric columns to typed arrays', async () => {
    await execute(
      kernel,
      'import numpy as np, pandas as pd\n' +
        "frame = pd.DataFrame({'i': np.arange(1000, dtype='int64'), 'f': np.arange(1000) / 4, 's': [str(k) for k in range(1000)]})"
    );
    const json = await page(kernel, ['frame'], { offset: 500, limit: 3 });
    expect(json.total).toBe(1000);
    expect(json.columns).toEqual(['i', 'f', 's']);
    expect(json.rows).toEqual([[500, 125, '500'], [501, 125.25, '501'], [502, 125.5, '502']]);

    const bin = await page(kernel, ['frame'], { offset: 998, limit: 10, binary: true });
    expect(bin.total).toBe(1000);
    const [i, f, s] = bin.columns;
    expect(i.values).toBeInstanceOf(BigInt64Array);
    expect(Array.from(i.values as BigInt64Array, Number)).toEqual([998, 999]);
    expect(Array.from(f.values as Float64Array)).toEqual([249.5, 249.75]);
    expect(s.values).toBeNull();
    expect(bin.bytes).toBe(32);
  });

  it('rejects a bad path with the failing step', async () => {
    const err = await page(kernel, ['frame', 'nope']).catch(e => e);
    expect(err).toBeInstanceOf(ActionError);
    expect(err.ename).toBe('KeyError');
  });
});
