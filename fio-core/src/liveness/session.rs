//! One ceremony's liveness state: every analysed frame's cues go in, the active challenge's
//! progress and the final report come out. The widget keeps one next to the engine in its Web
//! Worker; the liveness bench replays recorded cues through the same code.

use serde::Serialize;

use super::action::{ActionTracker, Progress};
use super::cues::{FrameCues, PoseBaseline};
use super::temporal::TemporalStats;
use super::verdict::{decide, LivenessReport, Thresholds, Verdict};
use crate::challenge::LivenessAction;
use crate::protocol::LivenessMode;
use crate::template::Template;

/// Capture frames needed to know the user's resting pose before prompting.
pub const BASELINE_FRAMES: usize = 3;

/// What the widget learns after each frame.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Blinks seen so far (passive mode waits for one).
    pub blinks: u32,
    /// Enough single-face frames for a decision (`Thresholds::min_frames`).
    pub ready: bool,
    /// Active challenge state, once started.
    pub progress: Option<Progress>,
    /// Evidence slot this frame is now the best for (0 = rest, k + 1 = action k): keep its
    /// crop when the app re-verifies at the edge.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<usize>,
}

/// The final summary and decision.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// What is sent to the edge.
    pub report: LivenessReport,
    /// The shared decision on it.
    pub verdict: Verdict,
    /// The FACEIO code name the widget rejects with, when not live.
    pub error: Option<&'static str>,
}

/// Liveness state of one ceremony.
pub struct Session {
    mode: LivenessMode,
    actions: Vec<LivenessAction>,
    th: Thresholds,
    stats: TemporalStats,
    frames: Vec<FrameCues>,
    tracker: Option<ActionTracker>,
    reference: Option<Template>,
}

impl Session {
    /// A session for an app in `mode` whose challenge prompts `actions`.
    pub fn new(mode: LivenessMode, actions: Vec<LivenessAction>) -> Self {
        Self::with_thresholds(mode, actions, Thresholds::DEFAULT)
    }

    /// Like [`Session::new`] with other thresholds (the bench sweeps them).
    pub fn with_thresholds(
        mode: LivenessMode,
        actions: Vec<LivenessAction>,
        th: Thresholds,
    ) -> Self {
        Self {
            mode,
            actions,
            th,
            stats: TemporalStats::new(),
            frames: Vec::new(),
            tracker: None,
            reference: None,
        }
    }

    /// The thresholds this session decides with.
    pub fn thresholds(&self) -> &Thresholds {
        &self.th
    }

    /// Adds a frame; `template` (base64), when the frame was fully analysed, is compared with the
    /// ceremony's first one to prove the same person stays in view.
    pub fn push(&mut self, mut cues: FrameCues, template: Option<&str>) -> Step {
        if let Some(t) = template.and_then(|t| Template::from_base64(t).ok()) {
            match &self.reference {
                Some(r) => cues.similarity = Some(r.similarity(&t)),
                None => self.reference = Some(t),
            }
        }
        self.stats.push(cues);
        let mut keep = Vec::new();
        let progress = match &mut self.tracker {
            Some(tr) => {
                let p = tr.push(&cues);
                keep = tr.take_keep();
                Some(p)
            }
            None => {
                if self.frames.len() < 64 {
                    self.frames.push(cues);
                }
                None
            }
        };
        Step {
            blinks: self.stats.blinks(&self.th),
            ready: self.stats.single_face_frames().count() >= self.th.min_frames as usize,
            progress,
            keep,
        }
    }

    /// Starts the prompted sequence from the resting pose seen so far; `None` = nothing to prompt
    /// (not active mode, no actions) or too few frames with a face yet.
    pub fn start_challenge(&mut self) -> Option<Progress> {
        if self.mode != LivenessMode::Active || self.actions.is_empty() {
            return None;
        }
        // The latest frames are the pose the user holds now.
        let recent = &self.frames[self.frames.len().saturating_sub(12)..];
        let base = PoseBaseline::from_frames(recent, BASELINE_FRAMES)?;
        let tr = ActionTracker::new(self.actions.clone(), base, self.th);
        let p = tr.progress();
        self.tracker = Some(tr);
        Some(p)
    }

    /// Resting face width (fraction of the frame width) once the challenge started: evidence
    /// crops are cut at `EVIDENCE_WINDOW` times this width.
    pub fn rest_face_width(&self) -> Option<f32> {
        self.tracker.as_ref().map(|t| t.base().face_width)
    }

    /// The ceremony's first template (base64), the identity every later frame is compared with.
    pub fn reference_template(&self) -> Option<String> {
        self.reference.as_ref().map(Template::to_base64)
    }

