// The browser module on real models and real photos, in Node (same wasm, same JS glue).
//
//   fio-wasm/build.sh && fio-wasm/build.sh --no-simd   # builds pkg/ and pkg-nosimd/
//   bash fixtures/fetch.sh                              # the photos
//   bash tests/browser/make-videos.sh                   # the clip frames (evidence crops)
//   node --test fio-wasm/tests/node.test.mjs
//
// FIO_WASM_PKG overrides the SIMD package dir; the no-SIMD package is optional (timed if present).
// Photos are decoded to RGBA with ffmpeg; the native reference comes from `fio template --json`.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const modelsDir = join(root, 'models');
const photos = join(root, 'fixtures/data/face_recognition');
const simdPkg = process.env.FIO_WASM_PKG ? resolve(process.env.FIO_WASM_PKG) : join(root, 'fio-wasm/pkg');
const noSimdPkg = join(root, 'fio-wasm/pkg-nosimd');
const PHOTO_DETECTOR_SIZE = 640; // what `fio template` uses, so templates are comparable
const TEMPLATE_BYTES = 6 + 192;

async function loadPkg(dir) {
  const js = join(dir, 'fio_wasm.js');
  const wasm = join(dir, 'fio_wasm_bg.wasm');
  if (!existsSync(js) || !existsSync(wasm)) return null;
  const m = await import(pathToFileURL(js).href);
  m.initSync({ module: readFileSync(wasm) });
  return m;
}

function decodeRgba(file) {
  const [width, height] = execFileSync('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height',
    '-of', 'csv=p=0', file,
  ]).toString().trim().split(',').map(Number);
  const rgba = execFileSync('ffmpeg', [
    '-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgba',
    '-sws_flags', 'accurate_rnd+full_chroma_int', '-',
  ], { maxBuffer: 1 << 30 });
  assert.equal(rgba.length, width * height * 4, `${file}: ffmpeg output size`);
  return { rgba: new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.length), width, height };
}

function templateValues(b64) {
  const bytes = Buffer.from(b64, 'base64');
  assert.equal(bytes.length, TEMPLATE_BYTES);
  assert.equal(bytes.subarray(0, 3).toString('latin1'), 'OFT');
  assert.equal(bytes[3], 1, 'template version');
  assert.equal(bytes.readUInt16LE(4), 192, 'template dimension');
  return new Int8Array(bytes.buffer, bytes.byteOffset + 6, 192);
}

function similarity(a, b) {
  const x = templateValues(a);
  const y = templateValues(b);
  let dot = 0, nx = 0, ny = 0;
  for (let i = 0; i < 192; i++) {
    dot += x[i] * y[i];
    nx += x[i] * x[i];
    ny += y[i] * y[i];
  }
  return dot / Math.sqrt(nx * ny);
}

function nativeTemplates(files) {
  const cli = process.env.FIO_BIN || join(root, 'target/release/fio');
  if (!existsSync(cli)) {
    // cargo waits on the build lock if another job is already building it.
    execFileSync('cargo', ['build', '--release', '-p', 'fio-cli'], { cwd: root, stdio: 'inherit' });
  }
  const out = JSON.parse(execFileSync(cli, ['template', ...files, '--json'], { cwd: root }).toString());
  return out.map((o) => o.template);
}

