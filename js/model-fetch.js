// Downloads one model file for the engine's Web Worker (its .gz copy where possible), never
// waiting forever: a response that delivers no byte for `stallMs` is aborted and fetched again
// (`attempts` times in all). The stall is measured, not the total time, so a large model on a
// slow link still completes.
// HTTP errors are answered at once (retrying a 404 does not help).

/** Default: no byte for this long and the download is retried. */
export const STALL_MS = 15_000;
/** Default: tries in all per file. */
export const ATTEMPTS = 3;

/** An HTTP error answer: not retried. */
export class HttpError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/**
 * The bytes at `url` (Uint8Array). Throws HttpError on an HTTP error status, and an Error naming
 * the last failure once every attempt has failed or stalled.
 */
export async function fetchModelBytes(url, { stallMs = STALL_MS, attempts = ATTEMPTS, fetchImpl = fetch } = {}) {
  let last = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const ctrl = new AbortController();
    let timer = null;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => ctrl.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
    };
    try {
      arm();
      const res = await fetchImpl(url, { credentials: "omit", signal: ctrl.signal });
      if (!res.ok) throw new HttpError(`HTTP ${res.status} from ${url}`, res.status);
      const chunks = [];
      let size = 0;
      const reader = res.body.getReader();
      for (;;) {
        arm();
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        size += value.length;
      }
      const bytes = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.length;
      }
      return bytes;
    } catch (e) {
      if (e instanceof HttpError) throw e;
      // An abort surfaces as the reason we gave, or as an AbortError carrying it.
      last = ctrl.signal.aborted ? ctrl.signal.reason : e;
    } finally {
      clearTimeout(timer);
    }
  }
  throw new Error(`${last?.message ?? last} (${attempts} attempts)`);
}

async function gunzip(bytes, url) {
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new Error(`cannot decompress ${url}: ${e.message}`);
  }
}

/**
 * The model file at `url`: its gzip copy `<url>.gz` where the browser can decompress it (the
 * weights are int8 and barely compress, but Cloudflare does not compress .onnx at all), else, or
 * when the server has no such copy (404), the plain file. The caller checks the sha256 of what
 * this returns, the decompressed bytes.
 */
export async function fetchModelFile(url, opts = {}) {
  if (typeof DecompressionStream === "function") {
    let packed = null;
    try {
      packed = await fetchModelBytes(`${url}.gz`, opts);
    } catch (e) {
      if (!(e instanceof HttpError && e.status === 404)) throw e;
    }
    if (packed) return gunzip(packed, `${url}.gz`);
  }
  return fetchModelBytes(url, opts);
}
