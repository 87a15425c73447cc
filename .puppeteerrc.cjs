// Never download a browser at install time: tests and the bench use the system Chromium
// (Debian's `chromium`), see scripts/browser.mjs.
module.exports = { skipDownload: true };
