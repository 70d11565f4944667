/**
 * Raw HTTP/1.1 over TCP for the server tests: `fetch` normalizes `..` and `%2e%2e` away before
 * sending, so traversal attempts must be written byte for byte.
 */

/** Status, headers (lower-case names) and body text of a response. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly raw: string;
}

/** True once the bytes hold a whole response with a Content-Length (or no body). */
function complete(chunks: Uint8Array[], isHead: boolean): boolean {
  const text = new TextDecoder().decode(
    chunks.reduce((a, c) => new Uint8Array([...a, ...c]), new Uint8Array(0)),
  );
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const status = Number(text.slice(9, 12));
  if (isHead || status === 204 || status === 304) return true;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
  return m !== null && new TextEncoder().encode(text.slice(end + 4)).length >= Number(m[1]);
}

/** Sends `head` (request line + headers, without the final blank line) and an optional body. */
export async function rawRequest(
  port: number,
  head: string,
  body: Uint8Array | string = "",
): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const enc = new TextEncoder();
    const bytes = typeof body === "string" ? enc.encode(body) : body;
    await conn.write(enc.encode(`${head}\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
    if (bytes.length > 0) {
      // The server may answer (413) and close before taking the whole body.
      await conn.write(bytes).catch(() => 0);
    }
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    const deadline = setTimeout(() => conn.close(), 5000);
    const isHead = head.startsWith("HEAD ");
    try {
      while (true) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) break;
        chunks.push(buf.slice(0, n));
        // Stop at the end of the response: a server may keep the connection open while it
        // waits for a request body it refused (and that this client never sends).
        if (complete(chunks, isHead)) break;
      }
    } finally {
      clearTimeout(deadline);
    }
    const raw = new TextDecoder().decode(
      chunks.reduce((a, c) => {
        const out = new Uint8Array(a.length + c.length);
        out.set(a);
        out.set(c, a.length);
        return out;
      }, new Uint8Array(0)),
    );
    const [headPart, ...rest] = raw.split("\r\n\r\n");
    const [statusLine, ...lines] = headPart.split("\r\n");
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(":");
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    return { status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n"), raw };
  } finally {
    try {
      conn.close();
    } catch {
      // already closed by the deadline
    }
  }
}
