//! Cues gathered over the whole ceremony: blinks, head motion, passive scores, identity.

use super::cues::{quantile, FrameCues};
use super::verdict::Thresholds;

/// Frames kept for the ceremony summary; a ceremony at ~10 analysed frames/s lasts well under
/// a minute, and the cap bounds memory if a caller never stops pushing.
const MAX_FRAMES: usize = 2_000;

/// Times (ms) of the blinks in an `(t_ms, ear)` series.
///
/// A blink is a dip: the eye aspect ratio falls below `closed_ratio` × the open-eye level seen
/// on *both* sides within `window_ms`. Comparing with both neighbours, not with a global
/// reference, keeps slow changes out: turning the head or tilting a photo changes the eye aspect
/// ratio over seconds, a blink closes and reopens within ~100–400 ms.
pub fn blink_times(series: &[(f64, f32)], th: &Thresholds) -> Vec<f64> {
    let w = th.blink_window_ms;
    let mut out: Vec<f64> = Vec::new();
    for (i, &(t, e)) in series.iter().enumerate() {
        if !e.is_finite() {
            continue;
        }
        let left = series[..i]
            .iter()
            .rev()
            .take_while(|(tj, _)| t - tj <= w)
            .map(|&(_, ej)| ej)
            .fold(f32::NAN, f32::max);
        let right = series[i + 1..]
            .iter()
            .take_while(|(tj, _)| tj - t <= w)
            .map(|&(_, ej)| ej)
            .fold(f32::NAN, f32::max);
        if !(left.is_finite() && right.is_finite()) {
            continue;
        }
        if e < th.blink_closed_ratio * left.min(right) {
            // Consecutive closed frames are one blink.
            if out.last().is_none_or(|&last| t - last > w) {
                out.push(t);
            } else if let Some(last) = out.last_mut() {
                *last = t;
            }
        }
    }
    out
}

/// Running summary of every analysed frame of a ceremony.
#[derive(Debug, Clone, Default)]
pub struct TemporalStats {
    frames: Vec<FrameCues>,
    dropped: u32,
}

/// Spread (95th − 5th percentile) of the finite values; 0 when there are none.
fn spread(xs: &[f32]) -> f32 {
    match (quantile(xs, 0.95), quantile(xs, 0.05)) {
        (Some(hi), Some(lo)) => hi - lo,
        _ => 0.0,
    }
}

