const STEPS_TITLE = {
  'no-webgpu': 'How to turn WebGPU on (Chrome, Edge, Firefox, Safari)',
  'no-adapter': 'What to try (Chrome, Edge, Firefox, Safari, the driver)',
  software: 'How to bring the real GPU back (Chrome, Edge, Firefox, Safari, the driver)',
} as const;

/** What a person can do when the browser offers no WebGPU, no GPU, or only a software one: which browsers work, and how to turn the GPU on. */
export function BrowserAdvice({ kind, secureContext }: { kind: 'no-webgpu' | 'no-adapter' | 'software'; secureContext: boolean }) {
  return (
    <div className="advice" data-testid={`advice-${kind}`}>
      {!secureContext && (
        <p>
          <strong>This page is not on a secure address.</strong> Browsers offer WebGPU only on <code>https://</code> addresses and on <code>localhost</code>.
          Open Sprintnet from its https:// address.
        </p>
      )}
      {kind === 'no-webgpu' ? (
        <>
          <h4>Browsers that work</h4>
          <ul>
            <li>Chrome or Edge 113 or newer on Windows, macOS and ChromeOS; Chrome 121 or newer on Android 12 or newer.</li>
            <li>Safari 26 or newer on macOS, iPhone and iPad.</li>
            <li>Firefox 141 or newer on Windows.</li>
            <li>On Linux, Chrome and Edge have WebGPU behind a switch (see below).</li>
          </ul>
        </>
      ) : kind === 'software' ? null : (
        <>
          <p>
            WebGPU is there, but the browser did not hand it a graphics card. Usually graphics acceleration is off, the graphics driver is old, or the browser
            blocks this GPU.
          </p>
        </>
      )}
      {/* Folded: the steps are long, and on a phone they pushed the consent a screen further down. */}
      <details className="advice-steps">
        <summary>{STEPS_TITLE[kind]}</summary>
        <ul>
          <li>
            <strong>Chrome and Edge:</strong> Settings → System → turn on “Use graphics acceleration when available”, then relaunch. The page{' '}
            <code>chrome://gpu</code> (<code>edge://gpu</code>) should say “WebGPU: Hardware accelerated”. On Linux, also enable{' '}
            <code>chrome://flags/#enable-unsafe-webgpu</code> and <code>chrome://flags/#enable-vulkan</code>.
          </li>
          <li>
            <strong>Firefox:</strong> Settings → General → Performance → untick “Use recommended performance settings” and tick “Use hardware acceleration when
            available”. Outside Windows, WebGPU needs Firefox Nightly with <code>dom.webgpu.enabled</code> set to true in <code>about:config</code>.
          </li>
          <li>
            <strong>Safari:</strong> update to Safari 26. On Safari 17 or 18: Settings → Advanced → tick “Show features for web developers”, then Develop →
            Feature Flags → turn on WebGPU.
          </li>
          <li>Update your graphics driver (from the GPU maker, or through your system’s updates), then restart the browser.</li>
        </ul>
      </details>
    </div>
  );
}
