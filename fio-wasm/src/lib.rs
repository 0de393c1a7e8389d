//! OpenFIO's face pipeline in the browser: a thin wasm-bindgen layer over `fio-vision` and
//! `fio-core`, the same code the CLI and the benches run natively.
//!
//! JS only fetches and caches the model bytes and runs this module in a Web Worker; every model is
//! checked against the manifest compiled into this module before use. The raw embedding never
//! leaves wasm: JS receives the int8 template only. The logic lives in
//! [`fio_vision::frame_engine`], which has no JS types and is tested natively; this file converts
//! arguments and results.

use fio_core::liveness::{FrameCues, Session};
use fio_core::protocol::LivenessMode;
use fio_core::LivenessAction;
use fio_vision::manifest;
use fio_vision::models::{pipeline_models, ModelStage};
use fio_vision::{Frame, ModelFiles};
use js_sys::{Function, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use fio_vision::frame_engine::{self, Engine, EvidenceSlots};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
export interface ModelManifest {
  models: { name: string; file: string; sha256: string; bytes: number }[];
  /** Names of every model `FaceEngine` can load. */
  pipeline: string[];
  /** The models of each stage, in loading order: `tracker` for the live view (needed by the
   * constructor), `match` for full analyses, `attributes` for age and gender. */
  stages: Record<ModelStage, string[]>;
}
export type ModelStage = "tracker" | "match" | "attributes";
export type Guidance = "noFace" | "manyFaces" | "moveCloser" | "moveBack" | "holdStill" | "moreLight" | "faceTheCamera" | "uncoverFace" | "ok";
export interface DetectedFace {
  /** [x, y, w, h] in frame pixels. */
  bbox: [number, number, number, number];
  score: number;
  /** Left eye, right eye, nose tip, left and right mouth corners. */
  landmarks: [number, number][];
}
export interface MainFace {
  /** Base64 int8 template (fio_core::Template); the float embedding never leaves wasm. */
  template: string;
  liveness: { antispoof: number; liveness: number };
  /** `null` until the `attributes` stage is loaded. */
  age: number | null;
  gender: "male" | "female" | null;
  genderConfidence: number | null;
  quality: {
    facePx: number; faceFraction: number; sharpness: number; brightness: number;
    yawDeg: number; pitchDeg: number; rollDeg: number; alignmentResidual: number;
  };
}
export interface FrameCues {
  tMs: number; faces: number; ear: number | null; yawDeg: number | null; pitchDeg: number | null;
  faceWidth: number; passive: number | null; similarity: number | null;
  /** Periodic-pattern (moiré) score of the face's skin, when measurable. */
  pattern: number | null;
}
export type LivenessAction = "turnLeft" | "turnRight" | "blink" | "lookUp" | "comeCloser";
export type LivenessProgress =
  | { state: "prompt"; step: number; action: LivenessAction; armed: boolean }
  | { state: "passed" }
  | { state: "failed"; failure: { kind: string; action?: LivenessAction; expected?: LivenessAction; seen?: LivenessAction; strayed?: boolean } };
export interface LivenessStep {
  blinks: number; ready: boolean; progress: LivenessProgress | null;
  /** Evidence slots (0 = rest, k + 1 = action k) this frame is now the clearest frame for;
   * absent when none. Pass them to `keepEvidence` with the same frame. */
  keep?: number[];
}
export interface LivenessOutcome {
  report: {
    frames: number; durationMs: number; passive?: number; pattern?: number; blinks: number; yawSpreadDeg: number;
    pitchSpreadDeg: number; minSimilarity?: number; actions: LivenessAction[];
    failure?: { kind: string };
  };
  verdict: { verdict: "live" | "attack" | "timeout" | "noFace" | "manyFaces"; reason?: string };
  error: string | null;
}
export interface CapturedFrame {
  tMs: number; full: boolean; faces: number; guidance: Guidance; obscured: boolean; main: boolean;
  blinks: number; ready: boolean;
}
export interface CaptureStep {
  /** The guidance to show (`uncoverFace` for an ignored obscured face). */
  guidance: Guidance;
  /** The frame counts as faceless (ignoreObscuredFaces and an obscured face). */
  obscured: boolean;
  /** Keep this frame's main face as a sample. */
  sample: boolean; samples: number; needed: number;
  /** The samples are in. */
  enough: boolean;
  /** Capture is over. */
  done: boolean;
  /** Passive mode: no blink yet, well after the samples: show the blink cue as a hint. */
  blinkHint: boolean;
}
export interface Analysis {
  /** Liveness cues of the largest face (face mesh; passive score when `full`). */
  cues: FrameCues;
  /** Detections with score >= 0.9, largest first. */
  faces: DetectedFace[];
  /** The largest face, only when `full` and a face was found. */
  main: MainFace | null;
  guidance: Guidance;
  /** The largest face's occlusion score (mask, hand, dark glasses), when measurable. */
  occlusion: number | null;
  /** The largest face is obscured (score above fio_core's OCCLUSION_MAX). */
  obscured: boolean;
  /** The face was followed from the previous frame's mesh; the detector did not run. */
  tracked: boolean;
  /** Milliseconds per stage. */
  timings: { detect: number; mesh: number; align: number; embed: number; liveness: number; attributes: number };
}
"#;

/// Plain JS objects (not `Map`s) and `null` for `None`.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::new()
        .serialize_missing_as_null(true)
        .serialize_maps_as_objects(true);
    value
        .serialize(&serializer)
        .map_err(|e| JsError::new(&e.to_string()))
}

