import { DataFormatError, FullconvError, idxImageSet, parseIdx } from '../src/index.js';
import { ok, equal, deepEqual, throws } from './assert.js';

/** An IDX file's bytes: header (type code, dims) then the values, big-endian. */
function idxBytes(typeCode: number, dims: number[], values: number[], bytesPerValue: number, write: (v: DataView, at: number, x: number) => void): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + values.length * bytesPerValue);
  const view = new DataView(out.buffer);
  out[2] = typeCode;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  values.forEach((x, i) => write(view, header + i * bytesPerValue, x));
  return out;
}

const u8 = (dims: number[], values: number[]): Uint8Array => idxBytes(0x08, dims, values, 1, (v, at, x) => v.setUint8(at, x));

describe('idx: IDX file parsing', () => {
  it('reads uint8 images and labels as MNIST stores them', () => {
    const images = parseIdx(u8([2, 2, 3], [0, 1, 2, 3, 4, 5, 255, 254, 253, 252, 251, 250]), 'images');
    equal(images.type, 'uint8');
    deepEqual(images.dims, [2, 2, 3]);
    deepEqual(Array.from(images.data), [0, 1, 2, 3, 4, 5, 255, 254, 253, 252, 251, 250]);
    const labels = parseIdx(u8([2], [7, 3]));
    const set = idxImageSet(images, labels);
    equal(set.count, 2);
    equal(set.height, 2);
    equal(set.width, 3);
    ok(set.images instanceof Float32Array && set.labels instanceof Int32Array, 'types');
    equal(set.images[6], 1);
    equal(set.images[1], Math.fround(1 / 255));
    deepEqual(Array.from(set.labels), [7, 3]);
  });

  it('reads the wider types big-endian (int8, int16, int32, float32, float64)', () => {
    deepEqual(Array.from(parseIdx(idxBytes(0x09, [3], [-128, -1, 127], 1, (v, at, x) => v.setInt8(at, x))).data), [-128, -1, 127]);
    deepEqual(Array.from(parseIdx(idxBytes(0x0b, [2], [-300, 30000], 2, (v, at, x) => v.setInt16(at, x, false))).data), [-300, 30000]);
    deepEqual(Array.from(parseIdx(idxBytes(0x0c, [1, 2], [-70000, 2 ** 31 - 1], 4, (v, at, x) => v.setInt32(at, x, false))).data), [-70000, 2 ** 31 - 1]);
    deepEqual(Array.from(parseIdx(idxBytes(0x0d, [2], [1.5, -0.25], 4, (v, at, x) => v.setFloat32(at, x, false))).data), [1.5, -0.25]);
    const f64 = parseIdx(idxBytes(0x0e, [1], [Math.PI], 8, (v, at, x) => v.setFloat64(at, x, false)));
    equal(f64.type, 'float64');
    equal(f64.data[0], Math.PI);
  });

  it('reads from a view into a larger buffer (byteOffset honoured)', () => {
    const file = u8([3], [9, 8, 7]);
    const big = new Uint8Array(file.length + 5);
    big.set(file, 5);
    deepEqual(Array.from(parseIdx(big.subarray(5)).data), [9, 8, 7]);
  });

  it('corrupt or truncated files give a clear DataFormatError', () => {
    const good = u8([2, 2], [1, 2, 3, 4]);
    throws(() => parseIdx(good.subarray(0, good.length - 1), 'train-images'), /train-images: truncated: dims \[2, 2\] of uint8 need 16 bytes, the file has 15/, DataFormatError);
    throws(() => parseIdx(good.subarray(0, 6)), /truncated header: 2 dimensions need 12 header bytes, the file has 6/, DataFormatError);
    throws(() => parseIdx(good.subarray(0, 3)), /too short for the 4-byte IDX magic/, DataFormatError);
    const extra = new Uint8Array(good.length + 2);
    extra.set(good);
    throws(() => parseIdx(extra), /2 bytes after the data/, DataFormatError);
    const badMagic = good.slice();
    badMagic[0] = 0x50;
    throws(() => parseIdx(badMagic), /bad magic number 0x50000802/, DataFormatError);
    const badType = good.slice();
    badType[2] = 0x0a;
    throws(() => parseIdx(badType), /unknown IDX type code 0x0a/, DataFormatError);
    const noDims = good.slice();
    noDims[3] = 0;
    throws(() => parseIdx(noDims), /declares 0 dimensions/, DataFormatError);
    throws(() => parseIdx(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0])), /gzip-compressed.*gunzip/, DataFormatError);
    // A flipped dimension byte makes the declared size disagree with the file's length.
    const badDim = good.slice();
    badDim[7] = 200;
    throws(() => parseIdx(badDim), /dims \[200, 2\] of uint8 need 412 bytes, the file has 16/, DataFormatError);
    ok(new DataFormatError('x') instanceof FullconvError, 'DataFormatError extends FullconvError');
  });

  it('an images file and a labels file that disagree are rejected', () => {
    const images = parseIdx(u8([2, 1, 1], [0, 1]));
    throws(() => idxImageSet(images, parseIdx(u8([3], [0, 1, 2])), 'fashion'), /fashion: 2 images but 3 labels/, DataFormatError);
    throws(() => idxImageSet(parseIdx(u8([2], [0, 1])), images), /images file must hold uint8 \[N, H, W\], got uint8 \[2\]/, DataFormatError);
    throws(() => idxImageSet(images, images), /labels file must hold uint8 \[N\]/, DataFormatError);
  });
});
