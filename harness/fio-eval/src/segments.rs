//! Finds the time segments of a webcam clip that show each liveness action (blink, head turns,
//! looking up, coming closer) and neutral stretches, from per-frame face-mesh cues.
//!
//! Poses are measured against the clip's own resting pose (medians over the clip: the person
//! rests most of the time), so a camera placed a little off-axis does not count as a turn. Every
//! threshold is below; `fixtures/segments.json` is this module's output on the fixture clips
//! (`fio-eval segments --json`, the command its `generated_by` names).

use std::path::Path;

use fio_cli::mesh::{clip_name, video_cues, FrameCues};
use fio_cli::CliError;
use fio_vision::MeshCues;
use serde::Serialize;
use serde_json::json;

/// Yaw change from rest (degrees) a turn must reach. Below fio-core's prompt threshold (15°)
/// on purpose: the fixture clips' turns peak at 11–20° from rest, and a segment is evidence of
/// what the clip shows, not a decision.
pub const TURN_DEG: f32 = 10.0;
/// Pitch change from rest (degrees, upwards) that counts as looking up.
pub const LOOK_UP_DEG: f32 = 10.0;
/// Face width relative to rest that counts as coming closer (fio-core's `closer_scale`).
pub const CLOSER_SCALE: f32 = 1.2;
/// Consecutive frames an action must stay past its threshold (one frame can be mesh noise).
pub const HOLD_FRAMES: usize = 2;
/// A segment extends to both sides while the excursion stays above this fraction of the
/// threshold, so it holds the whole movement from rest and back.
pub const ONSET_FRACTION: f32 = 0.5;
/// Mean 3-D eye aspect ratio below which the eyes are closed. Measured on the fixture clips at
/// 25 and 10 fps: the four closures seen frame by frame reach 0.095–0.115; open eyes stay at
/// 0.13–0.24 (squinting and frowning included), and the portraits' open eyes are 0.18–0.37.
pub const BLINK_EAR: f32 = 0.125;
/// A closed frame must also be below this fraction of the open level on both sides (the
/// highest value within [`BLINK_WINDOW_S`]): a blink reopens, a squint stays.
pub const BLINK_RATIO: f32 = 0.85;
/// How far either side of a closed frame the open level is looked for, seconds.
pub const BLINK_WINDOW_S: f64 = 0.45;
/// Neutral: pose within this many degrees of rest (yaw and pitch)…
pub const NEUTRAL_POSE_DEG: f32 = 5.0;
/// …face width within this fraction of rest…
pub const NEUTRAL_WIDTH: f32 = 0.1;
/// …mouth closed (no expression or speech)…
pub const NEUTRAL_MOUTH: f32 = 0.1;
/// …for at least this long, seconds.
pub const NEUTRAL_MIN_S: f64 = 2.0;

/// How to read the segments, written into `fixtures/segments.json`.
pub const CONVENTIONS: &str = "Times in seconds from the clip's first frame (frame index / fps). \
Orientation in the un-mirrored camera frame: turnLeft = the subject turns to their own left = nose \
towards the image's right = positive yaw; turnRight the opposite; lookUp = negative pitch (fio-vision \
counts pitch positive downwards). Pose actions are measured from the clip's resting pose (medians, \
under clips[].rest); a segment spans the whole movement (from where the excursion passes half the \
threshold to where it falls back below it), blink segments include the open frame on each side. \
Cue definitions: fio_vision::mesh::MeshCues.";

/// The thresholds, for the report.
pub fn thresholds() -> serde_json::Value {
    json!({
        "turn_deg": TURN_DEG,
        "look_up_deg": LOOK_UP_DEG,
        "closer_scale": CLOSER_SCALE,
        "hold_frames": HOLD_FRAMES,
        "onset_fraction": ONSET_FRACTION,
        "blink_ear": BLINK_EAR,
        "blink_ratio": BLINK_RATIO,
        "blink_window_s": BLINK_WINDOW_S,
        "neutral_pose_deg": NEUTRAL_POSE_DEG,
        "neutral_width": NEUTRAL_WIDTH,
        "neutral_mouth": NEUTRAL_MOUTH,
        "neutral_min_s": NEUTRAL_MIN_S,
    })
}

/// Cues of one frame; `None` unless exactly one face was found.
pub struct Sample {
    /// Frame time, seconds.
    pub time_s: f64,
    /// The face's cues.
    pub cues: Option<MeshCues>,
}

