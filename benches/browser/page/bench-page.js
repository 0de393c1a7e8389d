// In-page side of benches/browser/bench.mjs (bundled by scripts/bench-browser.sh with esbuild;
// the library's own js/engine.js is bundled in, so frames go through the same Web Worker
// (js/engine-worker.js), postMessage protocol and ImageBitmap transfer as in a ceremony).
// Driven from Node through window.bench; every timing is taken in the page or the worker.
import { Engine } from "../../../js/engine.js";

const frames = [];
const engines = {};
let human = null;

async function loadFrames(list) {
  frames.length = 0;
  for (const f of list) {
    const buf = await (await fetch(`/frames/${f.file}`)).arrayBuffer();
    if (buf.byteLength !== f.width * f.height * 4) throw new Error(`${f.file}: ${buf.byteLength} bytes`);
    frames.push(new ImageData(new Uint8ClampedArray(buf), f.width, f.height));
  }
  return frames.length;
}

async function initFio(name, wasmBase, tracking = false) {
  const t0 = performance.now();
  const e = new Engine({
    workerUrl: new URL("/fiojs/engine-worker.js", location.href).href,
    wasmBase: new URL(wasmBase, location.href).href,
    modelsBase: new URL("/models/", location.href).href,
    detectorSize: 320, // what faceIO passes (js/faceio.js)
    tracking, // off in the widget; measured here as an engine option
  });
  await e.ready();
  const tracker = performance.now() - t0;
  // The widget loads the match stage after its first frame and age/gender only for enrollments;
  // the per-frame rows measure a full analysis with every stage, as labelled.
  await e.prepare("match");
  await e.prepare("attributes");
  engines[name] = e;
  return { trackerMs: tracker, loadMs: performance.now() - t0 };
}

/** One frame through the library's worker, as the ceremony sends it (a transferred ImageBitmap). */
async function fio(name, i, full) {
  const bitmap = await createImageBitmap(frames[i]);
  const t0 = performance.now();
  const { analysis } = await engines[name].analyze(bitmap, full);
  const roundTrip = performance.now() - t0;
  return {
    ms: analysis.workerMs, // engine.analyze() inside the worker (wasm call + result conversion)
    roundTrip, // main thread: postMessage → drawImage/getImageData in the worker → analyze → reply
    timings: analysis.timings,
    tracked: analysis.tracked,
    faces: analysis.faces.length,
    main: !!analysis.main,
  };
}

function stopFio(name) {
  const e = engines[name];
  if (e && e.worker) e.worker.terminate();
  delete engines[name];
}

// The live view (`full` false) is Human's face detector + mesh with its own tracking (it re-runs
// the detector every skipFrames / skipTime, its defaults, and follows the mesh's box in between),
// the work our live view does; a full analysis runs every model on every frame.
function humanConfig(full) {
  const off = { skipFrames: 0, skipTime: 0 };
  return {
    face: {
      enabled: true,
      detector: { rotation: false, maxDetected: 1, return: false, ...(full ? off : { skipFrames: 99, skipTime: 2500 }) },
      mesh: { enabled: true },
      attention: { enabled: false },
      iris: { enabled: false },
      emotion: { enabled: false },
      description: { enabled: full, ...off }, // faceres: embedding + age + gender
      antispoof: { enabled: full, ...off },
      liveness: { enabled: full, ...off },
    },
  };
}

async function initHuman({ backend, wasmPath, modelBasePath }) {
  const t0 = performance.now();
  const url = "/human/human.esm.js"; // served from node_modules by bench.mjs, not bundled
  const { default: Human } = await import(url);
  const full = humanConfig(true);
  human = new Human({
    backend,
    wasmPath,
    wasmPlatformFetch: false,
    modelBasePath,
    cacheModels: false,
    cacheSensitivity: 0, // never reuse the previous frame's results
    warmup: "none",
    debug: false,
    filter: { enabled: false },
    gesture: { enabled: false },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    segmentation: { enabled: false },
    ...full,
  });
  await human.load();
  await human.tf.ready();
  const env = human.env;
  return {
    loadMs: performance.now() - t0,
    version: human.version,
    tfjs: human.tf.version_core,
    backend: human.tf.getBackend(),
    wasm: env.wasm ? { simd: env.wasm.simd, multithread: env.wasm.multithread } : null,
    webgl: env.webgl ? { supported: env.webgl.supported, backend: env.webgl.backend } : null,
    crossOriginIsolated: self.crossOriginIsolated,
    models: Object.entries(human.models.models || {}).filter(([, m]) => m).map(([k]) => k),
  };
}

async function humanDetect(i, full) {
  const t0 = performance.now();
  const r = await human.detect(frames[i], humanConfig(full));
  const ms = performance.now() - t0;
  const f = r.face[0];
  return {
    ms,
    faces: r.face.length,
    main: !!(f && f.embedding && f.embedding.length),
    real: f ? f.real : undefined,
    live: f ? f.live : undefined,
    age: f ? f.age : undefined,
    perf: r.performance,
  };
}

// MediaPipe's own face mesh (npm @mediapipe/face_mesh, its SIMD wasm and model data, served from
// node_modules by bench.mjs): face detection + 468-point mesh with its own tracking between
// frames (static image mode off), on the page's main thread, as that package runs.
let mediapipe = null;
let mediapipeCanvas = null;
let mediapipeFaces = 0;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const el = document.createElement("script");
    el.src = src;
    el.onload = resolve;
    el.onerror = () => reject(new Error(`${src} did not load`));
    document.head.appendChild(el);
  });
}

async function initMediaPipe() {
  const t0 = performance.now();
  await loadScript("/mediapipe/face_mesh.js");
  const mp = new window.FaceMesh({ locateFile: (f) => `/mediapipe/${f}` });
  mp.setOptions({ maxNumFaces: 1, refineLandmarks: false, selfieMode: false, minDetectionConfidence: 0.5, minTrackingConfidence: 0.5 });
  mp.onResults((r) => { mediapipeFaces = (r.multiFaceLandmarks || []).length; });
  await mp.initialize();
  mediapipe = mp;
  mediapipeCanvas = document.createElement("canvas");
  return { loadMs: performance.now() - t0 };
}

async function mediapipeDetect(i) {
  const f = frames[i];
  mediapipeCanvas.width = f.width;
  mediapipeCanvas.height = f.height;
  mediapipeCanvas.getContext("2d").putImageData(f, 0, 0);
  mediapipeFaces = -1;
  const t0 = performance.now();
  await mediapipe.send({ image: mediapipeCanvas });
  const ms = performance.now() - t0;
  return { ms, faces: mediapipeFaces, main: false };
}

window.bench = { loadFrames, initFio, fio, stopFio, initHuman, humanDetect, initMediaPipe, mediapipeDetect };
document.getElementById("status").textContent = "ready";
