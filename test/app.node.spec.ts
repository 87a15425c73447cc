// Node-only application pieces: PNG/JPEG decoding and PNG encoding, and the fullconv CLI end to end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { FullconvError, encodeSafetensors } from '../src/index.js';
import { CLASS_PALETTE, HEAT_STOPS } from '../src/app/colorize.js';
import { ImageDecodeError, decodeImage, encodePng, sniffImageFormat } from '../src/app/image_node.js';
import { makeRng } from './reference.js';
import { deepEqual, equal, ok, throws } from './assert.js';

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = makeRng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
}

describe('app (Node): PNG and JPEG files', () => {
  it('PNG round trip: encode then decode gives the same pixels', () => {
    for (const [w, h] of [[1, 1], [17, 5], [3, 40]] as const) {
      const rgba = randomBytes(w * h * 4, w * 100 + h);
      const file = encodePng(w, h, rgba);
      equal(sniffImageFormat(file), 'PNG');
      const back = decodeImage(file);
      deepEqual([back.width, back.height], [w, h]);
      ok(back.rgba.length === rgba.length && back.rgba.every((b, i) => b === rgba[i]), `${w}x${h} pixels differ`);
    }
  });

  it('decodes grey PNGs to RGBA', () => {
    const grey = new PNG({ width: 3, height: 2, colorType: 0, inputColorType: 0, bitDepth: 8 });
    grey.data = Buffer.from([0, 50, 100, 150, 200, 255]);
    const back = decodeImage(PNG.sync.write(grey, { colorType: 0, inputColorType: 0, bitDepth: 8 }));
    deepEqual(Array.from(back.rgba.subarray(4, 8)), [50, 50, 50, 255]);
    deepEqual(Array.from(back.rgba.subarray(20, 24)), [255, 255, 255, 255]);
  });

  it('decodes a JPEG encoded with jpeg-js (lossy: close to the pixels)', () => {
    const [w, h] = [16, 12];
    // A smooth picture: JPEG keeps it within a few levels.
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgba.set([x * 15, y * 20, 128, 255], (y * w + x) * 4);
    const file = new Uint8Array(jpeg.encode({ data: rgba, width: w, height: h }, 95).data);
    equal(sniffImageFormat(file), 'JPEG');
    const back = decodeImage(file);
    deepEqual([back.width, back.height, back.rgba.length], [w, h, w * h * 4]);
    let worst = 0;
    for (let i = 0; i < rgba.length; i++) worst = Math.max(worst, Math.abs(back.rgba[i]! - rgba[i]!));
    ok(worst <= 12, `JPEG error ${worst} levels`);
    ok(back.rgba[3] === 255, 'opaque');
  });

  it('names unsupported formats and corrupt or truncated files', () => {
    const png = encodePng(9, 9, randomBytes(9 * 9 * 4, 5));
    const jpg = new Uint8Array(jpeg.encode({ data: randomBytes(8 * 8 * 4, 6), width: 8, height: 8 }, 80).data);
    throws(() => decodeImage(png.subarray(0, 40)), /the PNG is corrupt or truncated/, ImageDecodeError);
    const garbled = Uint8Array.from(png);
    garbled[45] ^= 0xff;
    throws(() => decodeImage(garbled), /the PNG is corrupt or truncated/, ImageDecodeError);
    throws(() => decodeImage(jpg.subarray(0, 100)), /the JPEG is corrupt, truncated or unsupported/, ImageDecodeError);
    throws(() => decodeImage(new TextEncoder().encode('GIF89a......')), /GIF images are not supported; convert it to PNG or JPEG/, ImageDecodeError);
    throws(() => decodeImage(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 ')), /WebP images are not supported/, ImageDecodeError);
    throws(() => decodeImage(new TextEncoder().encode('hello world')), /not a PNG or JPEG file \(11 bytes starting 68 65 6c/, ImageDecodeError);
    throws(() => decodeImage(new Uint8Array(0)), /starting \(empty\)/, ImageDecodeError);
    throws(() => encodePng(2, 2, new Uint8Array(3)), /2 x 2 RGBA needs 16 bytes, got 3/, ImageDecodeError);
    ok(new ImageDecodeError('x') instanceof FullconvError);
  });
});

describe('app (Node): the fullconv CLI end to end', function () {
  let dir: string;
  const [W, H] = [40, 24];

  /** Runs bin/fullconv.mjs in a child process. */
  function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ['bin/fullconv.mjs', ...args], { encoding: 'utf8', env: process.env, timeout: 120000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  function pixel(file: string, x: number, y: number): number[] {
    const png = decodeImage(readFileSync(file));
    deepEqual([png.width, png.height], [W, H], `${file} size`);
    return Array.from(png.rgba.subarray((y * W + x) * 4, (y * W + x) * 4 + 3));
  }

  function near(got: number[], exp: number[], what: string): void {
    ok(got.every((v, i) => Math.abs(v - exp[i]!) <= 2), `${what}: got [${got}], expected about [${exp}]`);
  }

  /** colour over the picture with opacity 0.6, as the CLI draws by default. */
  const over = (colour: readonly number[], base: number) => colour.map((c) => Math.round(base + (c - base) * 0.6));

  before(function () {
    this.timeout(120000);
    // The CLI runs dist/node.js: build the library as `npm run infer` does.
    const build = spawnSync(process.execPath, ['scripts/build.mjs', '--lib-only', '--no-types'], { encoding: 'utf8' });
    equal(build.status, 0, `build failed: ${build.stderr}`);
    dir = mkdtempSync(path.join(tmpdir(), 'fullconv-cli-'));
    // A two-class "bright vs dark" classifier for 8×8 grey crops: filter 0 averages brightness, filter 1
    // darkness (1 - brightness); the Linear sums each filter's 3×3 map into its class.
    writeFileSync(path.join(dir, 'bright.json'), JSON.stringify({
      inputShape: [1, 8, 8], classes: ['bright', 'dark'],
      layers: [{ type: 'Conv2d', cin: 1, cout: 2, kernel: 3, stride: 2 }, { type: 'ReLU' }, { type: 'Flatten' }, { type: 'Linear', in: 18, out: 2 }],
    }));
    const fc = new Float32Array(2 * 18);
    for (let i = 0; i < 9; i++) [fc[i], fc[18 + 9 + i]] = [2, 2];
    writeFileSync(path.join(dir, 'bright.safetensors'), encodeSafetensors([
      ['0.weight', [2, 1, 3, 3], Float32Array.from({ length: 18 }, (_, i) => (i < 9 ? 1 / 9 : -1 / 9))],
      ['0.bias', [2], Float32Array.from([0, 1])],
      ['3.weight', [2, 18], fc],
      ['3.bias', [2], new Float32Array(2)],
    ]));
    // Left half white, right half black.
    const rgba = new Uint8Array(W * H * 4);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) rgba.set(x < W / 2 ? [255, 255, 255, 255] : [0, 0, 0, 255], (y * W + x) * 4);
    writeFileSync(path.join(dir, 'halves.png'), encodePng(W, H, rgba));
    writeFileSync(path.join(dir, 'halves.jpg'), jpeg.encode({ data: rgba, width: W, height: H }, 95).data);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('argmax: a PNG the size of the image, coloured by class, with shape, cells, timings and adapter printed', () => {
    const out = path.join(dir, 'argmax.png');
    const r = cli(['infer', path.join(dir, 'bright.safetensors'), path.join(dir, 'halves.png'), '--out', out, '--argmax']);
    equal(r.status, 0, `exit status; stderr: ${r.stderr}`);
    ok(/score map \[1, 2, 9, 17\]: 153 cells of 2 classes/.test(r.stdout), r.stdout);
    ok(/adapter: /.test(r.stdout) && /total: [\d.]+ ms per forward/.test(r.stdout) && /0 Conv2d\(1, 2, kernel_size=\(3, 3\)/.test(r.stdout), r.stdout);
    ok(/\d+\.\d\d ms/.test(r.stdout.split('per layer')[1] ?? ''), 'per-layer times');
    near(pixel(out, 3, 12), over(CLASS_PALETTE[0]!, 255), 'bright side');
    near(pixel(out, 36, 12), over(CLASS_PALETTE[1]!, 0), 'dark side');
  });

  it('--class: a heat map of one class from a JPEG, by class name', () => {
    const out = path.join(dir, 'heat.png');
    const r = cli(['infer', path.join(dir, 'bright.safetensors'), path.join(dir, 'halves.jpg'), '--out', out, '--class', 'dark']);
    equal(r.status, 0, `exit status; stderr: ${r.stderr}`);
    ok(/heat map of P\(dark\)/.test(r.stdout), r.stdout);
    near(pixel(out, 2, 12), over(HEAT_STOPS[0]!, 255), 'P(dark) = 0 on white');
    near(pixel(out, 37, 12), over(HEAT_STOPS[HEAT_STOPS.length - 1]!, 0), 'P(dark) = 1 on black');
  });

  it('clear errors: a corrupt image, a missing architecture, bad arguments', () => {
    writeFileSync(path.join(dir, 'broken.png'), encodePng(W, H, new Uint8Array(W * H * 4)).subarray(0, 50));
    const corrupt = cli(['infer', path.join(dir, 'bright.safetensors'), path.join(dir, 'broken.png'), '--out', path.join(dir, 'x.png')]);
    equal(corrupt.status, 1);
    ok(/broken\.png: decodeImage: the PNG is corrupt or truncated/.test(corrupt.stderr), corrupt.stderr);
    writeFileSync(path.join(dir, 'orphan.safetensors'), readFileSync(path.join(dir, 'bright.safetensors')));
    const orphan = cli(['infer', path.join(dir, 'orphan.safetensors'), path.join(dir, 'halves.png')]);
    equal(orphan.status, 1);
    ok(/orphan\.json does not exist; pass --arch/.test(orphan.stderr), orphan.stderr);
    const usage = cli(['infer', 'a', 'b', 'c']);
    equal(usage.status, 2);
    ok(/infer takes \[MODEL\] IMAGE or demo/.test(usage.stderr) && /usage:/.test(usage.stderr), usage.stderr);
    const both = cli(['infer', 'x.png', '--class', '1', '--argmax']);
    equal(both.status, 2);
  });
});