#[derive(Serialize)]
struct ManifestModel {
    name: String,
    file: String,
    sha256: String,
    bytes: f64,
}

#[derive(Serialize)]
struct ManifestOut {
    models: Vec<ManifestModel>,
    pipeline: Vec<&'static str>,
    stages: std::collections::BTreeMap<&'static str, &'static [&'static str]>,
}

/// The compiled-in model manifest: every model, and the names `FaceEngine` needs.
#[wasm_bindgen(unchecked_return_type = "ModelManifest")]
pub fn manifest() -> Result<JsValue, JsError> {
    let models = manifest::entries()
        .map_err(|e| JsError::new(&e.to_string()))?
        .into_iter()
        .map(|m| ManifestModel {
            name: m.name,
            file: m.file,
            sha256: m.sha256,
            bytes: m.bytes as f64,
        })
        .collect();
    to_js(&ManifestOut {
        models,
        pipeline: pipeline_models().collect(),
        stages: ModelStage::ALL
            .into_iter()
            .map(|s| (s.name(), s.models()))
            .collect(),
    })
}

/// FACEIO's error-code map (`{PERMISSION_REFUSED: 1, ...}`), as `fetchAllErrorCodes()` returns it.
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "Record<string, number>")]
pub fn error_codes() -> Result<JsValue, JsError> {
    to_js(&fio_core::all_error_codes_map())
}

/// Checks that enrollment templates show one face and returns their mean template (base64);
/// throws an `Error` whose message is the FACEIO code name, e.g. `FACE_MISMATCH`.
#[wasm_bindgen(js_name = checkEnrollment)]
pub fn check_enrollment(templates: Vec<String>) -> Result<String, JsError> {
    console_error_panic_hook::set_once();
    frame_engine::check_enrollment(&templates).map_err(JsError::new)
}

/// A millisecond clock: `performance.now()` where it exists (window, worker, Node), else
/// `Date.now()`. `std::time::Instant` panics on wasm32-unknown-unknown.
struct Clock {
    performance: Option<(JsValue, Function)>,
}

impl Clock {
    fn new() -> Self {
        let performance = Reflect::get(&js_sys::global(), &"performance".into())
            .ok()
            .filter(|p| p.is_object())
            .and_then(|p| {
                let now = Reflect::get(&p, &"now".into()).ok()?;
                Some((p, now.dyn_into::<Function>().ok()?))
            });
        Clock { performance }
    }

