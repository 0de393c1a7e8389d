//! Rows (d) and (e) of `fio-eval liveness-eval`: the evidence crops a client sends for edge
//! re-verification (the widget's own, or a tampered client's picks from an attack video), and how
//! the table counts and prints what the edge decided on them.

use fio_core::liveness::{
    evidence_bar, evidence_shown, evidence_strength, rest_score, FrameCues, PoseBaseline, Session,
    Thresholds, Verdict, BASELINE_FRAMES,
};
use fio_core::protocol::LivenessMode;
use fio_core::LivenessAction;

use super::{Table, BONA_FIDE};
use crate::evidence_crops::EvidenceJob;
use crate::replay::{action_name, ActiveRun, Sample};

/// Row (d): a ceremony whose evidence crops the edge re-verifies.
pub const EVIDENCE_ROW: &str = "(d) active + edge re-verification";

/// Row (e): a tampered client that picks each evidence frame from the whole attack video.
pub const PICKING_ROW: &str = "(e) tampered client, frames picked from the whole video";

impl EvidenceJob {
    /// The evidence of a ceremony the widget ran; `None` when a slot kept no frame.
    pub(super) fn from_run(who: &str, actions: &[LivenessAction], run: &ActiveRun) -> Option<Self> {
        Some(Self {
            row: EVIDENCE_ROW,
            who: who.to_string(),
            actions: actions.to_vec(),
            frames: run.kept.iter().copied().collect::<Option<Vec<_>>>()?,
            rest_width: run.rest_face_width?,
            reference: run.reference.clone()?,
        })
    }
}

