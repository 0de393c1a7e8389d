//! Edge re-verification (an app security option): the widget sends a few small face crops of
//! the challenge, sealed to the edge for this ceremony; the edge measures them with the same
//! models and checks here that they show the claimed ceremony. Without it the widget's liveness
//! report is a client claim that a modified client can forge.
//!
//! Crop `0` is the user at rest; crop `k + 1` is the clearest frame of prompted action `k`. All
//! crops of a ceremony are cut at one scale (a window [`EVIDENCE_WINDOW`] times the resting face
//! width), so a face that came closer is larger in its crop.

use serde::{Deserialize, Serialize};

use super::action::{pose_strength, POSE_ACTIONS};
use super::cues::{quantile, FrameCues, PoseBaseline};
use super::verdict::{Thresholds, Verdict};
use crate::challenge::{LivenessAction, MAX_ACTIONS};
use crate::template::{Embedding, Template};
use crate::Error;

/// Side of an evidence crop, pixels (RGB).
pub const EVIDENCE_SIDE: usize = 160;
/// Source window side as a multiple of the resting face width.
pub const EVIDENCE_WINDOW: f32 = 2.2;
/// Most crops a bundle may hold: rest plus one per action.
pub const MAX_EVIDENCE_CROPS: usize = 1 + MAX_ACTIONS;
/// First bytes of a crop bundle (format version 1).
pub const BUNDLE_MAGIC: &[u8; 4] = b"FIE1";

/// The sealed crops as sent: ECDH P-256 with the ceremony's edge key, HKDF-SHA256, AES-256-GCM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealedEvidence {
    /// The widget's ephemeral public key, base64 of the 65-byte uncompressed SEC1 point.
    pub epk: String,
    /// AES-GCM nonce, base64 of 12 bytes.
    pub iv: String,
    /// Ciphertext and tag of the crop bundle, base64.
    pub data: String,
}

/// Decoded crops: `side`×`side` packed RGB each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CropBundle {
    /// Crop side in pixels.
    pub side: usize,
    /// Crops in order: rest, then one per prompted action.
    pub crops: Vec<Vec<u8>>,
}

impl CropBundle {
    /// `FIE1`, side (u16 LE), count (u8), then the crops back to back.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(7 + self.crops.iter().map(Vec::len).sum::<usize>());
        out.extend_from_slice(BUNDLE_MAGIC);
        out.extend_from_slice(&(self.side as u16).to_le_bytes());
        out.push(self.crops.len() as u8);
        for c in &self.crops {
            out.extend_from_slice(c);
        }
        out
    }

    /// Parses a bundle; only [`EVIDENCE_SIDE`] crops and at most [`MAX_EVIDENCE_CROPS`].
    pub fn from_bytes(b: &[u8]) -> Result<Self, Error> {
        let bad = |what: &str| Err(Error::BadRequest(format!("evidence bundle: {what}")));
        if b.len() < 7 || &b[..4] != BUNDLE_MAGIC {
            return bad("not an evidence bundle");
        }
        let side = usize::from(u16::from_le_bytes([b[4], b[5]]));
        let count = usize::from(b[6]);
        if side != EVIDENCE_SIDE {
            return bad("unsupported crop size");
        }
        if count == 0 || count > MAX_EVIDENCE_CROPS {
            return bad("wrong number of crops");
        }
        let n = side * side * 3;
        if b.len() != 7 + count * n {
            return bad("length does not match the crop count");
        }
        Ok(Self {
            side,
            crops: b[7..].chunks_exact(n).map(<[u8]>::to_vec).collect(),
        })
    }
}

/// How clearly frame `f` shows `action` against `base`, in the edge's terms: a head action as a
/// fraction of its threshold (1 = the widget's bar), a blink as the eye aspect ratio relative to
/// rest (lower = more closed). `None` without exactly one face.
pub fn evidence_strength(
    action: LivenessAction,
    f: &FrameCues,
    base: &PoseBaseline,
    th: &Thresholds,
) -> Option<f32> {
    if !f.has_single_face() {
        return None;
    }
    match action {
        LivenessAction::Blink => f.ear.map(|e| e / base.ear.max(1e-6)),
        a => Some(pose_strength(a, f, base, th)),
    }
}

