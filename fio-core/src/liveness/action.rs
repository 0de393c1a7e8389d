//! The active challenge: prompts the edge's random actions one by one and watches for each.

use serde::{Deserialize, Serialize};

use super::cues::{FrameCues, PoseBaseline};
use super::reverify::{evidence_score, rest_score};
use super::temporal::blink_times;
use super::verdict::Thresholds;
use crate::challenge::LivenessAction;

/// Why a prompted step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum StepFailure {
    /// The action was not performed within the step's time limit.
    TimedOut {
        /// The prompted action.
        action: LivenessAction,
        /// During the step the head showed a different action in full, though never held long
        /// enough to count: a recording playing its own motions, not a user who did not act.
        #[serde(default)]
        strayed: bool,
    },
    /// A different head action was performed: what a recording playing its own motion does.
    WrongAction {
        /// The prompted action.
        expected: LivenessAction,
        /// The action seen instead.
        seen: LivenessAction,
    },
    /// No face for longer than the allowed gap (the user left, or the feed was cut).
    FaceLost,
    /// Several faces for longer than the allowed gap.
    ManyFaces,
    /// A near-frontal frame no longer matches the person who started the ceremony.
    IdentityChanged,
}

/// Where the challenge stands after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum Progress {
    /// Step `step` is prompting `action`; `armed` once the user was seen at rest after the prompt.
    Prompt {
        /// Zero-based step index.
        step: usize,
        /// The action to prompt.
        action: LivenessAction,
        /// The action can now be recognised.
        armed: bool,
    },
    /// Every action was performed in order.
    Passed,
    /// The challenge failed.
    Failed {
        /// Why.
        failure: StepFailure,
    },
}

/// Head actions recognisable from pose alone.
pub(crate) const POSE_ACTIONS: [LivenessAction; 4] = [
    LivenessAction::TurnLeft,
    LivenessAction::TurnRight,
    LivenessAction::LookUp,
    LivenessAction::ComeCloser,
];

/// How far past its threshold a frame shows `action` (≥ 1 = performed), relative to `base`.
pub(crate) fn pose_strength(
    action: LivenessAction,
    f: &FrameCues,
    base: &PoseBaseline,
    th: &Thresholds,
) -> f32 {
    let dyaw = f.yaw_deg.unwrap_or(base.yaw_deg) - base.yaw_deg;
    let dpitch = f.pitch_deg.unwrap_or(base.pitch_deg) - base.pitch_deg;
    let scale = f.face_width / base.face_width.max(1e-6);
    match action {
        LivenessAction::TurnLeft => dyaw / th.turn_yaw_deg,
        LivenessAction::TurnRight => -dyaw / th.turn_yaw_deg,
        LivenessAction::LookUp => dpitch / th.look_up_pitch_deg,
        LivenessAction::ComeCloser => (scale - 1.0) / (th.closer_scale - 1.0),
        LivenessAction::Blink => 0.0,
    }
}

/// The pose action a frame shows most clearly, if any reaches its threshold.
fn dominant_pose(f: &FrameCues, base: &PoseBaseline, th: &Thresholds) -> Option<LivenessAction> {
    POSE_ACTIONS
        .iter()
        .map(|&a| (a, pose_strength(a, f, base, th)))
        .filter(|&(_, s)| s >= 1.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(a, _)| a)
}

/// True when the head is back near rest, so a new action can start.
fn at_rest(f: &FrameCues, base: &PoseBaseline, th: &Thresholds) -> bool {
    POSE_ACTIONS
        .iter()
        .all(|&a| pose_strength(a, f, base, th) < th.rest_fraction)
}

/// Whether seeing `seen` while `expected` is prompted counts against the user.
///
/// Leaning in is what people do while turning or blinking, so `ComeCloser` never conflicts; any
/// other head action does. This is what makes a recording fail: it plays its own motions.
fn conflicts(expected: LivenessAction, seen: LivenessAction) -> bool {
    seen != expected && seen != LivenessAction::ComeCloser
}

