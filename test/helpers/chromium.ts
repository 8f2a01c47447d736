import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package; playwright-core drives it and downloads no browser of its own. */
export const chromiumPath = '/usr/bin/chromium';

// Headless, and nothing that reaches the network on its own or needs a
// sandbox the container cannot give.
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}