    /// The report and decision for everything pushed so far.
    pub fn outcome(&self) -> Outcome {
        let (performed, failure) = match &self.tracker {
            Some(tr) => (
                tr.performed().to_vec(),
                match tr.progress() {
                    Progress::Failed { failure } => Some(failure),
                    _ => None,
                },
            ),
            None => (Vec::new(), None),
        };
        let report = LivenessReport::from_stats(&self.stats, &performed, failure, &self.th);
        let expected: &[LivenessAction] = if self.mode == LivenessMode::Active {
            &self.actions
        } else {
            &[]
        };
        let verdict = decide(self.mode, &report, expected, &self.th);
        let error = match verdict {
            Verdict::Live => None,
            Verdict::Attack(_) => Some("PAD_ATTACK"),
            Verdict::Timeout => Some("TIMEOUT"),
            Verdict::NoFace => Some("NO_FACES_DETECTED"),
            Verdict::ManyFaces => Some("MANY_FACES"),
        };
        Outcome {
            report,
            verdict,
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Embedding;
    use LivenessAction::*;

    fn cue(t: f64, yaw: f32, ear: f32) -> FrameCues {
        FrameCues {
            t_ms: t,
            faces: 1,
            ear: Some(ear),
            yaw_deg: Some(yaw),
            pitch_deg: Some(0.0),
            face_width: 0.3,
            passive: Some(0.9),
            similarity: None,
            pattern: None,
        }
    }

    fn template(seed: f32) -> String {
        Embedding::new((0..192).map(|i| (i as f32 * seed).sin()).collect())
            .unwrap()
            .to_template()
            .to_base64()
    }

    #[test]
    fn passive_session_needs_a_blink() {
        let mut s = Session::new(LivenessMode::Passive, vec![]);
        for i in 0..10 {
            let st = s.push(cue(i as f64 * 100.0, 0.0, 0.3), None);
            assert_eq!(st.blinks, 0);
            assert_eq!(st.progress, None);
            assert_eq!(st.ready, i + 1 >= 6);
        }
        assert_eq!(s.start_challenge(), None);
        assert_eq!(s.outcome().error, Some("PAD_ATTACK"));
        s.push(cue(1000.0, 0.0, 0.1), None);
        assert_eq!(s.push(cue(1100.0, 0.0, 0.3), None).blinks, 1);
        let o = s.outcome();
        assert_eq!(o.verdict, Verdict::Live);
        assert_eq!(o.report.blinks, 1);
        assert!((o.report.passive.unwrap() - 0.9).abs() < 1e-5);
    }

    #[test]
    fn active_session_runs_the_challenge_and_checks_identity() {
        let mut s = Session::new(LivenessMode::Active, vec![TurnRight]);
        assert_eq!(s.start_challenge(), None, "no frames yet");
        let me = template(0.37);
        for i in 0..6 {
            s.push(cue(i as f64 * 100.0, 0.0, 0.3), Some(&me));
        }
        s.push(cue(600.0, 0.0, 0.1), None);
        assert!(matches!(
            s.start_challenge(),
            Some(Progress::Prompt {
                action: TurnRight,
                ..
            })
        ));
        let mut last = None;
        for (i, yaw) in [0.0, -20.0, -22.0].into_iter().enumerate() {
            last = s
                .push(cue(700.0 + i as f64 * 100.0, yaw, 0.3), None)
                .progress;
        }
        assert_eq!(last, Some(Progress::Passed));
        let o = s.outcome();
        assert_eq!(o.verdict, Verdict::Live, "{o:?}");
        assert_eq!(o.report.actions, vec![TurnRight]);
        assert!(o.report.min_similarity.unwrap() > 0.99);

        // Someone else steps in front of the camera mid-way.
        let mut s = Session::new(LivenessMode::Active, vec![Blink, TurnLeft]);
        for i in 0..4 {
            s.push(cue(i as f64 * 100.0, 0.0, 0.3), Some(&me));
        }
        s.start_challenge().unwrap();
        let st = s.push(cue(500.0, 0.0, 0.3), Some(&template(1.91)));
        assert!(matches!(st.progress, Some(Progress::Failed { .. })));
        assert_eq!(s.outcome().error, Some("PAD_ATTACK"));
    }

    #[test]
    fn off_mode_is_live_and_never_prompts() {
        let mut s = Session::new(LivenessMode::Off, vec![Blink]);
        s.push(cue(0.0, 0.0, 0.3), None);
        assert_eq!(s.start_challenge(), None);
        assert_eq!(s.outcome().verdict, Verdict::Live);
    }
}