function readModels(m) {
  const { models, pipeline } = m.manifest();
  const byName = new Map(models.map((e) => [e.name, e]));
  const files = {};
  for (const name of pipeline) files[name] = new Uint8Array(readFileSync(join(modelsDir, byName.get(name).file)));
  return files;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

let simd, noSimd, models, engine;
const img = {};

before(async () => {
  simd = await loadPkg(simdPkg);
  assert.ok(simd, `no built module in ${simdPkg}: run fio-wasm/build.sh`);
  noSimd = await loadPkg(noSimdPkg);
  for (const f of ['obama', 'obama2', 'obama3', 'biden']) {
    const p = join(photos, `${f}.jpg`);
    assert.ok(existsSync(p), `${p} missing: run bash fixtures/fetch.sh`);
    img[f] = decodeRgba(p);
  }
  models = readModels(simd);
  const t = performance.now();
  engine = new simd.FaceEngine(models, PHOTO_DETECTOR_SIZE);
  console.log(`# FaceEngine (SIMD) loaded in ${(performance.now() - t).toFixed(0)} ms`);
});

test('manifest and error codes', () => {
  const m = simd.manifest();
  assert.deepEqual(m.pipeline, ['retinaface_mnet025', 'face_landmark', 'mobilefacenet', 'antispoof', 'liveness', 'faceres']);
  for (const e of m.models) {
    assert.match(e.sha256, /^[0-9a-f]{64}$/);
    assert.equal(typeof e.file, 'string');
    assert.equal(typeof e.bytes, 'number');
  }
  const codes = simd.errorCodes();
  assert.equal(Object.getPrototypeOf(codes), Object.prototype, 'a plain object, not a Map');
  assert.equal(Object.keys(codes).length, 22);
  assert.equal(codes.PERMISSION_REFUSED, 1);
  assert.equal(codes.NO_FACES_DETECTED, 2);
  assert.equal(codes.FACE_MISMATCH, 6);
  assert.equal(codes.MINORS_NOT_ALLOWED, 22);
});

test('obama.jpg: one face, full analysis, template matches the native pipeline', () => {
  const { rgba, width, height } = img.obama;
  const a = engine.analyze(rgba, width, height, true);
  assert.equal(a.faces.length, 1);
  const f = a.faces[0];
  assert.equal(f.bbox.length, 4);
  assert.equal(f.landmarks.length, 5);
  assert.ok(f.score >= 0.9);
  assert.ok(a.main, 'main face');
  assert.equal(a.main.embedding, undefined, 'raw embedding must not leave wasm');
  assert.deepEqual(Object.keys(a.main).sort(), ['age', 'gender', 'genderConfidence', 'liveness', 'quality', 'template']);
  assert.deepEqual(Object.keys(a.main.quality).sort(), [
    'alignmentResidual', 'brightness', 'faceFraction', 'facePx', 'pitchDeg', 'rollDeg', 'sharpness', 'yawDeg',
  ]);
  assert.equal(a.main.gender, 'male');
  assert.ok(a.main.age > 20 && a.main.age < 60, `age ${a.main.age}`);
  // Liveness cues from the face mesh: a frontal portrait with open eyes.
  assert.equal(a.cues.faces, 1);
  assert.ok(a.cues.ear > 0.15 && a.cues.ear < 0.45, `ear ${a.cues.ear}`);
  assert.ok(Math.abs(a.cues.yawDeg) < 20 && Math.abs(a.cues.pitchDeg) < 25, `pose ${a.cues.yawDeg} ${a.cues.pitchDeg}`);
  assert.ok(a.cues.faceWidth > 0.1 && a.cues.faceWidth < 1, `width ${a.cues.faceWidth}`);
  assert.equal(a.cues.passive, a.main.liveness.liveness);
  assert.ok(a.main.liveness.liveness > 0.5, `liveness ${a.main.liveness.liveness}`);
  assert.equal(typeof a.main.liveness.antispoof, 'number');
  assert.equal(a.guidance, 'ok');
  for (const k of ['detect', 'mesh', 'align', 'embed', 'liveness', 'attributes']) assert.ok(a.timings[k] >= 0, k);
  assert.ok(a.timings.detect > 0 && a.timings.embed > 0);

  const [native] = nativeTemplates([join(photos, 'obama.jpg')]);
  const s = similarity(a.main.template, native);
  console.log(`# obama.jpg wasm vs native template similarity ${s.toFixed(5)}`);
  assert.ok(s > 0.99, `similarity ${s}`);
});

test('detection only: no main face, guidance still computed', () => {
  const { rgba, width, height } = img.obama;
  const a = engine.analyze(new Uint8ClampedArray(rgba), width, height, false);
  assert.equal(a.faces.length, 1);
  assert.equal(a.main, null);
  assert.equal(a.guidance, 'ok');
  assert.equal(a.timings.embed, 0);
  const blank = engine.analyze(new Uint8Array(64 * 48 * 4), 64, 48, false);
  assert.deepEqual(blank.faces, []);
  assert.equal(blank.guidance, 'noFace');
  assert.equal(engine.analyze(new Uint8Array(64 * 48 * 4), 64, 48, true).main, null);
});

test('the live view follows the face between detector frames; a full analysis always detects', () => {
  const { rgba, width, height } = img.obama;
  assert.equal(engine.analyze(rgba, width, height, false).tracked, false);
  assert.equal(engine.analyze(rgba, width, height, false).tracked, false, 'tracking is off by default');
  engine.setTracking(true);
  engine.analyze(new Uint8Array(64 * 48 * 4), 64, 48, false); // no face: no track
  const seq = Array.from({ length: 9 }, () => engine.analyze(rgba, width, height, false));
  assert.deepEqual(seq.map((a) => a.tracked), [false, true, true, true, true, true, true, true, false],
    'detector frames every 8 frames');
  for (const a of seq) assert.equal(a.faces.length, 1);
  assert.equal(seq[1].timings.detect, 0);
  const iou = (a, b) => {
    const ix = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
    const iy = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
    const inter = Math.max(0, ix) * Math.max(0, iy);
    return inter / (a[2] * a[3] + b[2] * b[3] - inter);
  };
  assert.ok(iou(seq[1].faces[0].bbox, seq[0].faces[0].bbox) > 0.9, 'a tracked box is where the detector put it');
  assert.ok(Math.abs(seq[1].cues.ear - seq[0].cues.ear) < 0.03);
  assert.equal(engine.analyze(rgba, width, height, true).tracked, false);
  engine.setTracking(false);
});

test('liveness session: cues in, prompts and the shared decision out', () => {
  const { rgba, width, height } = img.obama;
  const frame = (t, full) => {
    const a = engine.analyze(rgba, width, height, full);
    assert.ok(a.cues.ear > 0, 'mesh runs in detection-only mode too');
    return { cues: { ...a.cues, tMs: t }, template: a.main ? a.main.template : undefined };
  };
  // A photo repeated: no eye closure, so passive mode calls it an attack.
  const passive = new simd.LivenessSession('passive', []);
  assert.equal(passive.blinkWaitMs(), 8000, 'the widget waits Thresholds::blink_wait_ms for a blink');
  for (let i = 0; i < 8; i++) {
    const f = frame(i * 100, i % 4 === 0);
    const step = passive.push(f.cues, f.template);
    assert.equal(step.blinks, 0);
    assert.equal(step.progress, null);
  }
  const out = passive.outcome();
  assert.equal(out.error, 'PAD_ATTACK');
  assert.deepEqual(out.verdict, { verdict: 'attack', reason: 'no blink' });
  assert.equal(out.report.frames, 8);
  assert.ok(out.report.minSimilarity > 0.99, 'the same photo matches itself');

  // Active mode prompts the challenge's actions in order; a still photo never performs them.
  const active = new simd.LivenessSession('active', ['turnLeft', 'blink']);
  assert.equal(active.startChallenge(), null, 'no frames yet');
  for (let i = 0; i < 4; i++) { const f = frame(i * 100, false); active.push(f.cues, f.template); }
  assert.deepEqual(active.startChallenge(), { state: 'prompt', step: 0, action: 'turnLeft', armed: false });
  let p;
  for (let i = 0; i < 5; i++) p = active.push({ ...frame(0, false).cues, tMs: 500 + i * 2500 }).progress;
  assert.deepEqual(p, { state: 'failed', failure: { kind: 'timedOut', action: 'turnLeft', strayed: false } });
  assert.equal(active.outcome().error, 'PAD_ATTACK', 'no blink before the timeout: an attack, not TIMEOUT');
  assert.throws(() => new simd.LivenessSession('strict', []), /livenessMode/);
  assert.throws(() => new simd.LivenessSession('active', ['dance']), /actions/);
});

test('capture schedule: the widget\'s cadence from fio-core, bad arguments rejected by name', () => {
  // Authentication at 10 fps: the first frame has no guidance yet, then one full analysis per
  // SAMPLE_GAP_MS until two samples span AUTH_SPAN_MS; the prompts fully analyse every 5th frame.
  const s = new simd.CaptureSchedule('authenticate', 'active', 8000, false);
  const fulls = [];
  let step;
  for (let t = 0; t <= 2000; t += 100) {
    const full = s.full(t);
    if (full) fulls.push(t);
    step = s.record({ tMs: t, full, faces: 1, guidance: 'ok', obscured: false, main: full, blinks: 0, ready: true });
    if (step.done) break;
  }
  assert.deepEqual(fulls, [100, 500]);
  assert.deepEqual(step, { guidance: 'ok', obscured: false, sample: true, samples: 2, needed: 2, enough: true, done: true, blinkHint: false });
  s.startPrompts();
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((t) => s.full(t)), [true, false, false, false, false, true]);
  assert.throws(() => new simd.CaptureSchedule('login', 'active', 8000, false), /ceremony/);
  assert.throws(() => new simd.CaptureSchedule('enroll', 'strict', 8000, false), /livenessMode/);
  assert.throws(() => s.record({ tMs: 0 }), /frame/);
  // Passive mode: no blink 3 s after the first sample (100 ms) → the widget shows the blink hint.
  const p = new simd.CaptureSchedule('authenticate', 'passive', 8000, false);
  let hintAt = null;
  for (let t = 0; t <= 5000; t += 100) {
    const full = p.full(t);
    const st = p.record({ tMs: t, full, faces: 1, guidance: 'ok', obscured: false, main: full, blinks: 0, ready: true });
    if (st.blinkHint && hintAt === null) hintAt = t;
    assert.equal(st.done, false, `no blink, no end before the 8 s wait (t = ${t})`);
  }
  assert.equal(hintAt, 3100);
});