    fn now(&self) -> f64 {
        self.performance
            .as_ref()
            .and_then(|(p, now)| now.call0(p).ok()?.as_f64())
            .unwrap_or_else(js_sys::Date::now)
    }
}

/// The loaded face pipeline.
#[wasm_bindgen]
pub struct FaceEngine {
    engine: Engine,
    clock: Clock,
}

#[wasm_bindgen]
impl FaceEngine {
    /// `models` maps manifest names to file bytes (`Uint8Array` or `ArrayBuffer`); each is
    /// checked against the compiled-in sha256. The `tracker` stage's models are required; a later
    /// stage is loaded too when all its models are given. `detectorSize` is the square detector
    /// input side, a multiple of 32 (320 for webcam frames, 640 for photos).
    #[wasm_bindgen(constructor)]
    #[allow(non_snake_case)] // the JS parameter name
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Record<string, Uint8Array | ArrayBuffer>")]
        models: &JsValue,
        detectorSize: u32,
    ) -> Result<FaceEngine, JsError> {
        console_error_panic_hook::set_once();
        let files = model_files(models, ModelStage::Tracker)?;
        let mut engine = Engine::load_tracker(&files, detectorSize as usize)
            .map_err(|e| JsError::new(&e.to_string()))?;
        for stage in [ModelStage::Match, ModelStage::Attributes] {
            let given = stage
                .models()
                .iter()
                .all(|n| Reflect::has(models, &(*n).into()).unwrap_or(false));
            if given {
                let files = model_files(models, stage)?;
                engine
                    .load_stage(stage, &files)
                    .map_err(|e| JsError::new(&e.to_string()))?;
            }
        }
        Ok(FaceEngine {
            engine,
            clock: Clock::new(),
        })
    }

    /// Loads a later stage (`"match"` or `"attributes"`) from `models` (as for the constructor).
    #[wasm_bindgen(js_name = loadStage)]
    pub fn load_stage(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "ModelStage")] stage: &str,
        #[wasm_bindgen(unchecked_param_type = "Record<string, Uint8Array | ArrayBuffer>")]
        models: &JsValue,
    ) -> Result<(), JsError> {
        let stage = parse_stage(stage)?;
        let files = model_files(models, stage)?;
        self.engine
            .load_stage(stage, &files)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Lets the live view follow the face between detector frames (off by default; see
    /// `fio_vision::frame_engine::Engine::set_tracking`).
    #[wasm_bindgen(js_name = setTracking)]
    pub fn set_tracking(&mut self, on: bool) {
        self.engine.set_tracking(on);
    }

    /// Whether `stage`'s models are loaded.
    #[wasm_bindgen(js_name = hasStage)]
    pub fn has_stage(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ModelStage")] stage: &str,
    ) -> Result<bool, JsError> {
        Ok(self.engine.has(parse_stage(stage)?))
    }

    /// Analyses the next RGBA video frame (`ImageData.data`). With `full == false` (video rate)
    /// the face is detected (or, with tracking on, followed from the previous frame's mesh) and
    /// guidance and cues derived; with `full == true` the detector runs and the largest face is
    /// also embedded, scored for liveness and age/gender, and returned as `main`.
    #[wasm_bindgen(unchecked_return_type = "Analysis")]
    pub fn analyze(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | Uint8ClampedArray")] rgba: &[u8],
        width: u32,
        height: u32,
        full: bool,
    ) -> Result<JsValue, JsError> {
        let frame = Frame::from_rgba(width as usize, height as usize, rgba)
            .map_err(|e| JsError::new(&e.to_string()))?;
        let clock = &self.clock;
        let analysis = self
            .engine
            .analyze(&frame, full, &|| clock.now())
            .map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&analysis)
    }
}

fn parse_stage(name: &str) -> Result<ModelStage, JsError> {
    ModelStage::from_name(name).ok_or_else(|| {
        JsError::new(&format!(
            "unknown model stage {name:?} (tracker, match, attributes)"
        ))
    })
}

