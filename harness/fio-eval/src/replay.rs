//! Recorded video replayed through the widget's own code: every frame analysed once by the
//! per-frame engine (`fio_vision::frame_engine`), then ceremonies driven frame by frame through the
//! capture schedule (`fio_core::capture_schedule`) and the liveness session
//! (`fio_core::liveness::Session`), as the engine worker does. Prompts are answered with real
//! segments of the clips (`fixtures/segments.json`). Shared by `fio-eval liveness-eval` (the
//! benchmark) and `fio-eval evidence-crops` (fixture crops for the edge specs).

use std::path::{Path, PathBuf};

use fio_cli::CliError;
use fio_core::liveness::{FrameCues, Progress, Session, Step, Thresholds, Verdict};
use fio_core::protocol::LivenessMode;
use fio_core::{CaptureSchedule, CaptureStep, CapturedFrame, Ceremony, Guidance, LivenessAction};
use fio_vision::pipeline::WEBCAM_DETECTOR_SIZE;
use fio_vision::y4m::Y4mReader;
use fio_vision::{Engine, Frame, ModelFiles};
use serde::{Deserialize, Serialize};

/// The ceremony whose capture schedule is replayed: enrollment, the longer capture (4 samples
/// over at least 1.8 s; authentication takes 2 over 0.3 s).
pub(crate) const CEREMONY: Ceremony = Ceremony::Enroll;
/// The widget gives up on a capture that never gets its samples after this long: its hard cap
/// `max(2 × idleTimeout, 60 s)` with the default idleTimeout (27 s).
pub(crate) const GIVE_UP_MS: f64 = 60_000.0;
/// Seconds of footage played before and after an action segment when answering a prompt.
const ANSWER_MARGIN_S: f64 = 0.8;
/// One frame as the widget's engine analyses it in full, with the live view's analysis of it;
/// [`Sample::analysed`] gives the one the capture schedule picks.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sample {
    /// Cues fed to the liveness session (with the passive score when fully analysed).
    pub cues: FrameCues,
    /// Base64 template, on fully analysed frames with a face.
    pub template: Option<String>,
    /// The engine's guidance.
    pub guidance: Guidance,
    /// The largest face is obscured.
    pub obscured: bool,
    /// The same frame in the live view (`None` for a live view's own sample).
    pub live: Option<Box<LiveView>>,
    /// Where the frame comes from, (recording index, frame index): the evidence crops are cut
    /// from that decoded frame. Set after loading ([`Recording::tag`]), not cached.
    #[serde(skip)]
    pub src: Option<(usize, usize)>,
}

/// A frame as the live view analyses it: the face followed from the previous frame's mesh (or
/// re-detected), no template, no passive score.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LiveView {
    /// Cues fed to the liveness session (`t_ms` is the sample's).
    pub cues: FrameCues,
    /// The engine's guidance.
    pub guidance: Guidance,
    /// The largest face is obscured.
    pub obscured: bool,
    /// The face was followed, not detected.
    pub tracked: bool,
}

impl Sample {
    /// The frame as the widget saw it: fully analysed, or by the live view, tracked (`tracking`)
    /// or detected (the full analysis minus the passive score and template).
    pub fn analysed(&self, full: bool, tracking: bool) -> Sample {
        let mut s = Sample {
            live: None,
            ..self.clone()
        };
        if full {
            return s;
        }
        if let Some(live) = self.live.as_ref().filter(|_| tracking) {
            // The sample's time is the one a replay re-times; the live view's copy is not.
            s.cues = FrameCues {
                t_ms: self.cues.t_ms,
                ..live.cues
            };
            s.guidance = live.guidance;
            s.obscured = live.obscured;
        }
        s.cues.passive = None;
        s.template = None;
        s
    }
}

/// One ceremony's state in the widget's engine worker: the capture schedule picks fast or full
/// analysis for each frame, the liveness session takes its cues.
pub(crate) struct Widget {
    /// The liveness session the cues go to.
    pub session: Session,
    /// Which frames get the full analysis, when capture ends.
    pub schedule: CaptureSchedule,
    /// The live view tracks ([`Sample::analysed`]).
    pub tracking: bool,
}

impl Widget {
    /// A ceremony in `mode` with the challenge `actions`.
    pub fn new(mode: LivenessMode, actions: &[LivenessAction], th: &Thresholds) -> Self {
        Widget {
            session: Session::with_thresholds(mode, actions.to_vec(), *th),
            schedule: CaptureSchedule::new(CEREMONY, mode, th.blink_wait_ms, false),
            tracking: tracking_from_env(),
        }
    }

    /// Analyses `x` as the schedule asks and feeds it to the session: the frame as analysed, the
    /// session's step and the schedule's.
    pub fn push(&mut self, x: &Sample) -> (Sample, Step, CaptureStep) {
        let full = self.schedule.full(x.cues.t_ms);
        let a = x.analysed(full, self.tracking);
        let step = self.session.push(a.cues, a.template.as_deref());
        let cap = self.schedule.record(&CapturedFrame {
            t_ms: a.cues.t_ms,
            full,
            faces: a.cues.faces as usize,
            guidance: a.guidance,
            obscured: a.obscured,
            main: a.template.is_some(),
            blinks: step.blinks,
            ready: step.ready,
        });
        (a, step, cap)
    }
}

