// The Node entry (dist/node.js): the whole library plus what needs Node — PNG/JPEG files and the
// command line. Browser bundles import the library (dist/index.js) and never this.
export * from './index.js';
export { decodeImage, encodePng, readImageFile, sniffImageFormat, ImageDecodeError } from './app/image_node.js';
export type { DecodedImage } from './app/image_node.js';
export { main as cliMain, USAGE as CLI_USAGE } from './app/cli.js';
