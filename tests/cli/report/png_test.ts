import assert from "node:assert/strict";
import { base64, pngDataUrl } from "../../../src/cli/report/png.ts";

Deno.test("base64 equals btoa for every remainder length", () => {
  for (let n = 0; n < 40; n++) {
    const b = new Uint8Array(n).map((_, i) => (i * 101 + n) & 0xff);
    assert.equal(base64(b), btoa(String.fromCharCode(...b)));
  }
  const url = pngDataUrl({ width: 1, height: 1, channels: 1, pixels: new Uint8Array([7]) });
  assert.match(url, /^data:image\/png;base64,iVBORw0KGgo/);
});
