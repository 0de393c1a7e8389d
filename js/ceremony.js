// The enroll / authenticate flows (FACEIO semantics, OpenFIO edge protocol).
//
// enroll:       intro (enrollIntroTimeout, skippable) → terms unless userConsent (termsTimeout
//               minutes) → camera permission (permissionTimeout) → live view with guidance
//               (fast analysis on every frame the engine keeps up with) → 4 good fully analysed
//               frames over ≥ 1.8 s (fio_core::capture_schedule) [passive mode: and a blink] → checkEnrollment → [active
//               mode: the challenge's prompts] → liveness outcome → PIN choose + confirm → POST
//               enroll (UNIQUE_PIN_REQUIRED: another PIN, resent under retry.challengeId).
// authenticate: permission → live view → 2 good frames [+ blink / prompts] → liveness outcome →
//               POST authenticate → PIN pad when the edge answers pinRequired (wrongPin: retry;
//               WRONG_PIN_CODE from the edge: reject).
//
// Liveness (fio_core::liveness, in the engine's Web Worker): every analysed frame's face-mesh
// cues feed one session; the widget only shows prompts and maps the outcome to a FACEIO code
// (PAD_ATTACK, TIMEOUT, NO_FACES_DETECTED, MANY_FACES). The report goes to the edge, which
// re-runs the same decision on it. When the app re-verifies liveness at the edge (the session
// answer carries `evidenceKey`; active mode), the worker also keeps one 160×160 face crop per
// step (the user at rest, then the clearest frame of each prompted action); they are sealed to
// that key (evidence-seal.js) and sent as `liveness.evidence` with this challenge's enroll /
// authenticate request only.
//
// Closing the widget (× or Escape) rejects with: TERMS_NOT_ACCEPTED on the intro and terms
// screens, PERMISSION_REFUSED on the permission screen, PROCESSING_ERR anywhere else (FACEIO has
// no "closed by user" code). restartSession() aborts a running ceremony with SESSION_EXPIRED.
// Camera frames never leave the browser: only templates and scores are sent, plus those few
// sealed face crops when the app asks for edge re-verification.

import { ERROR_CODES as E, FioError, errorName, toCode } from "./errors.js";
import { pinProblem, DEFAULT_PIN_POLICY } from "./params.js";
import { resolveLocale, strings, format } from "./locales/index.js";
import { Widget } from "./widget/widget.js";
import { sealEvidence } from "./evidence-seal.js";
import { wasmSimdSupported } from "./engine.js";

// Samples per ceremony, their span, the gap between full analyses and the prompts' cadence are
// fio_core::capture_schedule's (run by the engine worker), which the liveness bench replays.
const MANY_FACES_MS = 3000; // live view showing several faces this long → MANY_FACES
const RESULT_SCREEN_MS = 1200;
const SESSION_REFRESH_MS = 60_000;

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

