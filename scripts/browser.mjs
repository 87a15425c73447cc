// Headless Chromium for tests, the bench and the demo check: the system Chromium where present,
// else a browser puppeteer downloaded, else a clear error saying what to install.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SYSTEM_BROWSERS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--enable-features=Vulkan',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

export async function findBrowser() {
  if (process.env.FULLCONV_CHROMIUM && existsSync(process.env.FULLCONV_CHROMIUM)) return process.env.FULLCONV_CHROMIUM;
  for (const p of SYSTEM_BROWSERS) if (existsSync(p)) return p;
  try {
    const puppeteer = (await import('puppeteer')).default;
    const p = puppeteer.executablePath();
    if (p && existsSync(p)) return p;
  } catch {
    // fall through to the error below
  }
  throw new Error(
    'No Chromium found for headless WebGPU. Install one: on Debian/Ubuntu `apt-get install -y chromium`, ' +
      'or `npx puppeteer browsers install chrome`, or set FULLCONV_CHROMIUM=/path/to/chrome.',
  );
}

export async function launchBrowser(extraArgs = []) {
  const puppeteer = (await import('puppeteer')).default;
  const executablePath = await findBrowser();
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'fullconv-chromium-'));
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    userDataDir,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
    protocolTimeout: 30 * 60 * 1000,
  });
  // A fresh profile per launch keeps runs independent; remove it once the browser is gone.
  browser.once('disconnected', () => {
    try {
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch {
      // Chromium's helpers may still be writing into it; a stale temp folder is harmless.
    }
  });
  return browser;
}
