// Environment for a child Node process that runs Dawn: it needs libvulkan.so.1, and where only
// Chromium's private copy exists, the dynamic loader must be pointed at it before the process starts.
import { existsSync } from 'node:fs';

export function dawnEnv() {
  const env = { ...process.env };
  const systemLoader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1'].some(existsSync);
  if (!systemLoader && existsSync('/usr/lib/chromium/libvulkan.so.1')) {
    env.LD_LIBRARY_PATH = ['/usr/lib/chromium', env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  return env;
}
