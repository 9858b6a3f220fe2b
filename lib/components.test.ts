import { describe, expect, it } from 'vitest';
import { type Component, startAll } from './components.ts';

const recorder = () => {
  const log: string[] = [];
  const component = (name: string, failStart = false): Component => ({
    name,
    start() {
      if (failStart) throw new Error(`${name} failed`);
      log.push(`start ${name}`);
    },
    async stop() {
      log.push(`stop ${name}`);
    },
  });
  return { log, component };
};

describe('components', () => {
  it('start in order and stop in reverse, once', async () => {
    const { log, component } = recorder();
    const started = await startAll([component('a'), component('b'), component('c')]);
    await started.stop();
    await started.stop();
    expect(log).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('a failed start stops what had started, and throws', async () => {
    const { log, component } = recorder();
    await expect(startAll([component('a'), component('b', true), component('c')])).rejects.toThrow(
      'b failed',
    );
    expect(log).toEqual(['start a', 'stop a']);
  });

  it('a component that never stops is left behind after the timeout, and the rest still stop', async () => {
    const { log, component } = recorder();
    const hanging: Component = { name: 'hangs', start() {}, stop: () => new Promise(() => {}) };
    const late: string[] = [];
    const started = await startAll([component('a'), hanging, component('c')], {
      stopTimeoutMs: 50,
      onStopTimeout: (name) => late.push(name),
    });
    await started.stop();
    expect(log).toEqual(['start a', 'start c', 'stop c', 'stop a']);
    expect(late).toEqual(['hangs']);
  });
});