// The canvas-camera frames of the liveness tests (make-videos.sh: 400x300 JPEG at 10 fps).
const FRAMES10 = join(process.env.FIXTURES_DATA || join(root, 'fixtures/data'), 'frames10');
const CROP = 160; // fio_core::liveness::EVIDENCE_SIDE

/** Frames `first` .. `first + count - 1` of a clip as RGBA, decoded by one ffmpeg call. */
function clipFrames(clip, first, count) {
  const [width, height] = [400, 300];
  const rgba = execFileSync('ffmpeg', [
    '-v', 'error', '-start_number', String(first), '-i', join(FRAMES10, clip, '%05d.jpg'),
    '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'rgba', '-',
  ], { maxBuffer: 1 << 30 });
  const n = width * height * 4;
  assert.equal(rgba.length, n * count, `${clip} frames ${first}+${count}: ffmpeg output size`);
  return Array.from({ length: count }, (_, i) => ({ rgba: new Uint8Array(rgba.buffer, rgba.byteOffset + i * n, n), width, height }));
}

function rgbToRgba(rgb) {
  const out = new Uint8Array((rgb.length / 3) * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    out[j] = rgb[i];
    out[j + 1] = rgb[i + 1];
    out[j + 2] = rgb[i + 2];
    out[j + 3] = 255;
  }
  return out;
}

