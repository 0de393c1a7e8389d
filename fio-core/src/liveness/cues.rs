//! What the vision pipeline measures on each analysed frame, as liveness sees it.

use serde::{Deserialize, Serialize};

/// Liveness-relevant measurements of one analysed frame (un-mirrored camera frame).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FrameCues {
    /// Capture time, milliseconds on any monotonic clock.
    pub t_ms: f64,
    /// Faces detected (above the detection floor).
    pub faces: u32,
    /// Mean eye aspect ratio of both eyes from the face mesh; `None` without a mesh.
    pub ear: Option<f32>,
    /// Head yaw, degrees; positive = turned towards the subject's own left.
    pub yaw_deg: Option<f32>,
    /// Head pitch, degrees; positive = looking up.
    pub pitch_deg: Option<f32>,
    /// Face width as a fraction of the frame width (0 without a face).
    pub face_width: f32,
    /// Passive anti-spoofing score 0..1 when the frame was fully analysed.
    pub passive: Option<f32>,
    /// Cosine similarity of this frame's embedding to the ceremony's reference, when computed.
    pub similarity: Option<f32>,
    /// Periodic-pattern strength on the face's skin (log10 peak-to-ring ratio; see
    /// `fio_vision::pattern`), when the face is large enough to measure.
    pub pattern: Option<f32>,
}

impl FrameCues {
    /// True when exactly one face with a mesh was seen.
    pub fn has_single_face(&self) -> bool {
        self.faces == 1 && self.ear.is_some() && self.yaw_deg.is_some() && self.pitch_deg.is_some()
    }
}

/// The user's resting pose and eye opening, the reference every action is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoseBaseline {
    /// Resting yaw, degrees.
    pub yaw_deg: f32,
    /// Resting pitch, degrees.
    pub pitch_deg: f32,
    /// Resting face width, fraction of the frame width.
    pub face_width: f32,
    /// Open-eye aspect ratio.
    pub ear: f32,
}

fn median(mut xs: Vec<f32>) -> Option<f32> {
    xs.retain(|x| x.is_finite());
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f32::total_cmp);
    let m = xs.len() / 2;
    Some(if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    })
}

/// Value at quantile `q` (0..1, nearest rank) of the finite values.
pub fn quantile(xs: &[f32], q: f32) -> Option<f32> {
    let mut v: Vec<f32> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    let idx = ((v.len() - 1) as f32 * q.clamp(0.0, 1.0)).round() as usize;
    Some(v[idx])
}

impl PoseBaseline {
    /// Medians over the single-face frames; `None` when fewer than `min_frames` qualify.
    ///
    /// The eye opening uses the upper median (70th percentile) so a blink inside the window
    /// does not lower the open-eye reference.
    pub fn from_frames(frames: &[FrameCues], min_frames: usize) -> Option<Self> {
        let ok: Vec<&FrameCues> = frames.iter().filter(|f| f.has_single_face()).collect();
        if ok.len() < min_frames.max(1) {
            return None;
        }
        let ears: Vec<f32> = ok.iter().filter_map(|f| f.ear).collect();
        Some(Self {
            yaw_deg: median(ok.iter().filter_map(|f| f.yaw_deg).collect())?,
            pitch_deg: median(ok.iter().filter_map(|f| f.pitch_deg).collect())?,
            face_width: median(ok.iter().map(|f| f.face_width).collect())?,
            ear: quantile(&ears, 0.7)?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A single-face frame at `t_ms` with the given pose and eye opening.
    pub(crate) fn cue(t_ms: f64, yaw: f32, pitch: f32, width: f32, ear: f32) -> FrameCues {
        FrameCues {
            t_ms,
            faces: 1,
            ear: Some(ear),
            yaw_deg: Some(yaw),
            pitch_deg: Some(pitch),
            face_width: width,
            passive: None,
            similarity: None,
            pattern: None,
        }
    }

    #[test]
    fn baseline_is_robust_to_one_blink_and_needs_frames() {
        let mut frames: Vec<FrameCues> = (0..9)
            .map(|i| cue(i as f64 * 100.0, 2.0 + i as f32 * 0.1, -3.0, 0.3, 0.30))
            .collect();
        frames[4].ear = Some(0.08); // blink
        frames.push(FrameCues::default()); // no face: ignored
        let b = PoseBaseline::from_frames(&frames, 3).unwrap();
        assert!((b.yaw_deg - 2.4).abs() < 1e-5);
        assert_eq!(b.pitch_deg, -3.0);
        assert_eq!(b.ear, 0.30);
        assert!(PoseBaseline::from_frames(&frames[..2], 3).is_none());
        assert!(PoseBaseline::from_frames(&[], 1).is_none());
    }

    #[test]
    fn quantile_ignores_nan() {
        assert_eq!(quantile(&[f32::NAN, 1.0, 3.0, 2.0], 0.0), Some(1.0));
        assert_eq!(quantile(&[f32::NAN, 1.0, 3.0, 2.0], 1.0), Some(3.0));
        assert_eq!(quantile(&[f32::NAN], 0.5), None);
        let f = FrameCues {
            faces: 1,
            ..FrameCues::default()
        };
        assert!(!f.has_single_face());
    }
}