/// A tampered client on an attack feed: it skips the widget's decision, claims every action and
/// sends the frames that look most like each slot: the most restful capture frame, and for
/// prompt `k` the frame of its answer window (`windows[k]`) that shows action `k` best.
pub(super) fn tampered_job(
    who: &str,
    actions: &[LivenessAction],
    capture: &[Sample],
    windows: &[Vec<Sample>],
    th: &Thresholds,
) -> Option<EvidenceJob> {
    let mut s = Session::with_thresholds(LivenessMode::Active, actions.to_vec(), *th);
    for x in capture {
        s.push(x.cues, x.template.as_deref());
    }
    s.start_challenge()?;
    let cues: Vec<FrameCues> = capture.iter().map(|x| x.cues).collect();
    let base = PoseBaseline::from_frames(&cues[cues.len().saturating_sub(12)..], BASELINE_FRAMES)?;
    let rest = capture
        .iter()
        .filter_map(|x| Some((x, rest_score(&x.cues, &base, th)?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?
        .0;
    let mut frames = vec![rest.src?];
    for (action, window) in actions.iter().zip(windows) {
        // Higher is clearer, except a blink's eye ratio.
        let score = |x: &Sample| {
            evidence_strength(*action, &x.cues, &base, th).map(|v| {
                if *action == LivenessAction::Blink {
                    -v
                } else {
                    v
                }
            })
        };
        let best = window
            .iter()
            .filter(|x| score(x).is_some())
            .max_by(|a, b| score(a).unwrap_or(0.0).total_cmp(&score(b).unwrap_or(0.0)))
            .or(window.first())?;
        frames.push(best.src?);
    }
    Some(EvidenceJob {
        row: EVIDENCE_ROW,
        who: who.to_string(),
        actions: actions.to_vec(),
        frames,
        rest_width: s.rest_face_width()?,
        reference: s.reference_template()?,
    })
}

impl Table {
    /// Counts one re-verified ceremony of row (d): `crops` are the edge's measurements (with
    /// similarity), `verdict` its decision.
    pub fn add_evidence(
        &mut self,
        job: &EvidenceJob,
        crops: &[FrameCues],
        verdict: Verdict,
        th: &Thresholds,
    ) {
        self.add(job.row, &job.who, verdict == Verdict::Live);
        let patterns: Vec<f32> = crops.iter().filter_map(|c| c.pattern).collect();
        let key = if job.row == EVIDENCE_ROW {
            "(d)"
        } else {
            "(e)"
        };
        self.add_pattern(
            &format!("{} {key} crops", job.who),
            fio_core::liveness::quantile(&patterns, 0.5),
        );
        if job.row != EVIDENCE_ROW {
            if let Verdict::Attack(reason) = verdict {
                self.add_evidence_outcome(&format!("{} (e)", job.who), reason.to_string());
            }
            return;
        }
        let rest = crops.first().filter(|c| c.has_single_face());
        let base = rest.map(|r| PoseBaseline {
            yaw_deg: r.yaw_deg.unwrap_or_default(),
            pitch_deg: r.pitch_deg.unwrap_or_default(),
            face_width: r.face_width,
            ear: r.ear.unwrap_or_default(),
        });
        let mut missing = None;
        for (&action, c) in job.actions.iter().zip(crops.iter().skip(1)) {
            let Some(v) = base.and_then(|b| evidence_strength(action, c, &b, th)) else {
                continue;
            };
            self.evidence_strengths
                .entry(job.who.clone())
                .or_default()
                .entry(action_name(action))
                .or_default()
                .push(v);
            if !evidence_shown(action, v, th) && missing.is_none() {
                missing = Some(action);
            }
        }
        if let Verdict::Attack(reason) = verdict {
            let reason = match missing {
                Some(a) if reason == "evidence: action not shown" => {
                    format!("{reason} ({})", action_name(a))
                }
                _ => reason.to_string(),
            };
            self.add_evidence_outcome(&job.who, reason);
        } else if verdict != Verdict::Live {
            self.add_evidence_outcome(&job.who, format!("{verdict:?}"));
        }
    }

    /// Markdown: how clearly the evidence crops of row (d) show each action.
    pub(super) fn evidence_markdown(&self) -> String {
        if self.evidence_strengths.is_empty() {
            return String::new();
        }
        let mut s = String::from(
            "\n| (d) crop shows the action | needs | bona fide: worst | 5th pct | median | \
             attacks: best | attack crops passing |\n|---|---|---|---|---|---|---|",
        );
        let th = self.th;
        for action in LivenessAction::ALL {
            let blink = action == LivenessAction::Blink;
            // Sorted worst first (for a blink: the highest eye ratio).
            let sorted = |who: &mut dyn Iterator<Item = &Vec<f32>>| {
                let mut v: Vec<f32> = who.flatten().copied().filter(|x| x.is_finite()).collect();
                v.sort_by(f32::total_cmp);
                if blink {
                    v.reverse();
                }
                v
            };
            let bf = sorted(
                &mut self
                    .evidence_strengths
                    .get(BONA_FIDE)
                    .and_then(|m| m.get(&action_name(action)))
                    .into_iter(),
            );
            // Attack crops, best (most convincing) last, with their species.
            let mut at: Vec<(f32, &str)> = self
                .evidence_strengths
                .iter()
                .filter(|(who, _)| *who != BONA_FIDE)
                .flat_map(|(who, m)| {
                    m.get(&action_name(action))
                        .into_iter()
                        .flatten()
                        .map(move |&x| (x, who.as_str()))
                })
                .filter(|x| x.0.is_finite())
                .collect();
            at.sort_by(|a, b| a.0.total_cmp(&b.0));
            if blink {
                at.reverse();
            }
            let at_q = |q: f64, v: &[f32]| {
                v.get(((v.len().saturating_sub(1)) as f64 * q).round() as usize)
                    .map_or("–".to_string(), |x| format!("{x:.2}"))
            };
            let best = at
                .last()
                .map_or("–".to_string(), |(x, who)| format!("{x:.2} ({who})"));
            let passing = at
                .iter()
                .filter(|&&(x, _)| evidence_shown(action, x, &th))
                .count();
            let needs = if blink {
                format!("eye ratio < {}", evidence_bar(action, &th))
            } else {
                format!("≥ {} of threshold", evidence_bar(action, &th))
            };
            s += &format!(
                "\n| {} | {needs} | {} | {} | {} | {} | {passing}/{} |",
                action_name(action),
                at_q(0.0, &bf),
                at_q(0.05, &bf),
                at_q(0.5, &bf),
                best,
                at.len()
            );
        }
        s += "\n\n| (d) rejected by the edge as | count |\n|---|---|";
        for (who, o) in &self.evidence_outcomes {
            for (reason, n) in o {
                s += &format!("\n| {who}: {reason} | {n} |");
            }
        }
        s + "\n"
    }
}