/// One stretch of a clip showing one action.
#[derive(Clone, Debug, Serialize)]
pub struct Segment {
    /// Clip name (file stem, e.g. `cap12`).
    pub clip: String,
    /// fio-core's action name (`blink`, `turnLeft`, `turnRight`, `lookUp`, `comeCloser`) or
    /// `neutral`. Turns are the subject's: `turnLeft` = nose towards the image's right.
    pub action: String,
    /// First frame, seconds.
    pub start_s: f64,
    /// Last frame, seconds.
    pub end_s: f64,
    /// The numbers behind the call (peaks, rest values).
    pub evidence: serde_json::Value,
}

/// The clip's resting pose: medians over every frame with one face.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Rest {
    /// Median yaw, degrees.
    pub yaw_deg: f32,
    /// Median pitch, degrees (positive = down).
    pub pitch_deg: f32,
    /// Median face width, pixels.
    pub face_width_px: f32,
}

/// Everything found in one clip.
#[derive(Clone, Debug, Serialize)]
pub struct ClipSegments {
    /// Clip name.
    pub clip: String,
    /// Frames analysed.
    pub frames: usize,
    /// Frames with exactly one face.
    pub one_face_frames: usize,
    /// Resting pose the actions are measured against.
    pub rest: Option<Rest>,
    /// Segments, ordered by start time.
    pub segments: Vec<Segment>,
}