test('evidence crops: kept per step on the real clip frames, bundled in slot order, one face each', (t) => {
  if (!existsSync(join(FRAMES10, 'cap12', '.complete'))) {
    t.skip(`${FRAMES10}/cap12 missing: bash tests/browser/make-videos.sh`);
    return;
  }
  const cam = new simd.FaceEngine(models, 320); // the widget's webcam detector size
  const actions = ['turnRight', 'lookUp'];
  const session = new simd.LivenessSession('active', actions);
  assert.equal(session.restFaceWidth(), undefined, 'no resting width before the challenge');
  assert.equal(session.evidenceBundle(), null);
  let tMs = 0;
  let frameNo = 0;
  let progress = null;
  const kept = []; // [slot, frame label]
  let reference = null;
  const play = (label, frames) => {
    for (const [i, f] of frames.entries()) {
      const a = cam.analyze(f.rgba, f.width, f.height, frameNo++ % 5 === 0);
      if (a.main && !reference) reference = a.main.template;
      const step = session.push({ ...a.cues, tMs }, a.main ? a.main.template : undefined);
      tMs += 100;
      if (step.progress) progress = step.progress;
      if (step.keep) {
        assert.ok(Array.isArray(step.keep) && step.keep.length > 0, `keep: ${JSON.stringify(step.keep)}`);
        assert.equal(a.faces.length, 1, 'a kept frame shows one face');
        session.keepEvidence(f.rgba, f.width, f.height, a.faces[0].bbox, step.keep);
        for (const s of step.keep) kept.push([s, `${label}#${i}`]);
      }
    }
  };
  // cap12: at rest 0–4 s; turns right at 38.0–38.9 s, looks up at 24.0–25.0 s (segments.json),
  // at rest again 43.1–50.5 s.
  play('rest', clipFrames('cap12', 0, 12));
  assert.throws(() => session.keepEvidence(new Uint8Array(400 * 300 * 4), 400, 300, [150, 100, 100, 120], [0]), /challenge/);
  assert.deepEqual(session.startChallenge(), { state: 'prompt', step: 0, action: 'turnRight', armed: false });
  const rest = session.restFaceWidth();
  assert.ok(rest > 0.15 && rest < 0.5, `resting face width ${rest}`);
  play('rest', clipFrames('cap12', 12, 6));
  play('turnRight', clipFrames('cap12', 375, 18));
  play('rest', clipFrames('cap12', 440, 8));
  assert.equal(progress.step, 1, `turnRight done: ${JSON.stringify(progress)}`);
  play('lookUp', clipFrames('cap12', 235, 18));
  play('rest', clipFrames('cap12', 448, 8));
  assert.deepEqual(progress, { state: 'passed' }, `kept ${JSON.stringify(kept)}`);
  assert.equal(session.outcome().error, null);
  t.diagnostic(`kept (slot, frame): ${kept.map(([s, l]) => `${s}:${l}`).join(' ')}`);
  // Once armed at rest, a step's first candidates are weak (resting) frames; the last one kept
  // per slot, the clearest, shows the step.
  const last = new Map(kept);
  assert.deepEqual([...last.keys()].sort(), [0, 1, 2]);
  for (const [slot, label] of last) assert.equal(label.split('#')[0], ['rest', ...actions][slot], `slot ${slot} from ${label}`);

  const bundle = session.evidenceBundle();
  assert.ok(bundle instanceof Uint8Array);
  const n = CROP * CROP * 3;
  assert.equal(bundle.length, 7 + 3 * n);
  assert.equal(Buffer.from(bundle.subarray(0, 4)).toString('latin1'), 'FIE1');
  assert.equal(bundle[4] | (bundle[5] << 8), CROP);
  assert.equal(bundle[6], 3);

  // What the edge measures: each crop at the evidence detector size (160).
  const small = new simd.FaceEngine(models, 160);
  const m = [0, 1, 2].map((i) => small.analyze(rgbToRgba(bundle.subarray(7 + i * n, 7 + (i + 1) * n)), CROP, CROP, true));
  const fmt = (a) => `faces ${a.faces.length} yaw ${a.cues.yawDeg?.toFixed(1)} pitch ${a.cues.pitchDeg?.toFixed(1)} width ${a.cues.faceWidth.toFixed(2)} ` +
    `passive ${a.cues.passive?.toFixed(2)} similarity ${a.main ? similarity(a.main.template, reference).toFixed(3) : '-'}`;
  t.diagnostic(`crops: rest ${fmt(m[0])}; turnRight ${fmt(m[1])}; lookUp ${fmt(m[2])}`);
  for (const a of m) assert.equal(a.faces.length, 1, fmt(a));
  // Window = 2.2 × the resting face width: the resting face spans ~1/2.2 of its crop.
  assert.ok(m[0].cues.faceWidth > 0.3 && m[0].cues.faceWidth < 0.6, `rest crop ${fmt(m[0])}`);
  assert.ok(similarity(m[0].main.template, reference) > 0.5, `rest crop shows the ceremony's person: ${fmt(m[0])}`);
  // fio-core's signs: turning right lowers the yaw, looking up raises the pitch.
  assert.ok(m[1].cues.yawDeg - m[0].cues.yawDeg < -10, `turned right in its crop: ${fmt(m[1])} vs ${fmt(m[0])}`);
  assert.ok(m[2].cues.pitchDeg - m[0].cues.pitchDeg > 7, `looked up in its crop: ${fmt(m[2])} vs ${fmt(m[0])}`);

  assert.throws(() => session.keepEvidence(new Uint8Array(400 * 300 * 4), 400, 300, [150, 100, 100, 120], [3]), /slot/);
  small.free();
  cam.free();
  session.free();
});