/// The bytes of `stage`'s models out of a JS object keyed by manifest name.
fn model_files(models: &JsValue, stage: ModelStage) -> Result<ModelFiles, JsError> {
    if !models.is_object() {
        return Err(JsError::new(
            "models must be an object mapping model names to Uint8Array",
        ));
    }
    let mut files = ModelFiles::default();
    for &name in stage.models() {
        let value = Reflect::get(models, &name.into()).unwrap_or(JsValue::UNDEFINED);
        let bytes = if let Some(a) = value.dyn_ref::<Uint8Array>() {
            a.to_vec()
        } else if let Some(b) = value.dyn_ref::<js_sys::ArrayBuffer>() {
            Uint8Array::new(b).to_vec()
        } else if value.is_undefined() || value.is_null() {
            return Err(JsError::new(&format!("model {name} is missing")));
        } else {
            return Err(JsError::new(&format!(
                "model {name} must be a Uint8Array or ArrayBuffer"
            )));
        };
        files.insert(name, bytes);
    }
    Ok(files)
}

/// One ceremony's capture schedule (`fio_core::capture_schedule`): which frames are fully
/// analysed, which are samples, when capture ends; then the prompts' cadence.
#[wasm_bindgen]
pub struct CaptureSchedule {
    schedule: fio_core::CaptureSchedule,
}

#[wasm_bindgen]
impl CaptureSchedule {
    /// `ceremony` is "enroll" | "authenticate", `mode` the app's `livenessMode`; passive mode
    /// waits `blinkWaitMs` for a blink; `ignoreObscured` is the app's `ignoreObscuredFaces`.
    #[wasm_bindgen(constructor)]
    #[allow(non_snake_case)] // the JS parameter names
    pub fn new(
        ceremony: JsValue,
        mode: JsValue,
        blinkWaitMs: f64,
        ignoreObscured: bool,
    ) -> Result<CaptureSchedule, JsError> {
        console_error_panic_hook::set_once();
        Ok(CaptureSchedule {
            schedule: fio_core::CaptureSchedule::new(
                from_js(ceremony, "ceremony")?,
                from_js(mode, "livenessMode")?,
                blinkWaitMs,
                ignoreObscured,
            ),
        })
    }

    /// Whether the frame captured at `tMs` gets the full analysis (call once per frame).
    #[allow(non_snake_case)] // the JS parameter name
    pub fn full(&mut self, tMs: f64) -> bool {
        self.schedule.full(tMs)
    }

    /// Takes in one analysed frame; returns the step (`sample`, `done`, ...).
    #[wasm_bindgen(unchecked_return_type = "CaptureStep")]
    pub fn record(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "CapturedFrame")] frame: JsValue,
    ) -> Result<JsValue, JsError> {
        let frame: fio_core::CapturedFrame = from_js(frame, "frame")?;
        to_js(&self.schedule.record(&frame))
    }

    /// The prompts begin: full analyses follow their cadence from now on.
    #[wasm_bindgen(js_name = startPrompts)]
    pub fn start_prompts(&mut self) {
        self.schedule.start_prompts();
    }
}

/// One ceremony's liveness state (fio-core's `liveness::Session`): the widget pushes every
/// analysed frame's `cues`, starts the prompted challenge after capture and reads the outcome.
#[wasm_bindgen]
pub struct LivenessSession {
    session: Session,
    evidence: EvidenceSlots,
}

fn from_js<T: serde::de::DeserializeOwned>(v: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(v).map_err(|e| JsError::new(&format!("{what}: {e}")))
}

