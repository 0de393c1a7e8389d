//! The widget's capture schedule: which video frames get the full analysis (template, passive
//! score), which of them count as enrollment / authentication samples, and when capture is over.
//!
//! The browser's engine worker drives it through `fio-wasm` and the liveness bench drives it
//! natively, so the bench replays the schedule that ships. Times are the frames' capture times
//! in milliseconds on any monotonic clock.

use serde::{Deserialize, Serialize};

use crate::challenge::Ceremony;
use crate::decision::Guidance;
use crate::protocol::LivenessMode;

/// Enrollment waits for this many good, fully analysed frames...
pub const ENROLL_SAMPLES: usize = 4;
/// ...spanning at least this long (ms), so the templates are not one instant.
pub const ENROLL_SPAN_MS: f64 = 1_800.0;
/// Authentication needs fewer samples...
pub const AUTH_SAMPLES: usize = 2;
/// ...over a shorter span (ms).
pub const AUTH_SPAN_MS: f64 = 300.0;
/// Minimum time (ms) between two full analyses while sampling: a full analysis takes several
/// video frames, and the live view in between keeps the eyelids tracked.
pub const SAMPLE_GAP_MS: f64 = 350.0;
/// Passive mode: once the samples are in and no blink has been seen this long after the first
/// sample, the widget shows the blink cue as a hint. The decision is unchanged (a blink within
/// [`crate::liveness::Thresholds::blink_wait_ms`] is still required, and a picture cannot
/// follow the hint); it is for the live user who simply does not blink: `fio-eval passive-clip`
/// finds the real clips' man refused "no blink" in 21 of 69 windows of 8 s, and a blink a
/// second or two after being asked is what a person does. 3 s leaves room for a natural blink
/// (every 2–10 s at rest) before the widget asks.
pub const BLINK_HINT_AFTER_MS: f64 = 3_000.0;
/// During the prompts one analysed frame in this many is fully analysed (its template keeps the
/// identity continuous); the others are fast, so quick actions are seen.
pub const PROMPT_FULL_EVERY: u32 = 5;

/// What the schedule needs to know about one analysed frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapturedFrame {
    /// Capture time (ms).
    pub t_ms: f64,
    /// The frame got the full analysis (as [`CaptureSchedule::full`] asked).
    pub full: bool,
    /// Confident faces in the frame.
    pub faces: usize,
    /// The engine's guidance for the frame.
    pub guidance: Guidance,
    /// The largest face is obscured (mask, hand, dark glasses).
    pub obscured: bool,
    /// The full analysis produced the main face (template, age, ...).
    pub main: bool,
    /// Blinks the liveness session has seen so far.
    pub blinks: u32,
    /// The liveness session has enough frames with one face to decide.
    pub ready: bool,
}

impl CapturedFrame {
    /// A frame with one steady, unobscured face and a ready liveness session that has seen no
    /// blink; a full analysis of it yields the main face. What a cooperative user produces.
    pub fn steady(t_ms: f64, full: bool) -> Self {
        CapturedFrame {
            t_ms,
            full,
            faces: 1,
            guidance: Guidance::Ok,
            obscured: false,
            main: full,
            blinks: 0,
            ready: true,
        }
    }
}

/// The schedule's answer for one frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureStep {
    /// The guidance to show: the engine's, or `uncoverFace` for an ignored obscured face.
    pub guidance: Guidance,
    /// The frame is ignored as faceless (`ignoreObscuredFaces` and an obscured face).
    pub obscured: bool,
    /// The frame is a sample: keep its main face.
    pub sample: bool,
    /// Samples so far.
    pub samples: usize,
    /// Samples needed.
    pub needed: usize,
    /// Enough samples over a long enough span (the templates are in).
    pub enough: bool,
    /// Capture is over: enough samples, a blink or the blink wait in passive mode, and a
    /// liveness session ready to decide.
    pub done: bool,
    /// Passive mode: still no blink [`BLINK_HINT_AFTER_MS`] after the first sample, so the widget
    /// shows the blink cue.
    pub blink_hint: bool,
}

/// The schedule of one ceremony's capture and, in active mode, its prompts.
#[derive(Clone, Debug)]
pub struct CaptureSchedule {
    needed: usize,
    span_ms: f64,
    mode: LivenessMode,
    blink_wait_ms: f64,
    ignore_obscured: bool,
    first_sample_ms: Option<f64>,
    last_sample_ms: Option<f64>,
    samples: usize,
    guidance_ok: bool,
    prompting: bool,
    prompt_frames: u32,
}