test('enrollment: obama photos agree, biden is a mismatch', () => {
  const t = {};
  for (const f of ['obama', 'obama2', 'obama3', 'biden']) {
    const { rgba, width, height } = img[f];
    const a = engine.analyze(rgba, width, height, true);
    assert.ok(a.main, `${f}: main face`);
    t[f] = a.main.template;
  }
  console.log(`# similarity obama/obama2 ${similarity(t.obama, t.obama2).toFixed(3)}, ` +
    `obama/obama3 ${similarity(t.obama, t.obama3).toFixed(3)}, obama/biden ${similarity(t.obama, t.biden).toFixed(3)}`);
  const mean = simd.checkEnrollment([t.obama, t.obama2, t.obama3]);
  templateValues(mean);
  assert.ok(similarity(mean, t.obama) > 0.8);
  const mismatch = (ts) => assert.throws(() => simd.checkEnrollment(ts), (e) => e instanceof Error && e.message === 'FACE_MISMATCH');
  mismatch([t.obama, t.obama2, t.biden]);
  mismatch([t.obama, t.biden, t.obama3]);
  mismatch([t.obama, t.obama2]); // fewer than the 3 frames fio-core requires
  assert.throws(() => simd.checkEnrollment(['garbage', t.obama, t.obama2]), { message: 'PROCESSING_ERR' });
});