#[wasm_bindgen]
impl LivenessSession {
    /// `mode` is the app's `livenessMode` ("off" | "passive" | "active"); `actions` the
    /// challenge's `policy.actions`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        mode: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string[]")] actions: JsValue,
    ) -> Result<LivenessSession, JsError> {
        console_error_panic_hook::set_once();
        let mode: LivenessMode = from_js(mode, "livenessMode")?;
        let actions: Vec<LivenessAction> = if actions.is_undefined() || actions.is_null() {
            Vec::new()
        } else {
            from_js(actions, "actions")?
        };
        Ok(LivenessSession {
            evidence: EvidenceSlots::new(actions.len()),
            session: Session::new(mode, actions),
        })
    }

    /// Adds one analysed frame (`analysis.cues`) and, when fully analysed, its template; returns
    /// `{blinks, ready, progress, keep?}`.
    #[wasm_bindgen(unchecked_return_type = "LivenessStep")]
    pub fn push(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "FrameCues")] cues: JsValue,
        template: Option<String>,
    ) -> Result<JsValue, JsError> {
        let cues: FrameCues = from_js(cues, "cues")?;
        to_js(&self.session.push(cues, template.as_deref()))
    }

    /// Passive mode: how long (ms) the capture waits for a blink (`Thresholds::blink_wait_ms`).
    #[wasm_bindgen(js_name = blinkWaitMs)]
    pub fn blink_wait_ms(&self) -> f64 {
        self.session.thresholds().blink_wait_ms
    }

    /// Starts the prompted actions from the resting pose seen so far; `null` when there is
    /// nothing to prompt or too few frames with a face.
    #[wasm_bindgen(js_name = startChallenge, unchecked_return_type = "LivenessProgress | null")]
    pub fn start_challenge(&mut self) -> Result<JsValue, JsError> {
        to_js(&self.session.start_challenge())
    }

    /// The resting face width (fraction of the frame width) the evidence crops are scaled to;
    /// `undefined` until the challenge started.
    #[wasm_bindgen(js_name = restFaceWidth)]
    pub fn rest_face_width(&self) -> Option<f32> {
        self.session.rest_face_width()
    }

    /// Edge re-verification: keeps the evidence crop of this RGBA frame (the one just analysed
    /// and pushed) for the slots its step returned in `keep`. `bbox` is the largest face's box
    /// (`analysis.faces[0].bbox`); the crop is centred on it and scaled to the resting face
    /// width. Does nothing without slots; throws before the challenge started.
    #[wasm_bindgen(js_name = keepEvidence)]
    pub fn keep_evidence(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | Uint8ClampedArray")] rgba: &[u8],
        width: u32,
        height: u32,
        #[wasm_bindgen(unchecked_param_type = "[number, number, number, number]")] bbox: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number[]")] slots: JsValue,
    ) -> Result<(), JsError> {
        let slots: Vec<usize> = from_js(slots, "slots")?;
        if slots.is_empty() {
            return Ok(());
        }
        let bbox: [f32; 4] = from_js(bbox, "bbox")?;
        let rest = self
            .session
            .rest_face_width()
            .ok_or_else(|| JsError::new("evidence before the challenge started"))?;
        let frame = Frame::from_rgba(width as usize, height as usize, rgba)
            .map_err(|e| JsError::new(&e.to_string()))?;
        self.evidence
            .keep(&frame, bbox, rest, &slots)
            .map_err(|e| JsError::new(&e))
    }

    /// The evidence crop bundle (fio-core's `CropBundle` bytes: rest, then one crop per prompted
    /// action), or `null` while a slot is still empty.
    #[wasm_bindgen(js_name = evidenceBundle, unchecked_return_type = "Uint8Array | null")]
    pub fn evidence_bundle(&self) -> JsValue {
        match self.evidence.bundle() {
            Some(bytes) => Uint8Array::from(bytes.as_slice()).into(),
            None => JsValue::NULL,
        }
    }

    /// `{report, verdict, error}`: the report sent to the edge, the shared decision, and the
    /// FACEIO code name to reject with when not live.
    #[wasm_bindgen(unchecked_return_type = "LivenessOutcome")]
    pub fn outcome(&self) -> Result<JsValue, JsError> {
        to_js(&self.session.outcome())
    }
}