impl CaptureSchedule {
    /// The schedule of a `ceremony` in liveness `mode`; passive mode waits up to `blink_wait_ms`
    /// after the first sample for a blink. With `ignore_obscured` (the app's
    /// `ignoreObscuredFaces`), an obscured face is treated as no face.
    pub fn new(
        ceremony: Ceremony,
        mode: LivenessMode,
        blink_wait_ms: f64,
        ignore_obscured: bool,
    ) -> Self {
        let (needed, span_ms) = match ceremony {
            Ceremony::Enroll => (ENROLL_SAMPLES, ENROLL_SPAN_MS),
            Ceremony::Authenticate => (AUTH_SAMPLES, AUTH_SPAN_MS),
        };
        Self {
            needed,
            span_ms,
            mode,
            blink_wait_ms,
            ignore_obscured,
            first_sample_ms: None,
            last_sample_ms: None,
            samples: 0,
            guidance_ok: false,
            prompting: false,
            prompt_frames: 0,
        }
    }

    /// Samples needed.
    pub fn needed(&self) -> usize {
        self.needed
    }

    fn enough(&self) -> bool {
        match (self.first_sample_ms, self.last_sample_ms) {
            (Some(a), Some(b)) => self.samples >= self.needed && b - a >= self.span_ms,
            _ => false,
        }
    }

    /// Whether the frame captured at `t_ms` gets the full analysis. While capturing: until the
    /// samples are in, when the last frame's guidance was "ok" and [`SAMPLE_GAP_MS`] passed since
    /// the last sample (after that only the fast path runs: a blink next to a long full analysis
    /// cannot be seen). While prompting: every [`PROMPT_FULL_EVERY`]-th frame, from the first.
    /// Call once per analysed frame.
    pub fn full(&mut self, t_ms: f64) -> bool {
        if self.prompting {
            let full = self.prompt_frames.is_multiple_of(PROMPT_FULL_EVERY);
            self.prompt_frames += 1;
            return full;
        }
        !self.enough()
            && self.guidance_ok
            && self
                .last_sample_ms
                .is_none_or(|last| t_ms - last >= SAMPLE_GAP_MS)
    }

    /// Takes in one analysed capture frame.
    pub fn record(&mut self, f: &CapturedFrame) -> CaptureStep {
        let obscured = self.ignore_obscured && f.faces == 1 && f.obscured;
        let guidance = if obscured {
            Guidance::UncoverFace
        } else {
            f.guidance
        };
        self.guidance_ok = guidance == Guidance::Ok;
        let sample = !self.prompting && f.full && f.main && self.guidance_ok && f.faces == 1;
        if sample {
            self.samples += 1;
            self.first_sample_ms.get_or_insert(f.t_ms);
            self.last_sample_ms = Some(f.t_ms);
        }
        let enough = self.enough();
        let passive = self.mode == LivenessMode::Passive;
        // How long passive mode has waited for a blink: since the first sample.
        let waited = |ms: f64| {
            self.first_sample_ms
                .is_some_and(|first| f.t_ms - first >= ms)
        };
        let blink_ok = !passive || f.blinks > 0 || waited(self.blink_wait_ms);
        let done = enough && blink_ok && (f.ready || self.mode == LivenessMode::Off);
        let blink_hint = passive && enough && !done && f.blinks == 0 && waited(BLINK_HINT_AFTER_MS);
        CaptureStep {
            guidance,
            obscured,
            sample,
            samples: self.samples,
            needed: self.needed,
            enough,
            done,
            blink_hint,
        }
    }