/// The frames of one video.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Recording {
    /// File stem.
    pub name: String,
    /// Attack species, `None` for bona fide.
    pub species: Option<String>,
    /// Analysed frames at the video's frame rate.
    pub samples: Vec<Sample>,
    /// The video file (for evidence crops), not cached.
    #[serde(skip)]
    pub video: PathBuf,
}

impl Recording {
    /// Marks every sample with its origin: this recording's index `index` and its frame number.
    pub fn tag(&mut self, index: usize) {
        for (i, s) in self.samples.iter_mut().enumerate() {
            s.src = Some((index, i));
        }
    }
}

/// A real segment that shows one action (from `fixtures/segments.json`).
#[derive(Clone, Debug, Deserialize)]
pub struct Segment {
    /// Clip name (`cap12`, `cap13`).
    pub clip: String,
    /// Action in fio-core's camelCase, or `neutral`.
    pub action: String,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
}

/// `FIO_EVAL_TRACKING=1` replays the live view with tracking on (the engine's off-by-default
/// `set_tracking`), to measure what it would change.
pub fn tracking_from_env() -> bool {
    std::env::var("FIO_EVAL_TRACKING").is_ok_and(|v| v == "1")
}

/// The widget's engine twice over: one analyses every frame in full, the other is the live view
/// with tracking on, which follows the face from frame to frame ([`fio_vision::tracking`]), so
/// each keeps its own track.
pub struct Recorder {
    full: Engine,
    live: Engine,
    next_index: Option<usize>,
}

impl Recorder {
    /// Loads both engines from the model directory.
    pub fn load(models: &Path) -> Result<Self, CliError> {
        let files = ModelFiles::from_dir(models)?;
        let mut live = Engine::load(&files, WEBCAM_DETECTOR_SIZE)?;
        live.set_tracking(true);
        Ok(Recorder {
            full: Engine::load(&files, WEBCAM_DETECTOR_SIZE)?,
            live,
            next_index: None,
        })
    }

    /// Frame number `index` of a video, at `t` ms, analysed in full and by the live view. A gap
    /// since the previous call (frames skipped, another video) restarts the live view's track.
    pub fn sample(&mut self, frame: &Frame, index: usize, t: f64) -> Result<Sample, CliError> {
        if self.next_index != Some(index) {
            self.live.reset_track();
        }
        self.next_index = Some(index + 1);
        let l = self.live.analyze(frame, false, &|| t)?;
        let a = self.full.analyze(frame, true, &|| t)?;
        Ok(Sample {
            cues: FrameCues { t_ms: t, ..a.cues },
            template: a.main.map(|m| m.template),
            guidance: a.guidance,
            obscured: a.obscured,
            live: Some(Box::new(LiveView {
                cues: FrameCues { t_ms: t, ..l.cues },
                guidance: l.guidance,
                obscured: l.obscured,
                tracked: l.tracked,
            })),
            src: None,
        })
    }

    /// Analyses every frame of a y4m video (`fps` from its header) into samples.
    pub fn record(&mut self, path: &Path) -> Result<Vec<Sample>, CliError> {
        let mut reader = Y4mReader::open(path)?;
        let frame_ms = 1000.0 / reader.fps.max(1.0);
        let mut out = Vec::new();
        let mut i = 0usize;
        while let Some(frame) = reader.next_frame()? {
            out.push(self.sample(&frame, i, i as f64 * frame_ms)?);
            i += 1;
        }
        Ok(out)
    }
}

/// What an active ceremony leaves: the widget's verdict and what its evidence would be made of.
pub struct ActiveRun {
    /// The widget's decision.
    pub verdict: Verdict,
    /// Source (recording, frame) of the frame each evidence slot kept (0 = rest, k + 1 = action
    /// k): the last frame `Step::keep` named for that slot.
    pub kept: Vec<Option<(usize, usize)>>,
    /// Resting face width (fraction of the frame width) once the challenge started.
    pub rest_face_width: Option<f32>,
    /// The ceremony's reference template (base64).
    pub reference: Option<String>,
    /// The report's median periodic-pattern score.
    pub pattern: Option<f32>,
    /// The capture's frames as the widget analysed them (before the prompts).
    pub captured: Vec<Sample>,
    /// The capture schedule was done before the capture feed ended.
    pub capture_done: bool,
}