/// A crop embedding's similarity to the submitted template(s), as the edge matches: quantised
/// like a template, best of `templates`; `None` for a zero or malformed embedding.
pub fn crop_similarity(embedding: &[f32], templates: &[Template]) -> Option<f32> {
    let probe = Embedding::new(embedding.to_vec()).ok()?.to_template();
    templates
        .iter()
        .map(|t| t.similarity(&probe))
        .reduce(f32::max)
}

/// The cues [`verify_evidence`] judges for one measured crop: its `cues` with the similarity of
/// its face (`embedding`, none when no face was found) to the ceremony's submitted `templates`.
/// The edge and the bench build them with this one function.
pub fn crop_cues(cues: FrameCues, embedding: Option<&[f32]>, templates: &[Template]) -> FrameCues {
    FrameCues {
        similarity: embedding.and_then(|e| crop_similarity(e, templates)),
        ..cues
    }
}

/// The bar an [`evidence_strength`] must pass for `action`: at least this much for a head
/// action, below it for a blink's eye ratio.
pub fn evidence_bar(action: LivenessAction, th: &Thresholds) -> f32 {
    match action {
        LivenessAction::Blink => th.evidence_blink_ratio,
        LivenessAction::ComeCloser => th.evidence_closer_fraction,
        _ => th.evidence_action_fraction,
    }
}

/// Whether an [`evidence_strength`] shows `action` clearly enough for the edge.
pub fn evidence_shown(action: LivenessAction, strength: f32, th: &Thresholds) -> bool {
    if action == LivenessAction::Blink {
        strength < evidence_bar(action, th)
    } else {
        strength >= evidence_bar(action, th)
    }
}

/// The widget's preference among frames for an action's evidence slot (higher = clearer).
pub(crate) fn evidence_score(
    action: LivenessAction,
    f: &FrameCues,
    base: &PoseBaseline,
    th: &Thresholds,
) -> Option<f32> {
    let s = evidence_strength(action, f, base, th)?;
    Some(if action == LivenessAction::Blink {
        1.0 - s
    } else {
        s
    })
}

/// How restful frame `f` is (higher = closer to the resting pose with open eyes). A half-closed
/// eye counts against a frame: a rest crop taken mid-blink would hide the blink crop's closure.
pub fn rest_score(f: &FrameCues, base: &PoseBaseline, th: &Thresholds) -> Option<f32> {
    if !f.has_single_face() {
        return None;
    }
    let pose = POSE_ACTIONS
        .iter()
        .map(|&a| pose_strength(a, f, base, th).abs())
        .fold(0.0, f32::max);
    let closed = f
        .ear
        .map_or(1.0, |e| (1.0 - e / base.ear.max(1e-6)).max(0.0));
    Some(-(pose + closed))
}

/// The edge's decision on the measured crops of a ceremony that prompted `actions`.
///
/// Each crop's cues come from the edge's own models; `similarity` is the crop's embedding against
/// the submitted template(s). The same thresholds as the widget apply, loosened by
/// `evidence_action_fraction` because a crop is a resampled copy of the frame the widget judged.
pub fn verify_evidence(
    crops: &[FrameCues],
    actions: &[LivenessAction],
    th: &Thresholds,
) -> Verdict {
    if crops.len() != 1 + actions.len() {
        return Verdict::Attack("evidence incomplete");
    }
    if crops.iter().any(|c| !c.has_single_face()) {
        return Verdict::Attack("evidence: not one face per crop");
    }
    let rest = &crops[0];
    let base = PoseBaseline {
        yaw_deg: rest.yaw_deg.unwrap_or_default(),
        pitch_deg: rest.pitch_deg.unwrap_or_default(),
        face_width: rest.face_width,
        ear: rest.ear.unwrap_or_default(),
    };
    if rest.similarity.is_none_or(|s| s < th.min_similarity) {
        return Verdict::Attack("evidence: another person");
    }
    for c in crops {
        // The embedding degrades with pose, so only crops near the rest pose are compared; a
        // look-up crop is turned in pitch (the widget's tracker, seeing every frame, uses yaw).
        let near = |v: Option<f32>, rest: f32| {
            v.is_some_and(|v| (v - rest).abs() <= th.identity_max_yaw_deg)
        };
        let frontal = near(c.yaw_deg, base.yaw_deg) && near(c.pitch_deg, base.pitch_deg);
        if frontal && c.similarity.is_some_and(|s| s < th.min_similarity) {
            return Verdict::Attack("evidence: another person");
        }
    }
    let passive: Vec<f32> = crops.iter().filter_map(|c| c.passive).collect();
    let mean = passive.iter().sum::<f32>() / passive.len().max(1) as f32;
    if passive.len() != crops.len() || mean.is_nan() || mean < th.passive_min {
        return Verdict::Attack("evidence: passive score");
    }
    // The crops are resampled about 2:1, yet a screen's moiré survives (bench: screen crops'
    // medians 1.67–2.59, bona fide ≤ 1.35), so the widget's bar applies unchanged.
    let patterns: Vec<f32> = crops.iter().filter_map(|c| c.pattern).collect();
    if quantile(&patterns, 0.5).is_some_and(|p| p > th.pattern_max) {
        return Verdict::Attack("evidence: screen pattern");
    }
    for (&action, c) in actions.iter().zip(&crops[1..]) {
        let shown =
            evidence_strength(action, c, &base, th).is_some_and(|s| evidence_shown(action, s, th));
        if !shown {
            return Verdict::Attack("evidence: action not shown");
        }
    }
    Verdict::Live
}