/// Follows the prompted sequence frame by frame (the widget drives it; the bench replays it).
#[derive(Debug, Clone)]
pub struct ActionTracker {
    actions: Vec<LivenessAction>,
    base: PoseBaseline,
    th: Thresholds,
    step: usize,
    step_start_ms: Option<f64>,
    armed: bool,
    hold: (Option<LivenessAction>, u32),
    strayed: bool,
    ears: Vec<(f64, f32)>,
    last_single_face_ms: Option<f64>,
    many_since_ms: Option<f64>,
    done: Vec<LivenessAction>,
    failure: Option<StepFailure>,
    /// Best evidence score per crop slot (0 = rest, k + 1 = action k).
    best: Vec<Option<f32>>,
    keep: Vec<usize>,
}

impl ActionTracker {
    /// A tracker for `actions`, measuring each against the user's resting pose `base`.
    pub fn new(actions: Vec<LivenessAction>, base: PoseBaseline, th: Thresholds) -> Self {
        let actions_len = actions.len();
        Self {
            actions,
            base,
            th,
            step: 0,
            step_start_ms: None,
            armed: false,
            hold: (None, 0),
            strayed: false,
            ears: Vec::new(),
            last_single_face_ms: None,
            many_since_ms: None,
            done: Vec::new(),
            failure: None,
            best: vec![None; 1 + actions_len],
            keep: Vec::new(),
        }
    }

