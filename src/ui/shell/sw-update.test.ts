import { describe, expect, it } from 'vitest';
import { watchForUpdates, type RegistrationLike, type ServiceWorkerLike } from './sw-update.ts';

class FakeWorker extends EventTarget implements ServiceWorkerLike {
  state = 'installing';
  messages: unknown[] = [];
  postMessage(m: unknown) {
    this.messages.push(m);
  }
  become(state: string) {
    this.state = state;
    this.dispatchEvent(new Event('statechange'));
  }
}

class FakeRegistration extends EventTarget implements RegistrationLike {
  waiting: FakeWorker | null = null;
  installing: FakeWorker | null = null;
  install(): FakeWorker {
    const w = new FakeWorker();
    this.installing = w;
    this.dispatchEvent(new Event('updatefound'));
    return w;
  }
  finishInstall(w: FakeWorker) {
    this.installing = null;
    this.waiting = w;
    w.become('installed');
  }
}

describe('update prompt', () => {
  it('a new version installed under a controlled page is offered, once it is waiting', () => {
    const reg = new FakeRegistration();
    const offered: ServiceWorkerLike[] = [];
    watchForUpdates(
      reg,
      () => true,
      (w) => offered.push(w),
    );
    expect(offered).toHaveLength(0);
    const w = reg.install();
    expect(offered).toHaveLength(0); // still installing
    reg.finishInstall(w);
    expect(offered).toEqual([w]);
    expect(w.messages).toEqual([]); // offering never activates it
  });

  it('the first install (no controller yet) is not an update', () => {
    const reg = new FakeRegistration();
    const offered: ServiceWorkerLike[] = [];
    watchForUpdates(
      reg,
      () => false,
      (w) => offered.push(w),
    );
    reg.finishInstall(reg.install());
    expect(offered).toHaveLength(0);
  });

  it('a version already waiting when the page opens is offered at once; stop watching removes the listener', () => {
    const reg = new FakeRegistration();
    reg.waiting = new FakeWorker();
    const offered: ServiceWorkerLike[] = [];
    const stop = watchForUpdates(
      reg,
      () => true,
      (w) => offered.push(w),
    );
    expect(offered).toEqual([reg.waiting]);
    stop();
    reg.finishInstall(reg.install());
    expect(offered).toHaveLength(1);
  });
});