#[cfg(test)]
mod tests {
    use super::*;
    use LivenessAction::*;

    fn crop(yaw: f32, pitch: f32, width: f32, ear: f32) -> FrameCues {
        FrameCues {
            t_ms: 0.0,
            faces: 1,
            ear: Some(ear),
            yaw_deg: Some(yaw),
            pitch_deg: Some(pitch),
            face_width: width,
            passive: Some(0.9),
            similarity: Some(0.8),
            pattern: None,
        }
    }

    fn ceremony() -> (Vec<FrameCues>, Vec<LivenessAction>) {
        (
            vec![
                crop(1.0, 0.0, 0.45, 0.3),
                crop(15.0, 0.0, 0.45, 0.3),
                crop(1.0, 0.0, 0.45, 0.12),
                crop(1.0, 12.0, 0.45, 0.3),
                crop(1.0, 0.0, 0.58, 0.3),
                crop(-14.0, 0.0, 0.45, 0.3),
            ],
            vec![TurnLeft, Blink, LookUp, ComeCloser, TurnRight],
        )
    }

    #[test]
    fn a_real_ceremony_passes() {
        let (c, a) = ceremony();
        assert_eq!(verify_evidence(&c, &a, &Thresholds::DEFAULT), Verdict::Live);
    }

    #[test]
    fn each_forgery_is_caught() {
        let th = Thresholds::DEFAULT;
        let (c, a) = ceremony();
        assert_eq!(
            verify_evidence(&c[..3], &a, &th),
            Verdict::Attack("evidence incomplete")
        );
        // the same still frame for every crop: no action shows
        let still = vec![c[0]; c.len()];
        assert_eq!(
            verify_evidence(&still, &a, &th),
            Verdict::Attack("evidence: action not shown")
        );
        let mut swapped = c.clone();
        swapped[3].similarity = Some(0.1);
        assert_eq!(
            verify_evidence(&swapped, &a, &th),
            Verdict::Attack("evidence: another person")
        );
        // a turned or tilted crop is not identity-checked (the embedding degrades with pose) …
        let mut turned = c.clone();
        turned[1].yaw_deg = Some(30.0);
        turned[1].similarity = Some(0.1);
        turned[3].pitch_deg = Some(25.0);
        turned[3].similarity = Some(0.1);
        assert_eq!(verify_evidence(&turned, &a, &th), Verdict::Live);
        // … but the rest crop always is
        let mut rest = c.clone();
        rest[0].similarity = None;
        assert_eq!(
            verify_evidence(&rest, &a, &th),
            Verdict::Attack("evidence: another person")
        );
        let mut empty = c.clone();
        empty[2].faces = 0;
        assert_eq!(
            verify_evidence(&empty, &a, &th),
            Verdict::Attack("evidence: not one face per crop")
        );
        let mut screen = c.clone();
        screen.iter_mut().for_each(|x| x.pattern = Some(2.2));
        screen[0].pattern = Some(1.0);
        assert_eq!(
            verify_evidence(&screen, &a, &th),
            Verdict::Attack("evidence: screen pattern")
        );
        screen
            .iter_mut()
            .skip(2)
            .for_each(|x| x.pattern = Some(1.1));
        assert_eq!(
            verify_evidence(&screen, &a, &th),
            Verdict::Live,
            "one patterned crop is not the median"
        );
        let mut flat = c.clone();
        flat.iter_mut().for_each(|x| x.passive = Some(0.1));
        assert_eq!(
            verify_evidence(&flat, &a, &th),
            Verdict::Attack("evidence: passive score")
        );
        // actions in another order than prompted
        let mut order = a.clone();
        order.swap(0, 4);
        assert_eq!(
            verify_evidence(&c, &order, &th),
            Verdict::Attack("evidence: action not shown")
        );
    }