test('corrupt or missing models are refused by name', () => {
  const bad = { ...models, mobilefacenet: models.mobilefacenet.slice() };
  bad.mobilefacenet[1000] ^= 0xff;
  assert.throws(() => new simd.FaceEngine(bad, 320), (e) => e instanceof Error && /mobilefacenet/.test(e.message) && /sha256/.test(e.message));
  const noTracker = { ...models };
  delete noTracker.retinaface_mnet025;
  assert.throws(() => new simd.FaceEngine(noTracker, 320), (e) => e instanceof Error && /retinaface_mnet025/.test(e.message));
  // A later stage whose models are not all given is simply not loaded yet; loading it without
  // them names the missing one.
  const noAttributes = { ...models };
  delete noAttributes.faceres;
  const staged = new simd.FaceEngine(noAttributes, 320);
  assert.equal(staged.hasStage('match'), true);
  assert.equal(staged.hasStage('attributes'), false);
  assert.throws(() => staged.loadStage('attributes', {}), (e) => e instanceof Error && /faceres/.test(e.message));
  assert.throws(() => staged.loadStage('faces', models), /unknown model stage/);
  assert.throws(() => new simd.FaceEngine({ ...models, antispoof: 'x' }, 320), /antispoof/);
  assert.throws(() => new simd.FaceEngine(models, 100), /multiple of 32/);
});

test('bad frames throw errors instead of panicking', () => {
  const { rgba, width, height } = img.obama;
  assert.throws(() => engine.analyze(rgba.subarray(1), width, height, true), (e) => e instanceof Error && /bytes/.test(e.message));
  assert.throws(() => engine.analyze(new Uint8Array(0), 0, 0, false), Error);
  // The engine is still usable afterwards.
  assert.equal(engine.analyze(rgba, width, height, false).faces.length, 1);
});

test('timing: SIMD vs no-SIMD', () => {
  const { rgba, width, height } = img.obama;
  const flavours = [['SIMD', simd, engine]];
  if (noSimd) flavours.push(['no-SIMD', noSimd, new noSimd.FaceEngine(readModels(noSimd), PHOTO_DETECTOR_SIZE)]);
  else console.log(`# ${noSimdPkg} not built: no-SIMD timing skipped`);
  const web = {};
  for (const [label, m, eng] of flavours) {
    const full = [], detectOnly = [], stages = [];
    eng.analyze(rgba, width, height, true); // warm-up
    for (let i = 0; i < 5; i++) {
      let t = performance.now();
      const a = eng.analyze(rgba, width, height, true);
      full.push(performance.now() - t);
      stages.push(a.timings);
      t = performance.now();
      eng.analyze(rgba, width, height, false);
      detectOnly.push(performance.now() - t);
    }
    const st = Object.fromEntries(Object.keys(stages[0]).map((k) => [k, median(stages.map((s) => s[k])).toFixed(1)]));
    console.log(`# ${label} obama.jpg ${width}x${height} @${PHOTO_DETECTOR_SIZE}: analyze(full) median ${median(full).toFixed(1)} ms, ` +
      `detect-only ${median(detectOnly).toFixed(1)} ms; stages ${JSON.stringify(st)}`);
    // Webcam-sized detection, the video-rate path.
    const cam = new m.FaceEngine(models, 320);
    const frame = new Uint8Array(640 * 480 * 4);
    const cam_t = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      cam.analyze(frame, 640, 480, false);
      cam_t.push(performance.now() - t);
    }
    web[label] = median(cam_t);
    console.log(`# ${label} 640x480 frame @320 detect-only median ${web[label].toFixed(1)} ms`);
    cam.free();
    if (eng !== engine) eng.free();
  }
});