fn median(mut v: Vec<f32>) -> Option<f32> {
    v.sort_by(f32::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

fn rest_pose(samples: &[Sample]) -> Option<Rest> {
    let cues: Vec<&MeshCues> = samples.iter().filter_map(|s| s.cues.as_ref()).collect();
    Some(Rest {
        yaw_deg: median(cues.iter().map(|c| c.yaw_deg).collect())?,
        pitch_deg: median(cues.iter().map(|c| c.pitch_deg).collect())?,
        face_width_px: median(cues.iter().map(|c| c.face_width_px).collect())?,
    })
}

fn mean_ear(c: &MeshCues) -> f32 {
    (c.ear_left + c.ear_right) / 2.0
}

/// Index ranges `(start, peak, end)` where `level` (1.0 = the action's threshold) reaches 1 for
/// [`HOLD_FRAMES`] frames in a row, widened while it stays above [`ONSET_FRACTION`]. Frames
/// without a face (`NaN`) break a run.
fn excursions(level: &[f32]) -> Vec<(usize, usize, usize)> {
    let mut out: Vec<(usize, usize, usize)> = Vec::new();
    let mut i = 0;
    while i < level.len() {
        let run = level[i..].iter().take_while(|v| **v >= 1.0).count();
        if run < HOLD_FRAMES {
            i += run.max(1);
            continue;
        }
        let mut start = i;
        while start > 0 && level[start - 1] >= ONSET_FRACTION {
            start -= 1;
        }
        let mut end = i + run - 1;
        while end + 1 < level.len() && level[end + 1] >= ONSET_FRACTION {
            end += 1;
        }
        let peak = (start..=end)
            .max_by(|a, b| level[*a].total_cmp(&level[*b]))
            .unwrap_or(i);
        out.push((start, peak, end));
        i = end + 1;
    }
    out
}

/// Segments of one pose action: `level` maps a frame's cues to its excursion in units of the
/// threshold; `evidence` describes the peak frame.
fn pose_segments(
    clip: &str,
    samples: &[Sample],
    action: &str,
    level: impl Fn(&MeshCues) -> f32,
    evidence: impl Fn(&MeshCues) -> serde_json::Value,
) -> Vec<Segment> {
    let levels: Vec<f32> = samples
        .iter()
        .map(|s| s.cues.as_ref().map_or(f32::NAN, &level))
        .collect();
    excursions(&levels)
        .into_iter()
        .filter_map(|(start, peak, end)| {
            let cues = samples[peak].cues.as_ref()?;
            Some(Segment {
                clip: clip.to_string(),
                action: action.to_string(),
                start_s: samples[start].time_s,
                end_s: samples[end].time_s,
                evidence: evidence(cues),
            })
        })
        .collect()
}

/// Closed-eye frames: below [`BLINK_EAR`] and below [`BLINK_RATIO`] × the open level on both
/// sides; returns each with that open level.
fn closed_frames(samples: &[Sample]) -> Vec<(usize, f32)> {
    let ear: Vec<f32> = samples
        .iter()
        .map(|s| s.cues.as_ref().map_or(f32::NAN, mean_ear))
        .collect();
    let within =
        |i: usize, j: usize| (samples[i].time_s - samples[j].time_s).abs() <= BLINK_WINDOW_S;
    let open_level = |range: &mut dyn Iterator<Item = usize>, i: usize| {
        range
            .take_while(|&j| within(i, j))
            .map(|j| ear[j])
            .fold(f32::NAN, f32::max)
    };
    (0..ear.len())
        .filter_map(|i| {
            let before = open_level(&mut (0..i).rev(), i);
            let after = open_level(&mut (i + 1..ear.len()), i);
            let open = before.min(after);
            (ear[i] < BLINK_EAR
                && before.is_finite()
                && after.is_finite()
                && ear[i] < BLINK_RATIO * open)
                .then_some((i, open))
        })
        .collect()
}

/// One segment per blink: closed frames within [`BLINK_WINDOW_S`] of each other are one blink,
/// and the segment adds the open frame on each side (closing and reopening).
fn blink_segments(clip: &str, samples: &[Sample]) -> Vec<Segment> {
    let mut groups: Vec<Vec<(usize, f32)>> = Vec::new();
    for (i, open) in closed_frames(samples) {
        match groups.last_mut() {
            Some(g) if samples[i].time_s - samples[g[g.len() - 1].0].time_s <= BLINK_WINDOW_S => {
                g.push((i, open))
            }
            _ => groups.push(vec![(i, open)]),
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let (first, last) = (g[0].0, g[g.len() - 1].0);
            let (min_i, open) = g
                .iter()
                .copied()
                .min_by(|a, b| {
                    let e = |i: usize| samples[i].cues.as_ref().map_or(f32::NAN, mean_ear);
                    e(a.0).total_cmp(&e(b.0))
                })
                .unwrap_or(g[0]);
            let min_ear = samples[min_i].cues.as_ref().map_or(f32::NAN, mean_ear);
            Segment {
                clip: clip.to_string(),
                action: "blink".into(),
                start_s: samples[first.saturating_sub(1)].time_s,
                end_s: samples[(last + 1).min(samples.len() - 1)].time_s,
                evidence: json!({
                    "closed_frames": g.len(),
                    "min_ear": round3(min_ear),
                    "open_ear": round3(open),
                    "ratio": round3(min_ear / open),
                }),
            }
        })
        .collect()
}

/// Stretches of at least [`NEUTRAL_MIN_S`] at rest: pose and size near rest, mouth closed.
fn neutral_segments(clip: &str, samples: &[Sample], rest: &Rest) -> Vec<Segment> {
    let calm = |c: &MeshCues| {
        (c.yaw_deg - rest.yaw_deg).abs() <= NEUTRAL_POSE_DEG
            && (c.pitch_deg - rest.pitch_deg).abs() <= NEUTRAL_POSE_DEG
            && (c.face_width_px / rest.face_width_px - 1.0).abs() <= NEUTRAL_WIDTH
            && c.mouth_open <= NEUTRAL_MOUTH
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < samples.len() {
        let run = samples[i..]
            .iter()
            .take_while(|s| s.cues.as_ref().is_some_and(calm))
            .count();
        if run == 0 {
            i += 1;
            continue;
        }
        let frames = &samples[i..i + run];
        let (start_s, end_s) = (frames[0].time_s, frames[run - 1].time_s);
        if end_s - start_s >= NEUTRAL_MIN_S {
            let cues: Vec<&MeshCues> = frames.iter().filter_map(|s| s.cues.as_ref()).collect();
            let spread = |f: fn(&MeshCues) -> f32| {
                let v: Vec<f32> = cues.iter().map(|c| f(c)).collect();
                let (lo, hi) = v
                    .iter()
                    .fold((f32::MAX, f32::MIN), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
                round1(hi - lo)
            };
            out.push(Segment {
                clip: clip.to_string(),
                action: "neutral".into(),
                start_s,
                end_s,
                evidence: json!({
                    "yaw_deg": round1(median(cues.iter().map(|c| c.yaw_deg).collect()).unwrap_or(0.0)),
                    "pitch_deg": round1(median(cues.iter().map(|c| c.pitch_deg).collect()).unwrap_or(0.0)),
                    "yaw_range_deg": spread(|c| c.yaw_deg),
                    "pitch_range_deg": spread(|c| c.pitch_deg),
                    "max_mouth_open": round3(cues.iter().map(|c| c.mouth_open).fold(0.0, f32::max)),
                }),
            });
        }
        i += run;
    }
    out
}

fn round1(x: f32) -> f64 {
    (x as f64 * 10.0).round() / 10.0
}

fn round3(x: f32) -> f64 {
    (x as f64 * 1000.0).round() / 1000.0
}

/// Every segment of one clip.
pub fn find(clip: &str, samples: &[Sample]) -> ClipSegments {
    let one_face_frames = samples.iter().filter(|s| s.cues.is_some()).count();
    let rest = rest_pose(samples);
    let mut segments = Vec::new();
    if let Some(r) = rest {
        let dyaw = move |c: &MeshCues| c.yaw_deg - r.yaw_deg;
        let turn = |c: &MeshCues| {
            json!({"peak_yaw_deg": round1(c.yaw_deg), "rest_yaw_deg": round1(r.yaw_deg),
                   "delta_deg": round1(c.yaw_deg - r.yaw_deg)})
        };
        segments.extend(pose_segments(
            clip,
            samples,
            "turnLeft",
            |c| dyaw(c) / TURN_DEG,
            turn,
        ));
        segments.extend(pose_segments(
            clip,
            samples,
            "turnRight",
            |c| -dyaw(c) / TURN_DEG,
            turn,
        ));
        segments.extend(pose_segments(
            clip,
            samples,
            "lookUp",
            |c| (r.pitch_deg - c.pitch_deg) / LOOK_UP_DEG,
            |c| {
                json!({"peak_pitch_deg": round1(c.pitch_deg), "rest_pitch_deg": round1(r.pitch_deg),
                       "up_deg": round1(r.pitch_deg - c.pitch_deg)})
            },
        ));
        segments.extend(pose_segments(
            clip,
            samples,
            "comeCloser",
            |c| (c.face_width_px / r.face_width_px - 1.0) / (CLOSER_SCALE - 1.0),
            |c| {
                json!({"peak_width_px": round1(c.face_width_px), "rest_width_px": round1(r.face_width_px),
                       "scale": round3(c.face_width_px / r.face_width_px)})
            },
        ));
        segments.extend(blink_segments(clip, samples));
        segments.extend(neutral_segments(clip, samples, &r));
    }
    segments.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    ClipSegments {
        clip: clip.to_string(),
        frames: samples.len(),
        one_face_frames,
        rest,
        segments,
    }
}

/// `fio-eval segments VIDEO.y4m...`: the action segments of each video, as text or (`--json`)
/// as `fixtures/segments.json` is written.
pub fn run(models: &Path, inputs: &[String], json: bool) -> Result<(), CliError> {
    if !inputs
        .iter()
        .all(|i| i.to_ascii_lowercase().ends_with(".y4m"))
    {
        return Err(CliError("segments needs y4m videos".into()));
    }
    let mut clips = Vec::new();
    for input in inputs {
        let frames = video_cues(models, Path::new(input), false)?;
        clips.push(find(&clip_name(input), &frame_samples(&frames)));
    }
    print(inputs, &clips, json)
}

/// The segment finder's view of the frames: cues only where exactly one face was found.
fn frame_samples(frames: &[FrameCues]) -> Vec<Sample> {
    frames
        .iter()
        .map(|f| Sample {
            time_s: f.time_s.unwrap_or(0.0),
            cues: f.cues.clone().filter(|_| f.faces == 1),
        })
        .collect()
}

fn print(inputs: &[String], clips: &[ClipSegments], json: bool) -> Result<(), CliError> {
    if json {
        let all: Vec<&Segment> = clips.iter().flat_map(|c| &c.segments).collect();
        let summary: Vec<serde_json::Value> = clips
            .iter()
            .map(|c| {
                let round = |x: f32| (x as f64 * 10.0).round() / 10.0;
                let rest = c.rest.map(|r| {
                    json!({"yaw_deg": round(r.yaw_deg), "pitch_deg": round(r.pitch_deg),
                           "face_width_px": round(r.face_width_px)})
                });
                json!({"clip": c.clip, "frames": c.frames,
                       "one_face_frames": c.one_face_frames, "rest": rest})
            })
            .collect();
        let doc = json!({
            "generated_by": format!("fio-eval segments --json {}", inputs.join(" ")),
            "conventions": CONVENTIONS,
            "thresholds": thresholds(),
            "clips": summary,
            "segments": all,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    for c in clips {
        let rest = c.rest.map_or("none".into(), |r| {
            format!(
                "yaw {:.1}°, pitch {:.1}°, width {:.0} px",
                r.yaw_deg, r.pitch_deg, r.face_width_px
            )
        });
        println!(
            "{}: {} frames, {} with one face, rest: {rest}",
            c.clip, c.frames, c.one_face_frames
        );
        for s in &c.segments {
            println!(
                "  {:<11} {:>6.1}–{:<6.1} {}",
                s.action, s.start_s, s.end_s, s.evidence
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excursion_needs_to_be_held_and_widens_to_its_onset() {
        let level = [0.0, 0.6, 1.2, 0.9, 0.0, 1.5, 1.4, 0.7, 0.2, f32::NAN, 2.0];
        // Index 2 alone is not held; 5–6 is, and widens over 7 (above the onset fraction).
        assert_eq!(excursions(&level), vec![(5, 5, 7)]);
    }

    #[test]
    fn a_partial_return_does_not_split_a_movement() {
        let level = [0.0, 1.1, 1.2, 0.8, 1.3, 1.4, 0.0];
        assert_eq!(excursions(&level), vec![(1, 5, 5)]);
    }
}