function median(xs) {
  const a = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((p, q) => p - q);
  if (!a.length) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/** The liveness result without its sealed crops: follow-up requests (PIN) use a new challenge. */
function withoutEvidence(liveness) {
  if (!liveness || !liveness.evidence) return liveness;
  const { evidence: _evidence, ...rest } = liveness;
  return rest;
}

function waitEvent(target, name) {
  return new Promise((r) => target.addEventListener(name, r, { once: true }));
}

export class Ceremony {
  /**
   * @param {"enroll"|"authenticate"} kind
   * @param {object} params normalised by params.js
   * @param {{client: import("./edge-client.js").EdgeClient, engine: import("./engine.js").Engine, debug?: object|null}} deps
   */
  constructor(kind, params, deps) {
    this.kind = kind;
    this.p = params;
    this.client = deps.client;
    this.engine = deps.engine;
    this.debug = deps.debug || null;
    this.ctrl = new AbortController();
    this.stream = null;
    this.widget = null;
    this.abortPromise = new Promise((_, reject) => {
      this.ctrl.signal.addEventListener("abort", () => reject(this.ctrl.signal.reason), { once: true });
    });
    this.abortPromise.catch(() => {});
    this.state("created");
  }

  state(name, extra) {
    this.stateName = name;
    if (this.debug) {
      this.debug.state = name;
      this.debug.ceremony = this.kind;
      if (extra) Object.assign(this.debug, extra);
      (this.debug.history ||= []).push(name);
    }
  }

  /** Aborts the ceremony; run() rejects with `code`. */
  abort(code, message) {
    if (!this.ctrl.signal.aborted) this.ctrl.abort(new FioError(code, message || errorName(code)));
  }

  get aborted() {
    return this.ctrl.signal.aborted;
  }

  /** Races a promise against abort. */
  guard(p) {
    return Promise.race([p, this.abortPromise]);
  }

  /** Rejects FioError(code) after ms (0 = never). */
  timer(ms, code, message) {
    if (!(ms > 0)) return new Promise(() => {});
    return delay(ms).then(() => { throw new FioError(code, message); });
  }

  edgeOpts() {
    return { replyMs: this.p.replyMs, signal: this.ctrl.signal };
  }

  async run() {
    try {
      return await this.flow();
    } catch (err) {
      const code = toCode(err);
      this.state("error", { errorCode: code, errorMessage: err && err.message });
      if (this.debug) this.debug.lastError = { code, name: errorName(code), message: err && err.message };
      if (code !== E.PROCESSING_ERR || !(err instanceof FioError)) {
        // expected outcomes: quiet
      } else if (typeof console !== "undefined") {
        console.warn("[fio.js]", err.message);
      }
      if (this.widget && this.widget.root && !this.restarted && !this.userClosed) {
        this.widget.showError(this.widget.s.errors[errorName(code)] || this.widget.s.errorTitle);
        await delay(RESULT_SCREEN_MS);
      }
      throw code;
    } finally {
      this.cleanup();
    }
  }

  cleanup() {
    if (this.stream) {
      for (const t of this.stream.getTracks()) t.stop();
      this.stream = null;
    }
    if (this.widget) this.widget.close();
    this.widget = null;
  }

  async startSession() {
    this.state("session");
    const s = await this.guard(this.client.session(this.kind, this.edgeOpts(), this.p.nonce));
    this.session = s;
    this.sessionAt = Date.now();
    this.policy = { ...(s.policy || {}) };
    this.policy.pinPolicy = { ...DEFAULT_PIN_POLICY, ...(this.policy.pinPolicy || {}) };
    if (this.debug) this.debug.policy = this.policy;
    return s;
  }

  /** A fresh challenge if the current one is old (terms may take up to 10 minutes). */
  async freshChallenge() {
    const exp = Date.parse(this.session && this.session.expiresAt);
    if (Date.now() - this.sessionAt > SESSION_REFRESH_MS || (Number.isFinite(exp) && exp - Date.now() < 30_000)) {
      await this.startSession();
    }
  }

  mountWidget() {
    const locale = resolveLocale(this.p.locale, undefined, this.policy && this.policy.defaultLocale);
    this.s = strings(locale, this.p.strings);
    this.widget = new Widget({
      strings: this.s,
      locale,
      ceremony: this.kind,
      terms: { text: this.policy && this.policy.termsText, privacyPolicyUrl: this.policy && this.policy.privacyPolicyUrl },
      styleNonce: this.p.styleNonce,
      onAbort: (screen) => {
        const code = screen === "intro" || screen === "terms" ? E.TERMS_NOT_ACCEPTED
          : screen === "permission" ? E.PERMISSION_REFUSED : E.PROCESSING_ERR;
        this.userClosed = true;
        this.abort(code, "closed by the user");
      },
    });
    this.widget.mount();
    if (this.debug) this.debug.locale = locale;
  }

  async flow() {
    if (typeof document === "undefined" || !document.body) throw new FioError(E.UI_NOT_READY, "no DOM");
    if (!wasmSimdSupported()) {
      // Said before the camera prompt: without SIMD the engine's module cannot even compile.
      this.mountWidget();
      throw new FioError(E.PROCESSING_ERR, "this browser cannot run the face engine: WebAssembly SIMD is unavailable (Chrome/Edge 91+, Firefox 89+, Safari 16.4+)");
    }
    // Models load while the user reads the intro / grants the camera.
    this.engineReady = this.engine.ready();
    this.engineReady.catch(() => {});
    // Age and gender are enrollment details: only an enrollment loads their model, while the
    // user reads the intro and terms.
    this.attributesReady = this.kind === "enroll" ? this.engine.prepare("attributes") : null;
    if (this.attributesReady) this.attributesReady.catch(() => {});
    try {
      await this.startSession();
    } catch (e) {
      if (toCode(e) === E.SESSION_EXPIRED && this.restarted) throw e;
      this.mountWidget();
      throw e;
    }
    this.mountWidget();
    if (this.kind === "enroll") {
      await this.intro();
      if (!this.p.userConsent) await this.terms();
    }
    await this.camera();
    await this.freshChallenge();
    return this.kind === "enroll" ? this.enroll() : this.authenticate();
  }

  async intro() {
    if (!(this.p.introMs > 0)) return;
    this.state("intro");
    this.widget.show("intro");
    const t0 = Date.now();
    const tick = setInterval(() => this.widget && this.widget.setIntroProgress((Date.now() - t0) / this.p.introMs), 200);
    try {
      await this.guard(Promise.race([this.widget.waitFor("intro-continue"), delay(this.p.introMs)]));
    } finally {
      clearInterval(tick);
    }
  }

  async terms() {
    this.state("terms");
    this.widget.show("terms");
    const choice = await this.guard(Promise.race([
      this.widget.waitFor("consent-accept"),
      this.widget.waitFor("consent-decline"),
      this.timer(this.p.termsMs, E.TERMS_NOT_ACCEPTED, "terms not accepted within termsTimeout"),
    ]));
    if (choice !== "consent-accept") throw new FioError(E.TERMS_NOT_ACCEPTED, "terms declined");
  }

  async camera() {
    this.state("permission");
    this.widget.show("permission");
    const md = typeof navigator !== "undefined" && navigator.mediaDevices;
    if (!md || !md.getUserMedia) throw new FioError(E.PERMISSION_REFUSED, "no camera API (insecure context?)");
    const req = md.getUserMedia({
      audio: false,
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } },
    });
    // A stream granted after the timeout (or after an abort) must still be stopped.
    req.then((st) => { if (this.aborted || this.permissionExpired) st.getTracks().forEach((t) => t.stop()); }, () => {});
    try {
      this.stream = await this.guard(Promise.race([
        req,
        this.timer(this.p.permissionMs, E.PERMISSION_REFUSED, "camera permission not granted within permissionTimeout"),
      ]));
    } catch (e) {
      this.permissionExpired = true;
      if (e instanceof FioError) throw e;
      throw new FioError(E.PERMISSION_REFUSED, `camera unavailable: ${e && e.name}`);
    }
    this.state("camera");
    this.widget.show("camera");
    this.widget.attachStream(this.stream);
    const v = this.widget.video;
    if (v.readyState < 2) await this.guard(Promise.race([waitEvent(v, "loadeddata"), delay(5000)]));
    // Engine readiness (first use downloads and verifies the models).
    if (!this.engine.info) {
      this.widget.setGuidance(this.s.loading, "loading");
      const off = this.engine.onProgress(({ loaded, total }) => this.widget && this.widget.setProgress(total ? loaded / total : 0));
      try {
        await this.guard(this.engineReady);
      } finally {
        off();
      }
      this.widget.setProgress(0);
      if (this.debug && this.engine.info) this.debug.engineTimings = this.engine.info.timings;
    }
    if (this.attributesReady) {
      this.widget.setGuidance(this.s.loading, "loading");
      await this.guard(this.attributesReady);
    }
  }

  nextFrame() {
    const v = this.widget.video;
    return new Promise((resolve) => {
      let done = false;
      const fin = () => { if (!done) { done = true; resolve(); } };
      if (typeof v.requestVideoFrameCallback === "function") v.requestVideoFrameCallback(fin);
      setTimeout(fin, 120);
    });
  }

  async grab() {
    const v = this.widget.video;
    const w = v.videoWidth;
    const h = v.videoHeight;
    if (!w || !h) return null;
    const scale = w > 640 ? 640 / w : 1;
    const opts = scale < 1 ? { resizeWidth: Math.round(w * scale), resizeHeight: Math.round(h * scale), resizeQuality: "medium" } : undefined;
    try {
      return await createImageBitmap(v, opts);
    } catch {
      return null;
    }
  }

  /**
   * Live view until the capture schedule (fio_core::capture_schedule, run by the engine worker)
   * has its samples: the frames it analysed fully that showed one good face. Frames with no face
   * for idleTimeout → NO_FACES_DETECTED; several faces in a fully analysed frame (or for
   * MANY_FACES_MS in the live view) → MANY_FACES.
   */
  async capture() {
    this.state("capturing");
    const samples = [];
    const start = Date.now();
    let lastFace = start;
    let manySince = null;
    const ignoreObscured = !!this.policy.ignoreObscuredFaces;
    let sawObscured = false;
    let blinkHinted = false;
    const hardCap = Math.max(this.p.idleMs * 2, 60_000);
    const mode = this.policy.livenessMode || "active";
    // Edge re-verification: crops are kept only when the edge gave this challenge a key.
    const key = this.session && this.session.evidenceKey;
    this.evidenceFor = typeof key === "string" && key && mode === "active"
      ? { key, challengeId: this.session.challengeId } : null;
    // The worker starts the liveness session and the capture schedule; the schedule decides
    // which frames get the full analysis and when capture is over (passive mode: after a blink
    // or the thresholds' blink wait, which the bench measures BPCER with).
    await this.guard(this.engine.livenessBegin(mode, this.policy.actions || [], !!this.evidenceFor, this.kind, ignoreObscured));
    for (;;) {
      if (this.aborted) await this.abortPromise;
      const now = Date.now();
      if (this.p.idleMs > 0 && now - lastFace > this.p.idleMs) {
        throw new FioError(E.NO_FACES_DETECTED, sawObscured ? "only an obscured face within idleTimeout (ignoreObscuredFaces)" : "no face within idleTimeout");
      }
      if (this.p.idleMs > 0 && now - start > hardCap) throw new FioError(E.NO_FACES_DETECTED, "no usable face");
      // Every frame the engine can keep up with (no skipping): blinks last 100–300 ms.
      await this.guard(this.nextFrame());
      const grabbedAt = performance.now();
      const frame = await this.grab();
      if (!frame) continue;
      const { analysis } = await this.guard(this.engine.analyze(frame, undefined, grabbedAt));
      if (this.debug) this.debug.lastAnalysis = analysis;
      const cap = analysis.capture;
      if (!cap) throw new FioError(E.PROCESSING_ERR, "the engine returned no capture step");
      const faces = analysis.faces || [];
      const t = Date.now();
      // ignoreObscuredFaces: a covered face (mask, hand, dark glasses) is ignored as if absent,
      // so the idle timeout ends a ceremony that never shows a clear face.
      if (faces.length && !cap.obscured) lastFace = t;
      if (faces.length) sawObscured = cap.obscured;
      if (faces.length > 1) {
        if (cap.full) throw new FioError(E.MANY_FACES, "several faces in a sampled frame");
        manySince ??= t;
        if (t - manySince > MANY_FACES_MS) throw new FioError(E.MANY_FACES, "several faces in view");
      } else {
        manySince = null;
      }
      if (cap.sample) samples.push({ main: analysis.main, t });
      const g = cap.guidance;
      if (cap.blinkHint && g === "ok") {
        // Passive mode, samples in, still no blink (fio_core::capture_schedule::BLINK_HINT_AFTER_MS):
        // ask for one with the blink cue; the decision still needs a real blink.
        if (!blinkHinted) this.state("blinkHint");
        blinkHinted = true;
        this.widget.setGuidance(this.s.actions.blink, "action");
        if (typeof this.widget.setAction === "function") this.widget.setAction("blink");
      } else {
        if (blinkHinted && typeof this.widget.setAction === "function") this.widget.setAction(null);
        const shown = samples.length && g === "ok" ? this.s.capturing : this.s.guidance[g] || this.s.guidance.noFace;
        this.widget.setGuidance(shown, g);
      }
      this.widget.setProgress(cap.samples / cap.needed);
      if (cap.done) break;
    }
    if (blinkHinted && typeof this.widget.setAction === "function") this.widget.setAction(null);
    this.widget.setProgress(1);
    return samples;
  }

  /** Active mode: prompts the challenge's actions one by one until the session passes or fails. */
  async activeActions() {
    if (this.policy.livenessMode !== "active" || !(this.policy.actions || []).length) return;
    let progress = await this.guard(this.engine.livenessChallenge());
    if (!progress) throw new FioError(E.PAD_ATTACK, "no resting pose before the prompts");
    let shown = null;
    while (progress && progress.state === "prompt") {
      const key = `${progress.step}:${progress.action}`;
      if (key !== shown) {
        shown = key;
        this.state(`action:${progress.action}`, { actionStep: progress.step });
        this.widget.setGuidance(this.s.actions[progress.action] || progress.action, "action");
        if (typeof this.widget.setAction === "function") this.widget.setAction(progress.action);
      }
      await this.guard(this.nextFrame());
      const frame = await this.grab();
      if (!frame) continue;
      // The schedule fully analyses one prompt frame in PROMPT_FULL_EVERY (identity continuity).
      const { analysis } = await this.guard(this.engine.analyze(frame, undefined, performance.now()));
      if (this.debug) this.debug.lastAnalysis = analysis;
      if (analysis.liveness && analysis.liveness.progress) progress = analysis.liveness.progress;
    }
    if (typeof this.widget.setAction === "function") this.widget.setAction(null);
  }

  /** The session's outcome as edge evidence, or the FACEIO rejection it implies. */
  async livenessResult() {
    await this.activeActions();
    const { outcome: out, bundle } = await this.guard(this.engine.livenessOutcome());
    if (this.debug) this.debug.liveness = out;
    if (out.error) {
      const code = E[out.error] ?? E.PAD_ATTACK;
      const v = out.verdict || {};
      throw new FioError(code, `liveness: ${v.verdict}${v.reason ? ` (${v.reason})` : ""}`);
    }
    const r = out.report;
    const score = Math.max(0, Math.min(1, typeof r.passive === "number" ? r.passive : 1));
    const liveness = { score, passed: true, actions: r.actions, report: r };
    if (this.evidenceFor) {
      // A step without a crop: nothing is sent, and the edge rejects the ceremony (PAD_ATTACK).
      if (bundle) {
        try {
          liveness.evidence = await this.guard(sealEvidence(this.evidenceFor.key, this.evidenceFor.challengeId, bundle));
        } catch (e) {
          if (this.aborted) throw e;
          throw new FioError(E.PROCESSING_ERR, `cannot seal the liveness evidence: ${e && e.message}`);
        }
      }
      if (this.debug) this.debug.evidence = { bundleBytes: bundle ? bundle.byteLength : 0, sealed: !!liveness.evidence };
    }
    return liveness;
  }

  checkPin(pin, confirm) {
    const s = this.s;
    const pol = this.policy.pinPolicy;
    const problem = pinProblem(pin, pol);
    if (problem === "notDigits") return s.pinNotDigits;
    if (problem === "tooShort") return format(s.pinTooShort, { n: Math.max(1, pol.minLen) });
    if (problem === "tooLong") return format(s.pinTooLong, { n: pol.maxLen });
    if (problem === "weak") return s.pinWeak;
    if (confirm !== undefined && pin !== confirm) return s.pinMismatch;
    return null;
  }

  async enroll() {
    const samples = await this.capture();
    this.widget.setGuidance(this.s.processing, "processing");
    const templates = samples.map((x) => x.main.template).slice(0, 8);
    await this.guard(this.engine.checkEnrollment(templates)); // → FACE_MISMATCH
    const liveness = await this.livenessResult();
    const genders = samples.map((x) => x.main.gender).filter(Boolean);
    const male = genders.filter((g) => String(g).toLowerCase().startsWith("m")).length;
    const details = {
      age: Math.max(0, Math.min(150, median(samples.map((x) => x.main.age)) || 0)),
      gender: male * 2 >= genders.length && genders.length ? "male" : "female",
    };
    if (this.debug) Object.assign(this.debug, { details, samples: samples.length });
    this.state("pin");
    let challengeId = this.session.challengeId;
    let sentLiveness = liveness;
    let notice;
    for (;;) {
      const { pin, confirm } = await this.guard(this.widget.askPin({ error: notice }));
      notice = undefined;
      const problem = this.checkPin(pin, confirm);
      if (problem) {
        notice = problem;
        continue;
      }
      this.widget.setPinBusy(true);
      this.state("submitting");
      try {
        const res = await this.guard(this.client.enroll({
          challengeId,
          templates,
          liveness: sentLiveness,
          details,
          payload: this.p.payload,
          pin,
        }, this.edgeOpts()));
        await this.finish(this.s.successEnroll);
        return withToken({ facialId: res.facialId, timestamp: res.timestamp, details: res.details }, res);
      } catch (e) {
        if (toCode(e) === E.UNIQUE_PIN_REQUIRED && e.body && e.body.retry && e.body.retry.challengeId) {
          // Not a rejection: ask another PIN, resend under the fresh challenge.
          challengeId = e.body.retry.challengeId;
          sentLiveness = withoutEvidence(liveness);
          notice = this.s.pinNotUnique;
          this.state("pin");
          continue;
        }
        throw e;
      }
    }
  }

  async authenticate() {
    const samples = await this.capture();
    this.widget.setGuidance(this.s.processing, "processing");
    let template = samples[0].main.template;
    try {
      template = await this.guard(this.engine.checkEnrollment(samples.map((x) => x.main.template)));
    } catch (e) {
      if (this.aborted) throw e;
    }
    const liveness = await this.livenessResult();
    if (this.debug) Object.assign(this.debug, { samples: samples.length });
    this.state("submitting");
    let res = await this.guard(this.client.authenticate({ challengeId: this.session.challengeId, template, liveness }, this.edgeOpts()));
    while (res && res.pinRequired) {
      this.state("pin");
      let notice = res.wrongPin ? format(this.s.wrongPin, { n: res.attemptsRemaining }) : undefined;
      let pin;
      for (;;) {
        ({ pin } = await this.guard(this.widget.askPin({ error: notice })));
        notice = undefined;
        if (/^[0-9]{1,16}$/.test(pin)) break;
        notice = this.s.pinNotDigits;
      }
      this.widget.setPinBusy(true);
      this.state("submitting");
      res = await this.guard(this.client.authenticate({ challengeId: res.challengeId, template, liveness: withoutEvidence(liveness), pin }, this.edgeOpts()));
    }
    if (!res || typeof res.facialId !== "string") throw new FioError(E.PROCESSING_ERR, "malformed authenticate reply");
    await this.finish(this.s.successAuth);
    return withToken({ payload: res.payload === undefined ? null : res.payload, facialId: res.facialId }, res);
  }

  async finish(text) {
    this.state("success");
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.widget.showSuccess(text);
    // Closing the success screen early just closes it: the result stands.
    await Promise.race([delay(RESULT_SCREEN_MS), this.abortPromise.catch(() => {})]);
  }
}

// FACEIO's result fields plus `token`, the edge's signed login token for the site's backend.
function withToken(result, res) {
  if (typeof res.token === "string") result.token = res.token;
  return result;
}