/// Active ceremony: `feed` until the capture schedule is done (a feed that ends first starts
/// the prompts with what it showed; one that never gets the samples is rejected after
/// [`GIVE_UP_MS`]), then each prompt answered by `answer(action, t0, feed)` frames.
pub fn active_ceremony(
    actions: &[LivenessAction],
    feed: &mut dyn Iterator<Item = Sample>,
    mut answer: impl FnMut(LivenessAction, f64, &mut dyn Iterator<Item = Sample>) -> Vec<Sample>,
    th: &Thresholds,
) -> ActiveRun {
    let mut w = Widget::new(LivenessMode::Active, actions, th);
    let mut kept = vec![None; 1 + actions.len()];
    let mut captured = Vec::new();
    let mut capture_done = false;
    let mut t = 0.0;
    let mut t_first = None;
    for x in &mut *feed {
        let t0 = *t_first.get_or_insert(x.cues.t_ms);
        t = x.cues.t_ms;
        if t - t0 > GIVE_UP_MS {
            return ActiveRun {
                verdict: Verdict::NoFace,
                kept,
                rest_face_width: None,
                reference: w.session.reference_template(),
                pattern: w.session.outcome().report.pattern,
                captured,
                capture_done,
            };
        }
        let (a, _, cap) = w.push(&x);
        captured.push(a);
        if cap.done {
            capture_done = true;
            break;
        }
    }
    let s = &mut w.session;
    let Some(mut progress) = s.start_challenge() else {
        return ActiveRun {
            verdict: Verdict::Attack("no resting pose"),
            kept,
            rest_face_width: None,
            reference: s.reference_template(),
            pattern: s.outcome().report.pattern,
            captured,
            capture_done,
        };
    };
    w.schedule.start_prompts();
    let debug = std::env::var_os("FIO_LIVENESS_DEBUG").is_some();
    while let Progress::Prompt { action, .. } = progress {
        let frames = answer(action, t + 100.0, &mut *feed);
        if frames.is_empty() {
            break;
        }
        for x in frames {
            t = x.cues.t_ms;
            let (_, step, _) = w.push(&x);
            for &slot in &step.keep {
                if let Some(k) = kept.get_mut(slot) {
                    *k = x.src;
                }
            }
            progress = step.progress.unwrap_or(progress);
            if !matches!(progress, Progress::Prompt { action: a, .. } if a == action) {
                break;
            }
        }
    }
    let s = &w.session;
    let out = s.outcome();
    if debug {
        eprintln!(
            "active {actions:?}: {:?} failure {:?} performed {:?} blinks {} sim {:?}",
            out.verdict,
            out.report.failure,
            out.report.actions,
            out.report.blinks,
            out.report.min_similarity
        );
    }
    ActiveRun {
        verdict: out.verdict,
        kept,
        rest_face_width: s.rest_face_width(),
        reference: s.reference_template(),
        pattern: out.report.pattern,
        captured,
        capture_done,
    }
}

/// fio-core's name of an action (`turnLeft`), as in the segments file.
pub fn action_name(a: LivenessAction) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Samples of `clip` between two times.
fn slice<'a>(recs: &'a [Recording], clip: &str, start_s: f64, end_s: f64) -> Vec<&'a Sample> {
    recs.iter()
        .filter(|r| r.name == clip)
        .flat_map(|r| r.samples.iter())
        .filter(|s| s.cues.t_ms >= start_s * 1000.0 && s.cues.t_ms <= end_s * 1000.0)
        .collect()
}

/// Frames of one clip's `neutral` rest followed by `seg` and the rest again, re-timed from `t0`:
/// how a person answers a prompt (starts from rest, performs, comes back to rest). The rest
/// frames come from the clip's first neutral segment, as the browser test's responder plays them
/// (the clips' own surroundings of a segment often hold the opposite turn).
pub fn answer_with(
    recs: &[Recording],
    neutral: &[&Segment],
    seg: &Segment,
    t0: f64,
) -> Vec<Sample> {
    let rest = neutral
        .iter()
        .find(|r| r.clip == seg.clip)
        .map(|r| slice(recs, &r.clip, r.start_s, r.start_s + ANSWER_MARGIN_S))
        .unwrap_or_default();
    let action = slice(recs, &seg.clip, seg.start_s, seg.end_s);
    rest.iter()
        .chain(action.iter())
        .chain(rest.iter())
        .enumerate()
        .map(|(i, s)| {
            let mut s = (*s).clone();
            s.cues.t_ms = t0 + i as f64 * 100.0;
            s
        })
        .collect()
}

/// The frames of a neutral segment re-timed to start at 0: a ceremony's capture.
pub fn capture_of(recs: &[Recording], n: &Segment) -> Vec<Sample> {
    let capture: Vec<Sample> = slice(recs, &n.clip, n.start_s, n.end_s)
        .into_iter()
        .cloned()
        .collect();
    let t_base = capture.first().map_or(0.0, |s| s.cues.t_ms);
    capture
        .into_iter()
        .map(|mut s| {
            s.cues.t_ms -= t_base;
            s
        })
        .collect()
}

/// Reads `fixtures/segments.json` (or a bare list of segments), naming the file on errors.
pub fn read_segments(path: &Path) -> Result<Vec<Segment>, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| CliError(format!("{}: not JSON ({e})", path.display())))?;
    let list = v.get("segments").cloned().unwrap_or(v);
    serde_json::from_value(list).map_err(|e| {
        CliError(format!(
            "{}: not a segments file ({e}; expected {{\"segments\": [{{\"clip\", \"action\", \"start_s\", \"end_s\"}}]}} as written by `fio-eval segments --json`)",
            path.display()
        ))
    })
}
