// Extracts the demo's sample crops from the Fashion-MNIST test set: the first N images of each
// class, as one grayscale PNG sprite (row = class, column = sample) plus a JSON index.
// Usage: node scripts/make-demo-assets.mjs [--dir /usr/share/datasets/fashion-mnist] [--per-class 10]
// The output is small and committed, so the demo never needs the data set (apt-get install dataset-fashion-mnist).
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { PNG } from 'pngjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const dir = option('--dir', '/usr/share/datasets/fashion-mnist');
const perClass = Number(option('--per-class', '10'));
const outDir = path.join(root, 'demo', 'assets');

export const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Reads an IDX file (big-endian header: magic, then one u32 per dimension, then u8 data). */
function readIdx(file) {
  const raw = readFileSync(file);
  const bytes = file.endsWith('.gz') ? gunzipSync(raw) : raw;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic >> 8 !== 0x08) throw new Error(`${file}: not an unsigned-byte IDX file (magic 0x${magic.toString(16)})`);
  const rank = magic & 0xff;
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  return { dims, data: bytes.subarray(4 + 4 * rank) };
}

const images = readIdx(path.join(dir, 't10k-images-idx3-ubyte.gz'));
const labels = readIdx(path.join(dir, 't10k-labels-idx1-ubyte.gz'));
const [count, tileH, tileW] = images.dims;
if (labels.dims[0] !== count) throw new Error(`images (${count}) and labels (${labels.dims[0]}) disagree`);

// First perClass test images of each class, in file order: deterministic and unbiased.
const picked = CLASS_NAMES.map(() => []);
for (let i = 0; i < count && picked.some((p) => p.length < perClass); i++) {
  const label = labels.data[i];
  if (picked[label].length < perClass) picked[label].push(i);
}

const png = new PNG({ width: perClass * tileW, height: CLASS_NAMES.length * tileH, colorType: 0, inputColorType: 0, bitDepth: 8 });
png.data = Buffer.alloc(png.width * png.height);
picked.forEach((indices, label) => {
  indices.forEach((imageIndex, column) => {
    for (let y = 0; y < tileH; y++) {
      const src = images.data.subarray((imageIndex * tileH + y) * tileW, (imageIndex * tileH + y + 1) * tileW);
      png.data.set(src, (label * tileH + y) * png.width + column * tileW);
    }
  });
});

if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
const pngFile = path.join(outDir, 'fashion-mnist-sprite.png');
writeFileSync(pngFile, PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8 }));
const index = {
  source: 'Fashion-MNIST test set (t10k), the first images of each class in file order',
  license: 'MIT (Zalando Research)',
  sprite: 'fashion-mnist-sprite.png',
  tileHeight: tileH,
  tileWidth: tileW,
  perClass,
  layout: 'row = class label, column = sample; white object on black, as in the data set',
  classes: CLASS_NAMES,
  testSetIndices: picked,
};
writeFileSync(path.join(outDir, 'fashion-mnist-sprite.json'), JSON.stringify(index, null, 1) + '\n');
console.log(`wrote ${path.relative(root, pngFile)} (${png.width}x${png.height}, ${readFileSync(pngFile).length} bytes) and its index`);
