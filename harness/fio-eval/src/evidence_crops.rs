//! Edge re-verification from recorded video: evidence crops cut from decoded frames as the widget
//! cuts them, measured as the edge measures them (`fio_vision::evidence_crops`), judged by
//! `fio_core::liveness::verify_evidence`. Used by `fio-eval liveness-eval` (rows d and e) and by
//! `fio-eval evidence-crops`, which writes one bona fide clip's crops for the edge specs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use fio_cli::CliError;
use fio_core::liveness::{
    crop_cues, verify_evidence, FrameCues, Thresholds, Verdict, EVIDENCE_SIDE,
};
use fio_core::{LivenessAction, Template};
use fio_vision::detect::{confident_faces, Detector, DETECTOR_MODEL};
use fio_vision::evidence_crops::{evidence_crop, CropMeasure, EvidenceVerifier, EVIDENCE_MODELS};
use fio_vision::pipeline::WEBCAM_DETECTOR_SIZE;
use fio_vision::y4m::Y4mReader;
use fio_vision::{Frame, ModelFiles};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::replay::{
    action_name, active_ceremony, answer_with, capture_of, read_segments, Recorder, Recording,
    Segment,
};

/// Evidence a client sends for one ceremony, to be cut from recorded frames and re-verified.
#[derive(Clone, Debug)]
pub struct EvidenceJob {
    /// The table row it counts in.
    pub row: &'static str,
    /// `bona fide` or the attack species.
    pub who: String,
    /// The challenge's actions.
    pub actions: Vec<LivenessAction>,
    /// Source (recording, frame) of each crop: rest, then one per action.
    pub frames: Vec<(usize, usize)>,
    /// Resting face width, fraction of the frame width (the crops' common scale).
    pub rest_width: f32,
    /// The template the crops are compared with (base64).
    pub reference: String,
}

/// Centre of the largest confident face (the widget's detection box), or of the frame.
pub fn face_center(detector: &Detector, frame: &Frame) -> Result<[f32; 2], CliError> {
    let largest = confident_faces(detector.detect(frame)?).into_iter().next();
    Ok(match largest {
        Some(d) => [d.bbox[0] + d.bbox[2] / 2.0, d.bbox[1] + d.bbox[3] / 2.0],
        None => [frame.width() as f32 / 2.0, frame.height() as f32 / 2.0],
    })
}

/// Threads measuring crops (each loads its own models): 2 at most, the machines are small.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
}