    #[test]
    fn strength_is_in_the_widget_s_units() {
        let th = Thresholds::DEFAULT;
        let base = PoseBaseline {
            yaw_deg: 2.0,
            pitch_deg: 0.0,
            face_width: 0.4,
            ear: 0.2,
        };
        let s = |a, f: &FrameCues| evidence_strength(a, f, &base, &th).unwrap();
        let turned = crop(12.0, 0.0, 0.4, 0.2);
        assert!((s(TurnLeft, &turned) - 1.0).abs() < 1e-5);
        assert!((s(TurnRight, &turned) + 1.0).abs() < 1e-5);
        assert!((s(ComeCloser, &crop(2.0, 0.0, 0.48, 0.2)) - 1.0).abs() < 1e-4);
        let closed = crop(2.0, 0.0, 0.4, 0.1);
        assert!((s(Blink, &closed) - 0.5).abs() < 1e-5);
        assert!(evidence_shown(Blink, 0.5, &th) && !evidence_shown(Blink, 0.96, &th));
        assert!(evidence_shown(TurnLeft, 0.8, &th) && !evidence_shown(TurnLeft, 0.7, &th));
        assert!(evidence_shown(ComeCloser, 0.6, &th));
        // a half-closed eye makes a worse rest frame than an open one at the same pose
        let open = crop(2.0, 0.0, 0.4, 0.2);
        assert!(rest_score(&open, &base, &th) > rest_score(&closed, &base, &th));
        let mut gone = open;
        gone.faces = 0;
        assert_eq!(evidence_strength(Blink, &gone, &base, &th), None);
    }

    #[test]
    fn bundle_round_trip_and_bad_bundles() {
        let side = EVIDENCE_SIDE;
        let b = CropBundle {
            side,
            crops: vec![vec![7; side * side * 3], vec![9; side * side * 3]],
        };
        let bytes = b.to_bytes();
        assert_eq!(CropBundle::from_bytes(&bytes).unwrap(), b);
        assert!(CropBundle::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(CropBundle::from_bytes(b"nope").is_err());
        let mut wrong_side = bytes.clone();
        wrong_side[4] = 8;
        assert!(CropBundle::from_bytes(&wrong_side).is_err());
        let mut zero = bytes[..7].to_vec();
        zero[6] = 0;
        assert!(CropBundle::from_bytes(&zero).is_err());
    }

    #[test]
    fn crop_cues_carry_the_similarity_to_the_submitted_templates() {
        let e: Vec<f32> = (0..192).map(|i| (i as f32 * 0.37).sin()).collect();
        let t = Embedding::new(e.clone()).unwrap().to_template();
        // The crop's own cues carry no similarity; whatever they hold is replaced.
        let cues = crop(1.0, 0.0, 0.4, 0.3);
        let got = crop_cues(cues, Some(&e), std::slice::from_ref(&t));
        assert!(got.similarity.unwrap() > 0.99, "{:?}", got.similarity);
        assert_eq!(
            FrameCues {
                similarity: cues.similarity,
                ..got
            },
            cues
        );
        assert_eq!(crop_cues(cues, None, &[t]).similarity, None);
        assert_eq!(crop_cues(cues, Some(&e), &[]).similarity, None);
    }
}