    /// The evidence slots (0 = rest, k + 1 = action k) the last pushed frame is now the best
    /// frame for: the widget keeps that frame's crop for edge re-verification.
    pub fn take_keep(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.keep)
    }

    fn consider(&mut self, slot: usize, score: Option<f32>) {
        let Some(score) = score.filter(|s| s.is_finite()) else {
            return;
        };
        if self.best[slot].is_none_or(|b| score > b) {
            self.best[slot] = Some(score);
            self.keep.push(slot);
        }
    }

    /// The resting pose every action is measured against.
    pub fn base(&self) -> &PoseBaseline {
        &self.base
    }

    /// Actions performed so far, in order.
    pub fn performed(&self) -> &[LivenessAction] {
        &self.done
    }

    /// The current state without feeding a frame.
    pub fn progress(&self) -> Progress {
        if let Some(failure) = self.failure {
            return Progress::Failed { failure };
        }
        match self.actions.get(self.step) {
            Some(&action) => Progress::Prompt {
                step: self.step,
                action,
                armed: self.armed,
            },
            None => Progress::Passed,
        }
    }

    fn fail(&mut self, failure: StepFailure) -> Progress {
        self.failure = Some(failure);
        self.progress()
    }

    fn next_step(&mut self, t_ms: f64) {
        self.done.push(self.actions[self.step]);
        self.step += 1;
        self.step_start_ms = Some(t_ms);
        self.armed = false;
        self.hold = (None, 0);
        self.strayed = false;
        self.ears.clear();
    }

    /// Feeds one analysed frame; returns the new state. Frames after the end change nothing.
    pub fn push(&mut self, f: &FrameCues) -> Progress {
        self.keep.clear();
        let Progress::Prompt { action, .. } = self.progress() else {
            return self.progress();
        };
        let t = f.t_ms;
        let start = *self.step_start_ms.get_or_insert(t);
        let last_face = *self.last_single_face_ms.get_or_insert(t);
        if !f.has_single_face() {
            if f.faces > 1 {
                let since = *self.many_since_ms.get_or_insert(t);
                if t - since > self.th.max_face_gap_ms {
                    return self.fail(StepFailure::ManyFaces);
                }
            }
            if f.faces == 0 && t - last_face > self.th.max_face_gap_ms {
                return self.fail(StepFailure::FaceLost);
            }
            return self.timeout_check(action, t, start);
        }
        self.last_single_face_ms = Some(t);
        self.many_since_ms = None;
        let near_frontal = f
            .yaw_deg
            .is_some_and(|y| (y - self.base.yaw_deg).abs() <= self.th.identity_max_yaw_deg);
        if near_frontal && f.similarity.is_some_and(|s| s < self.th.min_similarity) {
            return self.fail(StepFailure::IdentityChanged);
        }
        // Frames before arming count too: a feed that never comes back to rest is not waiting.
        self.strayed |= dominant_pose(f, &self.base, &self.th).is_some_and(|seen| {
            conflicts(action, seen) && (self.armed || Some(seen) != self.previous_action())
        });
        if self.step == 0 && at_rest(f, &self.base, &self.th) {
            self.consider(0, rest_score(f, &self.base, &self.th));
        }
        if !self.armed {
            // The previous pose may still be held: wait for rest so this action starts after
            // its prompt (and a held turn cannot satisfy two prompts).
            self.armed = at_rest(f, &self.base, &self.th);
            return self.timeout_check(action, t, start);
        }
        self.consider(
            self.step + 1,
            evidence_score(action, f, &self.base, &self.th),
        );
        if action == LivenessAction::Blink {
            if let Some(ear) = f.ear {
                self.ears.push((t, ear));
            }
            if !blink_times(&self.ears, &self.th).is_empty() {
                self.next_step(t);
                return self.progress();
            }
        }
        // The prompted action wins even when another is stronger (leaning in while turning).
        let target_shown = pose_strength(action, f, &self.base, &self.th) >= 1.0;
        match dominant_pose(f, &self.base, &self.th) {
            _ if target_shown => self.count(action, t, None),
            Some(seen) if conflicts(action, seen) => self.count(seen, t, Some(action)),
            _ => {
                self.hold = (None, 0);
                self.timeout_check(action, t, start)
            }
        }
    }

    /// Counts consecutive frames showing `seen`; `wrong_for` = the prompt it contradicts.
    fn count(
        &mut self,
        seen: LivenessAction,
        t: f64,
        wrong_for: Option<LivenessAction>,
    ) -> Progress {
        let n = if self.hold.0 == Some(seen) {
            self.hold.1 + 1
        } else {
            1
        };
        self.hold = (Some(seen), n);
        if n < self.th.hold_frames {
            let start = self.step_start_ms.unwrap_or(t);
            let action = self.actions[self.step];
            return self.timeout_check(action, t, start);
        }
        match wrong_for {
            None => {
                self.next_step(t);
                self.progress()
            }
            Some(expected) => self.fail(StepFailure::WrongAction { expected, seen }),
        }
    }

    /// The action of the step before this one, still allowed to be held until rest.
    fn previous_action(&self) -> Option<LivenessAction> {
        self.step.checked_sub(1).map(|i| self.actions[i])
    }

    fn timeout_check(&mut self, action: LivenessAction, t: f64, start: f64) -> Progress {
        if t - start > self.th.action_timeout_ms {
            let strayed = self.strayed;
            return self.fail(StepFailure::TimedOut { action, strayed });
        }
        self.progress()
    }
}

#[cfg(test)]
mod tests {
    use super::super::cues::tests::cue;
    use super::*;
    use LivenessAction::*;

    const BASE: PoseBaseline = PoseBaseline {
        yaw_deg: 2.0,
        pitch_deg: -4.0,
        face_width: 0.3,
        ear: 0.3,
    };

    /// Feeds `(yaw, pitch, width, ear)` frames at 10 fps starting at `t0`.
    fn feed(tr: &mut ActionTracker, t0: f64, frames: &[(f32, f32, f32, f32)]) -> Progress {
        let mut p = tr.progress();
        for (i, &(y, pi, w, e)) in frames.iter().enumerate() {
            p = tr.push(&cue(t0 + i as f64 * 100.0, y, pi, w, e));
        }
        p
    }

    const REST: (f32, f32, f32, f32) = (2.0, -4.0, 0.3, 0.3);