/// Cuts and measures the crops `list` of one recording's `decoded` frames, split over worker
/// threads (each with its own models), in order.
fn measure_keys(
    files: &ModelFiles,
    decoded: &BTreeMap<usize, Frame>,
    list: &[CropKey],
) -> Result<Vec<CropMeasure>, CliError> {
    let n = workers().min(list.len()).max(1);
    let chunk = list.len().div_ceil(n).max(1);
    let results: Vec<Result<Vec<CropMeasure>, CliError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = list
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || -> Result<Vec<CropMeasure>, CliError> {
                    let verifier = EvidenceVerifier::load(files)?;
                    let detector =
                        Detector::load(files.get(DETECTOR_MODEL)?, WEBCAM_DETECTOR_SIZE)?;
                    let mut centers: HashMap<usize, [f32; 2]> = HashMap::new();
                    let mut out = Vec::with_capacity(part.len());
                    for &(_, f, w) in part {
                        let frame = decoded
                            .get(&f)
                            .ok_or_else(|| CliError(format!("frame {f} not decoded")))?;
                        let center = match centers.get(&f) {
                            Some(c) => *c,
                            None => {
                                let c = face_center(&detector, frame)?;
                                centers.insert(f, c);
                                c
                            }
                        };
                        let crop =
                            evidence_crop(frame, center, f32::from_bits(w) * frame.width() as f32);
                        out.push(verifier.measure(&crop)?);
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(CliError("evidence worker panicked".into())))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(list.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

/// Crop identity: source recording, frame, and the ceremony's rest width (bits of the f32).
type CropKey = (usize, usize, u32);

/// A measured crop as cached on disk.
#[derive(Serialize, Deserialize)]
struct Cached {
    cues: FrameCues,
    embedding: Option<Vec<f32>>,
}

/// Measured crops of earlier runs of this very binary (`<cache>/evidence.json`): sweeping the
/// evidence thresholds re-uses them; a rebuilt binary (models or code may differ) starts over.
#[derive(Serialize, Deserialize, Default)]
struct CropCache {
    binary: String,
    crops: HashMap<String, Cached>,
}

impl CropCache {
    fn stamp() -> String {
        std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|m| {
                let t = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_millis());
                format!("{t}-{}", m.len())
            })
            .unwrap_or_default()
    }

    fn load(dir: Option<&Path>) -> Self {
        let stamp = Self::stamp();
        let cached = dir
            .and_then(|d| std::fs::read(d.join("evidence.json")).ok())
            .and_then(|b| serde_json::from_slice::<CropCache>(&b).ok())
            .filter(|c| !stamp.is_empty() && c.binary == stamp);
        cached.unwrap_or(CropCache {
            binary: stamp,
            crops: HashMap::new(),
        })
    }

    fn save(&self, dir: Option<&Path>) -> Result<(), CliError> {
        if let Some(d) = dir {
            std::fs::create_dir_all(d)?;
            std::fs::write(d.join("evidence.json"), serde_json::to_vec(self)?)?;
        }
        Ok(())
    }

    fn key(recs: &[Recording], k: &CropKey) -> String {
        format!("{}:{}:{:08x}", recs[k.0].name, k.1, k.2)
    }
}

/// Cuts and measures every job's crops (each distinct crop once), then lets the edge's decision
/// judge each job. Returns, per job, the measured cues (with similarity) and the verdict.
pub fn judge(
    recs: &[Recording],
    jobs: &[EvidenceJob],
    models: &Path,
    th: &Thresholds,
    cache_dir: Option<&Path>,
) -> Result<Vec<(Vec<FrameCues>, Verdict)>, CliError> {
    let mut cache = CropCache::load(cache_dir);
    let mut keys: BTreeMap<usize, BTreeSet<CropKey>> = BTreeMap::new();
    for j in jobs {
        for &(r, f) in &j.frames {
            keys.entry(r)
                .or_default()
                .insert((r, f, j.rest_width.to_bits()));
        }
    }
    let mut measured: HashMap<CropKey, CropMeasure> = HashMap::new();
    for set in keys.values_mut() {
        set.retain(|k| match cache.crops.get(&CropCache::key(recs, k)) {
            Some(c) => {
                measured.insert(
                    *k,
                    CropMeasure {
                        cues: c.cues,
                        embedding: c.embedding.clone(),
                    },
                );
                false
            }
            None => true,
        });
    }
    keys.retain(|_, set| !set.is_empty());
    let total: usize = keys.values().map(BTreeSet::len).sum();
    eprintln!(
        "fio-eval liveness-eval: edge re-verification of {} ceremonies: {} crops cached, measuring {total}",
        jobs.len(),
        measured.len()
    );
    let started = std::time::Instant::now();
    let files = ModelFiles::from_dir_named(models, &EVIDENCE_MODELS)?;
    for (&r, wanted) in &keys {
        let frames: BTreeSet<usize> = wanted.iter().map(|k| k.1).collect();
        let decoded = decode_frames(&recs[r].video, &frames)?;
        let list: Vec<CropKey> = wanted.iter().copied().collect();
        for (k, m) in list
            .iter()
            .copied()
            .zip(measure_keys(&files, &decoded, &list)?)
        {
            cache.crops.insert(
                CropCache::key(recs, &k),
                Cached {
                    cues: m.cues,
                    embedding: m.embedding.clone(),
                },
            );
            measured.insert(k, m);
        }
    }
    if total > 0 {
        eprintln!(
            "fio-eval liveness-eval: measured {total} crops in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        cache.save(cache_dir)?;
    }
    Ok(jobs
        .iter()
        .map(|j| {
            let reference = Template::from_base64(&j.reference).ok();
            let cues: Vec<FrameCues> = j
                .frames
                .iter()
                .map(|&(r, f)| {
                    let m = &measured[&(r, f, j.rest_width.to_bits())];
                    match &reference {
                        Some(t) => {
                            crop_cues(m.cues, m.embedding.as_deref(), std::slice::from_ref(t))
                        }
                        None => m.cues,
                    }
                })
                .collect();
            let v = verify_evidence(&cues, &j.actions, th);
            (cues, v)
        })
        .collect())
}

/// The frames of a y4m video whose indices are in `wanted`, decoded once.
fn decode_frames(
    video: &Path,
    wanted: &BTreeSet<usize>,
) -> Result<BTreeMap<usize, Frame>, CliError> {
    let mut reader = Y4mReader::open(video)?;
    let mut out = BTreeMap::new();
    let last = wanted.iter().next_back().copied().unwrap_or(0);
    let mut i = 0usize;
    while i <= last {
        let Some(frame) = reader.next_frame()? else {
            break;
        };
        if wanted.contains(&i) {
            out.insert(i, frame);
        }
        i += 1;
    }
    if let Some(missing) = wanted.iter().find(|i| !out.contains_key(i)) {
        return Err(CliError(format!(
            "{}: has no frame {missing}",
            video.display()
        )));
    }
    Ok(out)
}

/// `fio-eval evidence-crops VIDEO.y4m SEGMENTS.json OUT_DIR`: the widget's evidence of one bona fide
/// clip. A neutral capture, then for each action a one-action challenge answered by the clip's
/// real segment of it (as `fio-eval liveness-eval` answers prompts); the session's evidence slots pick
/// the frames. Writes `rest.rgb` and `<action>.rgb` (160×160 RGB, all at the rest scale) and
/// `template.txt` (the session's reference template, base64).
pub fn crops_command(
    models: &Path,
    video: &Path,
    segments: &Path,
    out_dir: &Path,
    json_out: bool,
) -> Result<(), CliError> {
    let clip = video
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let segs: Vec<Segment> = read_segments(segments)?
        .into_iter()
        .filter(|s| s.clip == clip)
        .collect();
    if segs.is_empty() {
        return Err(CliError(format!(
            "{}: no segments for clip {clip:?} (the video's file name)",
            segments.display()
        )));
    }
    // The first neutral stretch long enough for the capture.
    let neutral: Vec<&Segment> = segs
        .iter()
        .filter(|s| s.action == "neutral" && s.end_s - s.start_s >= 2.0)
        .collect();
    let Some(&rest_seg) = neutral.first() else {
        return Err(CliError(format!(
            "{}: clip {clip:?} has no neutral segment of 2 s or more to capture the rest pose",
            segments.display()
        )));
    };
    let wanted: Vec<(LivenessAction, Vec<&Segment>)> = LivenessAction::ALL
        .into_iter()
        .map(|a| {
            let name = action_name(a);
            (a, segs.iter().filter(|s| s.action == name).collect())
        })
        .collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(a, _)| action_name(*a))
        .collect();
    if missing.len() == wanted.len() {
        return Err(CliError(format!(
            "{}: clip {clip:?} has no action segment",
            segments.display()
        )));
    }

    // Analyse (and keep) only the frames the ceremonies use: the capture and the segments.
    let mut reader = Y4mReader::open(video)?;
    let frame_ms = 1000.0 / reader.fps.max(1.0);
    let mut spans = vec![(rest_seg.start_s, rest_seg.start_s + 2.2)];
    spans.extend(
        wanted
            .iter()
            .flat_map(|(_, v)| v.iter().map(|s| (s.start_s, s.end_s))),
    );
    let needed = |t_ms: f64| {
        spans
            .iter()
            .any(|&(a, b)| t_ms >= a * 1000.0 - 1e-6 && t_ms <= b * 1000.0 + 1e-6)
    };
    let mut recorder = Recorder::load(models)?;
    let mut frames: HashMap<usize, Frame> = HashMap::new();
    let mut samples = Vec::new();
    let mut i = 0usize;
    while let Some(frame) = reader.next_frame()? {
        let t = i as f64 * frame_ms;
        if needed(t) {
            let mut s = recorder.sample(&frame, i, t)?;
            s.src = Some((0, i));
            samples.push(s);
            frames.insert(i, frame);
        }
        i += 1;
    }
    if samples.is_empty() {
        return Err(CliError(format!(
            "{}: no frames at the times of {}'s segments",
            video.display(),
            segments.display()
        )));
    }
    let recs = vec![Recording {
        name: clip.clone(),
        species: None,
        samples,
        video: video.to_path_buf(),
    }];
    let th = Thresholds::DEFAULT;
    let capture = capture_of(&recs, rest_seg);

    // One one-action ceremony per action, each answered by the first segment that passes.
    let mut chosen: Vec<(String, usize)> = Vec::new();
    let mut rest: Option<(usize, f32, String)> = None;
    let mut failed = Vec::new();
    for (action, options) in &wanted {
        let mut done = false;
        for seg in options {
            let mut answered = false;
            let run = active_ceremony(
                &[*action],
                &mut capture.clone().into_iter(),
                |_, t0, _| {
                    if std::mem::replace(&mut answered, true) {
                        return Vec::new();
                    }
                    answer_with(&recs, &neutral, seg, t0)
                },
                &th,
            );
            let (Verdict::Live, Some(Some((_, r))), Some(Some((_, f))), Some(w), Some(t)) = (
                run.verdict,
                run.kept.first(),
                run.kept.get(1),
                run.rest_face_width,
                run.reference,
            ) else {
                continue;
            };
            rest.get_or_insert((*r, w, t));
            chosen.push((action_name(*action), *f));
            done = true;
            break;
        }
        if !done && !options.is_empty() {
            failed.push(action_name(*action));
        }
    }
    let Some((rest_frame, rest_width, template)) = rest else {
        return Err(CliError(format!(
            "{}: no action segment of clip {clip:?} passes the widget's challenge",
            segments.display()
        )));
    };

    std::fs::create_dir_all(out_dir)
        .map_err(|e| CliError(format!("{}: {e}", out_dir.display())))?;
    let files = ModelFiles::from_dir_named(models, &[DETECTOR_MODEL])?;
    let detector = Detector::load(files.get(DETECTOR_MODEL)?, WEBCAM_DETECTOR_SIZE)?;
    let mut written = serde_json::Map::new();
    let slots = std::iter::once(("rest".to_string(), rest_frame)).chain(chosen.iter().cloned());
    for (name, idx) in slots {
        let frame = &frames[&idx];
        let crop = evidence_crop(
            frame,
            face_center(&detector, frame)?,
            rest_width * frame.width() as f32,
        );
        debug_assert_eq!(crop.len(), EVIDENCE_SIDE * EVIDENCE_SIDE * 3);
        let file = out_dir.join(format!("{name}.rgb"));
        std::fs::write(&file, &crop).map_err(|e| CliError(format!("{}: {e}", file.display())))?;
        written.insert(
            name,
            json!({ "file": file.display().to_string(), "frame": idx, "timeS": idx as f64 * frame_ms / 1000.0 }),
        );
    }
    let tfile = out_dir.join("template.txt");
    std::fs::write(&tfile, format!("{template}\n"))
        .map_err(|e| CliError(format!("{}: {e}", tfile.display())))?;
    let report = json!({
        "clip": clip,
        "side": EVIDENCE_SIDE,
        "restFaceWidth": rest_width,
        "template": template,
        "crops": written,
        "missing": missing,
        "failed": failed,
    });
    if json_out {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for (name, v) in &written {
            println!(
                "{name}: frame {} ({:.1} s) → {}",
                v["frame"],
                v["timeS"].as_f64().unwrap_or_default(),
                v["file"].as_str().unwrap_or_default()
            );
        }
        println!("template: {}", tfile.display());
    }
    if !missing.is_empty() {
        eprintln!(
            "fio-eval evidence-crops: clip {clip:?} has no segment of {}",
            missing.join(", ")
        );
    }
    if !failed.is_empty() {
        eprintln!(
            "fio-eval evidence-crops: no segment of {} passes the widget's challenge",
            failed.join(", ")
        );
    }
    Ok(())
}
