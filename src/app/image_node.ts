// PNG and JPEG files to RGBA8 pixels and back, for Node (the CLI and Node code). Kept out of the
// library bundle: pngjs needs Node's zlib and streams.
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { FullconvError } from '../errors.js';

/** A file that is not a PNG or JPEG, or one that is corrupt or truncated. */
export class ImageDecodeError extends FullconvError {}

export interface DecodedImage {
  width: number;
  height: number;
  /** R, G, B, A bytes per pixel, row by row. */
  rgba: Uint8Array;
}

/** Largest image decodeImage accepts, in megapixels (a 4-byte-per-pixel copy of it must fit memory). */
const MAX_MEGAPIXELS = 256;

const SIGNATURES: [string, number[]][] = [
  ['PNG', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ['JPEG', [0xff, 0xd8, 0xff]],
  ['GIF', [0x47, 0x49, 0x46, 0x38]],
  ['BMP', [0x42, 0x4d]],
  ['TIFF', [0x49, 0x49, 0x2a, 0x00]],
  ['TIFF', [0x4d, 0x4d, 0x00, 0x2a]],
];

/** The format named by the file's first bytes: 'PNG', 'JPEG', another name, or null. */
export function sniffImageFormat(bytes: Uint8Array): string | null {
  for (const [name, sig] of SIGNATURES) if (sig.every((b, i) => bytes[i] === b)) return name;
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'WebP';
  return null;
}

/** Decodes a PNG or JPEG file's bytes to RGBA8; anything else, or a damaged file, throws ImageDecodeError. */
export function decodeImage(bytes: Uint8Array | ArrayBuffer): DecodedImage {
  const data = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(data instanceof Uint8Array)) throw new ImageDecodeError(`decodeImage: bytes must be a Uint8Array, Buffer or ArrayBuffer, got ${typeof bytes}`);
  const format = sniffImageFormat(data);
  if (format === 'PNG') return decodePng(data);
  if (format === 'JPEG') return decodeJpeg(data);
  const head = Array.from(data.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new ImageDecodeError(
    format === null
      ? `decodeImage: not a PNG or JPEG file (${data.length} bytes starting ${head || '(empty)'})`
      : `decodeImage: ${format} images are not supported; convert it to PNG or JPEG`,
  );
}

function decodePng(data: Uint8Array): DecodedImage {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  } catch (e) {
    throw new ImageDecodeError(`decodeImage: the PNG is corrupt or truncated (${e instanceof Error ? e.message : String(e)})`);
  }
  // pngjs expands every colour type and bit depth to 8-bit RGBA.
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
}

function decodeJpeg(data: Uint8Array): DecodedImage {
  try {
    const image = jpeg.decode(data, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS });
    if (image.width < 1 || image.height < 1 || image.data.length !== image.width * image.height * 4) {
      throw new Error(`decoded ${image.width} x ${image.height} with ${image.data.length} bytes`);
    }
    return { width: image.width, height: image.height, rgba: image.data };
  } catch (e) {
    throw new ImageDecodeError(`decodeImage: the JPEG is corrupt, truncated or unsupported (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Encodes RGBA8 pixels as a PNG file's bytes. */
export function encodePng(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): Uint8Array {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new ImageDecodeError(`encodePng: width and height must be integers >= 1, got ${width} x ${height}`);
  }
  if (rgba.length !== width * height * 4) throw new ImageDecodeError(`encodePng: ${width} x ${height} RGBA needs ${width * height * 4} bytes, got ${rgba.length}`);
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  const file = PNG.sync.write(png);
  return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
}

/** Reads and decodes a PNG or JPEG file. */
export async function readImageFile(path: string): Promise<DecodedImage> {
  const { readFile } = await import('node:fs/promises');
  const bytes = await readFile(path);
  try {
    return decodeImage(bytes);
  } catch (e) {
    if (e instanceof ImageDecodeError) throw new ImageDecodeError(`${path}: ${e.message}`);
    throw e;
  }
}