    #[test]
    fn follows_a_sequence_in_order() {
        let mut tr =
            ActionTracker::new(vec![TurnLeft, Blink, ComeCloser], BASE, Thresholds::DEFAULT);
        assert_eq!(
            tr.progress(),
            Progress::Prompt {
                step: 0,
                action: TurnLeft,
                armed: false
            }
        );
        // rest, then turn left (positive yaw) held two frames
        let p = feed(
            &mut tr,
            0.0,
            &[
                REST,
                REST,
                (12.0, -4.0, 0.3, 0.3),
                (25.0, -4.0, 0.3, 0.3),
                (28.0, -4.0, 0.3, 0.3),
            ],
        );
        assert_eq!(
            p,
            Progress::Prompt {
                step: 1,
                action: Blink,
                armed: false
            }
        );
        // still turned: not armed; back at rest; blink
        let p = feed(
            &mut tr,
            500.0,
            &[
                (27.0, -4.0, 0.3, 0.3),
                REST,
                REST,
                (2.0, -4.0, 0.3, 0.1),
                REST,
                REST,
            ],
        );
        assert_eq!(
            p,
            Progress::Prompt {
                step: 2,
                action: ComeCloser,
                armed: true
            }
        );
        let p = feed(
            &mut tr,
            1100.0,
            &[
                REST,
                (2.0, -4.0, 0.36, 0.3),
                (2.0, -4.0, 0.40, 0.3),
                (2.0, -4.0, 0.41, 0.3),
            ],
        );
        assert_eq!(p, Progress::Passed);
        assert_eq!(tr.performed(), &[TurnLeft, Blink, ComeCloser]);
        // frames after the end change nothing
        assert_eq!(tr.push(&cue(9e9, 0.0, 0.0, 0.0, 0.0)), Progress::Passed);
    }

    #[test]
    fn keeps_the_clearest_frame_of_each_step_as_evidence() {
        let mut tr = ActionTracker::new(vec![TurnLeft, Blink], BASE, Thresholds::DEFAULT);
        let mut kept = Vec::new();
        let frames = [
            (4.0, -4.0, 0.3, 0.3),  // rest, slightly off
            (2.0, -4.0, 0.3, 0.3),  // rest, exact: better rest crop
            (14.0, -4.0, 0.3, 0.3), // turning
            (25.0, -4.0, 0.3, 0.3), // clearest turn: step done
            REST,
            REST,
            (2.0, -4.0, 0.3, 0.3),
            (2.0, -4.0, 0.3, 0.1), // eyes closed: clearest blink
            REST,
        ];
        for (i, &(y, p, w, e)) in frames.iter().enumerate() {
            tr.push(&cue(i as f64 * 100.0, y, p, w, e));
            kept.push(tr.take_keep());
        }
        assert_eq!(tr.progress(), Progress::Passed);
        assert_eq!(
            kept,
            [
                vec![0],
                vec![0, 1], // armed at rest: also the (weak) first candidate for the turn
                vec![1],
                vec![1],
                vec![],
                vec![2], // armed again: first blink candidate
                vec![],
                vec![2],
                vec![]
            ]
        );
    }

    #[test]
    fn wrong_turn_fails_and_single_frames_are_noise() {
        let mut tr = ActionTracker::new(vec![TurnLeft, LookUp], BASE, Thresholds::DEFAULT);
        // one noisy frame to the right is ignored
        let p = feed(&mut tr, 0.0, &[REST, (-20.0, -4.0, 0.3, 0.3), REST]);
        assert!(matches!(p, Progress::Prompt { step: 0, .. }));
        let p = feed(
            &mut tr,
            300.0,
            &[(-20.0, -4.0, 0.3, 0.3), (-22.0, -4.0, 0.3, 0.3)],
        );
        assert_eq!(
            p,
            Progress::Failed {
                failure: StepFailure::WrongAction {
                    expected: TurnLeft,
                    seen: TurnRight
                }
            }
        );
        assert!(tr.performed().is_empty());
    }