impl TemporalStats {
    /// An empty summary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one analysed frame.
    pub fn push(&mut self, f: FrameCues) {
        if self.frames.len() < MAX_FRAMES {
            self.frames.push(f);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// Frames pushed (including any beyond the cap).
    pub fn len(&self) -> usize {
        self.frames.len() + self.dropped as usize
    }

    /// True before the first frame.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The single-face frames so far.
    pub fn single_face_frames(&self) -> impl Iterator<Item = &FrameCues> {
        self.frames.iter().filter(|f| f.has_single_face())
    }

    /// Blinks seen so far.
    pub fn blinks(&self, th: &Thresholds) -> u32 {
        let series: Vec<(f64, f32)> = self
            .single_face_frames()
            .filter_map(|f| Some((f.t_ms, f.ear?)))
            .collect();
        blink_times(&series, th).len() as u32
    }

    /// Mean passive score over the frames that have one.
    pub fn passive_mean(&self) -> Option<f32> {
        let s: Vec<f32> = self
            .frames
            .iter()
            .filter_map(|f| f.passive)
            .filter(|p| p.is_finite())
            .collect();
        (!s.is_empty()).then(|| s.iter().sum::<f32>() / s.len() as f32)
    }

    /// Median periodic-pattern score over the single-face frames that have one: a screen's
    /// moiré is there on most frames, a stray texture peak on a few.
    pub fn pattern_median(&self) -> Option<f32> {
        let s: Vec<f32> = self
            .single_face_frames()
            .filter_map(|f| f.pattern)
            .collect();
        super::cues::quantile(&s, 0.5)
    }

    /// Lowest identity similarity over near-frontal frames (turned faces embed poorly).
    pub fn min_similarity(&self, th: &Thresholds) -> Option<f32> {
        self.single_face_frames()
            .filter(|f| {
                f.yaw_deg
                    .is_some_and(|y| y.abs() <= th.identity_max_yaw_deg)
            })
            .filter_map(|f| f.similarity)
            .filter(|s| s.is_finite())
            .reduce(f32::min)
    }

    /// Spread of yaw and pitch (degrees), the head's own motion.
    pub fn pose_spread(&self) -> (f32, f32) {
        let yaw: Vec<f32> = self
            .single_face_frames()
            .filter_map(|f| f.yaw_deg)
            .collect();
        let pitch: Vec<f32> = self
            .single_face_frames()
            .filter_map(|f| f.pitch_deg)
            .collect();
        (spread(&yaw), spread(&pitch))
    }

    /// Milliseconds from the first to the last frame.
    pub fn duration_ms(&self) -> f64 {
        match (self.frames.first(), self.frames.last()) {
            (Some(a), Some(b)) => (b.t_ms - a.t_ms).max(0.0),
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::cues::tests::cue;
    use super::*;

    fn series(ears: &[f32]) -> Vec<(f64, f32)> {
        ears.iter()
            .enumerate()
            .map(|(i, &e)| (i as f64 * 100.0, e))
            .collect()
    }

    #[test]
    fn blink_is_a_dip_on_both_sides() {
        let th = Thresholds::DEFAULT;
        // 10 fps, open 0.30, one two-frame blink.
        let s = series(&[0.30, 0.31, 0.29, 0.12, 0.15, 0.30, 0.31, 0.30]);
        assert_eq!(blink_times(&s, &th), vec![400.0]);
        // Eyes closing for good is not a blink (no reopening).
        assert!(blink_times(&series(&[0.3, 0.3, 0.3, 0.1, 0.1, 0.1, 0.1]), &th).is_empty());
        // A slow fall from turning the head is not a blink.
        let slow: Vec<f32> = (0..30).map(|i| 0.32 - i as f32 * 0.006).collect();
        assert!(blink_times(&series(&slow), &th).is_empty());
        // Sensor noise of a still photo is not a blink.
        let noise: Vec<f32> = (0..40)
            .map(|i| 0.30 + if i % 2 == 0 { 0.01 } else { -0.01 })
            .collect();
        assert!(blink_times(&series(&noise), &th).is_empty());
        // Two blinks a second apart count twice; NaN frames are skipped.
        let two = series(&[
            0.3,
            0.3,
            0.1,
            0.3,
            f32::NAN,
            0.3,
            0.3,
            0.3,
            0.3,
            0.3,
            0.3,
            0.3,
            0.1,
            0.3,
            0.3,
        ]);
        assert_eq!(blink_times(&two, &th), vec![200.0, 1200.0]);
    }

    #[test]
    fn stats_summarise_frames() {
        let th = Thresholds::DEFAULT;
        let mut st = TemporalStats::new();
        assert!(st.is_empty());
        assert_eq!(st.passive_mean(), None);
        for i in 0..20 {
            let mut f = cue(i as f64 * 100.0, i as f32, 0.0, 0.3, 0.3);
            if i == 10 {
                f.ear = Some(0.1);
            }
            f.passive = (i % 5 == 0).then_some(0.8);
            f.similarity = Some(if i == 19 { 0.1 } else { 0.9 });
            // Two texture spikes among steady skin: the median ignores them.
            f.pattern = Some(if i % 9 == 0 {
                2.5
            } else {
                1.0 + i as f32 * 0.01
            });
            if i == 19 {
                f.yaw_deg = Some(30.0);
            }
            st.push(f);
        }
        st.push(FrameCues {
            t_ms: 2_000.0,
            ..FrameCues::default()
        });
        assert_eq!(st.len(), 21);
        assert_eq!(st.blinks(&th), 1);
        assert_eq!(st.passive_mean(), Some(0.8));
        let p = st.pattern_median().unwrap();
        assert!((1.05..1.15).contains(&p), "{p}");
        // Frame 19 is turned past the identity limit, so its low similarity is ignored.
        assert_eq!(st.min_similarity(&th), Some(0.9));
        let (yaw, pitch) = st.pose_spread();
        assert!(yaw > 15.0 && pitch == 0.0);
        assert_eq!(st.duration_ms(), 2_000.0);
    }
}