    /// Capture is over and the prompts begin: from now on [`CaptureSchedule::full`] follows the
    /// prompt cadence.
    pub fn start_prompts(&mut self) {
        self.prompting = true;
        self.prompt_frames = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(t_ms: f64, full: bool) -> CapturedFrame {
        CapturedFrame::steady(t_ms, full)
    }

    /// Runs `s` on frames every `dt` ms from 0 until done (or `until`); returns the full frames'
    /// times and the time capture ended.
    fn run(s: &mut CaptureSchedule, dt: f64, until: f64, blink_at: f64) -> (Vec<f64>, Option<f64>) {
        let mut fulls = Vec::new();
        let mut t = 0.0;
        while t <= until {
            let full = s.full(t);
            if full {
                fulls.push(t);
            }
            let f = CapturedFrame {
                blinks: u32::from(t >= blink_at),
                ..frame(t, full)
            };
            if s.record(&f).done {
                return (fulls, Some(t));
            }
            t += dt;
        }
        (fulls, None)
    }

    #[test]
    fn enrollment_samples_four_frames_over_the_span_then_stops_full_analyses() {
        let mut s = CaptureSchedule::new(Ceremony::Enroll, LivenessMode::Active, 8000.0, false);
        assert_eq!(s.needed(), ENROLL_SAMPLES);
        // The first frame has no guidance yet: fast. Then every SAMPLE_GAP_MS at 100 ms frames.
        let (fulls, done) = run(&mut s, 100.0, 10_000.0, f64::INFINITY);
        // Four samples span 1200 ms < 1800: sampling goes on until the span is covered.
        assert_eq!(fulls, [100.0, 500.0, 900.0, 1300.0, 1700.0, 2100.0]);
        assert_eq!(done, Some(2100.0));
        assert!(!s.full(3000.0), "no full analysis once the samples are in");
    }

    #[test]
    fn authentication_needs_two_samples_300_ms_apart() {
        let mut s =
            CaptureSchedule::new(Ceremony::Authenticate, LivenessMode::Active, 8000.0, false);
        let (fulls, done) = run(&mut s, 100.0, 10_000.0, f64::INFINITY);
        assert_eq!(fulls, [100.0, 500.0]);
        assert_eq!(done, Some(500.0));
    }

    #[test]
    fn passive_mode_waits_for_a_blink_or_the_blink_wait() {
        let mut s =
            CaptureSchedule::new(Ceremony::Authenticate, LivenessMode::Passive, 3000.0, false);
        let (_, done) = run(&mut s, 100.0, 10_000.0, 1200.0);
        assert_eq!(done, Some(1200.0), "the blink ends capture");
        let mut s =
            CaptureSchedule::new(Ceremony::Authenticate, LivenessMode::Passive, 3000.0, false);
        let (_, done) = run(&mut s, 100.0, 10_000.0, f64::INFINITY);
        assert_eq!(done, Some(3100.0), "3 s after the first sample at 100 ms");
    }

    #[test]
    fn passive_mode_hints_a_blink_after_three_seconds_without_one() {
        let hint_at = |blink_at: f64, mode: LivenessMode| {
            let mut s = CaptureSchedule::new(Ceremony::Authenticate, mode, 8000.0, false);
            let mut first = None;
            for k in 0..100 {
                let t = k as f64 * 100.0;
                let full = s.full(t);
                let step = s.record(&CapturedFrame {
                    blinks: u32::from(t >= blink_at),
                    ..frame(t, full)
                });
                if step.blink_hint {
                    first.get_or_insert(t);
                }
                if step.done {
                    break;
                }
            }
            first
        };
        // First sample at 100 ms: the hint from 3.1 s until a blink ends capture.
        assert_eq!(hint_at(f64::INFINITY, LivenessMode::Passive), Some(3100.0));
        assert_eq!(hint_at(4000.0, LivenessMode::Passive), Some(3100.0));
        assert_eq!(
            hint_at(2000.0, LivenessMode::Passive),
            None,
            "blinked before the hint"
        );
        assert_eq!(hint_at(f64::INFINITY, LivenessMode::Active), None);
    }

    #[test]
    fn capture_waits_for_a_ready_session_unless_liveness_is_off() {
        for (mode, done) in [(LivenessMode::Active, false), (LivenessMode::Off, true)] {
            let mut s = CaptureSchedule::new(Ceremony::Authenticate, mode, 3000.0, false);
            let mut last = None;
            for k in 0..20 {
                let t = k as f64 * 100.0;
                let full = s.full(t);
                last = Some(s.record(&CapturedFrame {
                    ready: false,
                    ..frame(t, full)
                }));
            }
            let last = last.unwrap();
            assert!(last.enough);
            assert_eq!(last.done, done, "{mode:?}");
        }
    }

    #[test]
    fn only_good_single_face_full_frames_are_samples() {
        let mut s = CaptureSchedule::new(Ceremony::Enroll, LivenessMode::Active, 8000.0, false);
        let bad = [
            CapturedFrame {
                faces: 2,
                ..frame(0.0, true)
            },
            CapturedFrame {
                guidance: Guidance::MoveCloser,
                ..frame(0.0, true)
            },
            CapturedFrame {
                main: false,
                ..frame(0.0, true)
            },
            frame(0.0, false),
        ];
        for f in bad {
            assert!(!s.record(&f).sample, "{f:?}");
        }
        assert_eq!(s.record(&frame(0.0, true)).samples, 1);
        // A frame whose guidance was not "ok" is followed by a fast frame.
        s.record(&CapturedFrame {
            guidance: Guidance::HoldStill,
            ..frame(400.0, false)
        });
        assert!(!s.full(500.0));
    }

    #[test]
    fn an_obscured_face_is_ignored_only_when_the_app_asks() {
        let covered = CapturedFrame {
            obscured: true,
            ..frame(0.0, true)
        };
        let mut s = CaptureSchedule::new(Ceremony::Enroll, LivenessMode::Active, 8000.0, true);
        let step = s.record(&covered);
        assert!(step.obscured && !step.sample);
        assert_eq!(step.guidance, Guidance::UncoverFace);
        let mut s = CaptureSchedule::new(Ceremony::Enroll, LivenessMode::Active, 8000.0, false);
        let step = s.record(&covered);
        assert!(!step.obscured && step.sample);
    }

    #[test]
    fn prompts_analyse_every_fifth_frame_fully_from_the_first() {
        let mut s = CaptureSchedule::new(Ceremony::Enroll, LivenessMode::Active, 8000.0, false);
        run(&mut s, 100.0, 10_000.0, f64::INFINITY);
        s.start_prompts();
        let fulls: Vec<u32> = (0..12).filter(|&k| s.full(k as f64)).collect();
        assert_eq!(fulls, [0, 5, 10]);
        assert!(
            !s.record(&frame(0.0, true)).sample,
            "prompt frames are not samples"
        );
    }
}