    #[test]
    fn leaning_in_while_turning_is_not_wrong() {
        let mut tr = ActionTracker::new(vec![TurnRight], BASE, Thresholds::DEFAULT);
        let p = feed(
            &mut tr,
            0.0,
            &[
                REST,
                (2.0, -4.0, 0.4, 0.3),
                (2.0, -4.0, 0.4, 0.3),
                (-20.0, -4.0, 0.4, 0.3),
                (-21.0, -4.0, 0.4, 0.3),
            ],
        );
        assert_eq!(p, Progress::Passed);
    }

    #[test]
    fn timeout_face_loss_many_faces_identity() {
        let th = Thresholds::DEFAULT;
        let mut tr = ActionTracker::new(vec![LookUp], BASE, th);
        let still: Vec<_> = (0..=(th.action_timeout_ms / 100.0) as usize + 1)
            .map(|_| REST)
            .collect();
        assert_eq!(
            feed(&mut tr, 0.0, &still),
            Progress::Failed {
                failure: StepFailure::TimedOut {
                    action: LookUp,
                    strayed: false
                }
            }
        );
        // a turn too short to count, then nothing: the feed moved, just not as prompted
        let mut tr = ActionTracker::new(vec![LookUp], BASE, th);
        let mut frames = vec![REST, (20.0, -4.0, 0.3, 0.3)];
        frames.extend(still.iter().copied());
        assert_eq!(
            feed(&mut tr, 0.0, &frames),
            Progress::Failed {
                failure: StepFailure::TimedOut {
                    action: LookUp,
                    strayed: true
                }
            }
        );

        let mut tr = ActionTracker::new(vec![LookUp], BASE, th);
        feed(&mut tr, 0.0, &[REST]);
        let mut gone = FrameCues::default();
        let mut p = tr.progress();
        for i in 1..=20 {
            gone.t_ms = i as f64 * 100.0;
            p = tr.push(&gone);
        }
        assert_eq!(
            p,
            Progress::Failed {
                failure: StepFailure::FaceLost
            }
        );

        let mut tr = ActionTracker::new(vec![LookUp], BASE, th);
        feed(&mut tr, 0.0, &[REST]);
        let mut two = cue(0.0, 2.0, -4.0, 0.3, 0.3);
        two.faces = 2;
        for i in 1..=20 {
            two.t_ms = i as f64 * 100.0;
            p = tr.push(&two);
        }
        assert_eq!(
            p,
            Progress::Failed {
                failure: StepFailure::ManyFaces
            }
        );

        let mut tr = ActionTracker::new(vec![LookUp], BASE, th);
        let mut other = cue(0.0, 2.0, -4.0, 0.3, 0.3);
        other.similarity = Some(0.2);
        assert_eq!(
            tr.push(&other),
            Progress::Failed {
                failure: StepFailure::IdentityChanged
            }
        );
        // a turned face with a low similarity is not evidence of a swap
        let mut tr = ActionTracker::new(vec![LookUp], BASE, th);
        let mut turned = cue(0.0, 40.0, -4.0, 0.3, 0.3);
        turned.similarity = Some(0.2);
        assert!(matches!(tr.push(&turned), Progress::Prompt { .. }));
    }

    #[test]
    fn serde_shapes() {
        let p = Progress::Prompt {
            step: 1,
            action: Blink,
            armed: true,
        };
        assert_eq!(
            serde_json::to_value(p).unwrap(),
            serde_json::json!({"state": "prompt", "step": 1, "action": "blink", "armed": true})
        );
        let f = Progress::Failed {
            failure: StepFailure::WrongAction {
                expected: TurnLeft,
                seen: LookUp,
            },
        };
        assert_eq!(
            serde_json::to_value(f).unwrap(),
            serde_json::json!({"state": "failed", "failure": {"kind": "wrongAction", "expected": "turnLeft", "seen": "lookUp"}})
        );
    }
}
