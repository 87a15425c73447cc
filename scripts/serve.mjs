// A static file server on 127.0.0.1 (navigator.gpu needs a secure context: localhost is one).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.map': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png', '.jpg': 'image/jpeg', '.svg': 'image/svg+xml', '.bin': 'application/octet-stream', '.safetensors': 'application/octet-stream', '.onnx': 'application/octet-stream', '.gz': 'application/gzip', '.txt': 'text/plain' };

/** Serves `root`; `routes` maps exact URL paths to generated bodies ({ type, body }). */
export function serve(root, routes = {}, port = 0) {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const route = routes[url.pathname];
      if (route) {
        res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' });
        res.end(typeof route.body === 'function' ? await route.body(url) : route.body);
        return;
      }
      const file = path.normalize(path.join(root, decodeURIComponent(url.pathname)));
      if (!file.startsWith(path.normalize(root))) throw new Error('outside root');
      const s = await stat(file);
      const target = s.isDirectory() ? path.join(file, 'index.html') : file;
      const body = await readFile(target);
      res.writeHead(200, { 'content-type': TYPES[path.extname(target)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` })));
}
