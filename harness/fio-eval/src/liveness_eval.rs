//! `fio-eval liveness-eval`: ISO/IEC 30107-3 figures (APCER per attack species, BPCER) of the
//! shipped liveness decision, replaying real and attack videos through the code the widget runs.
//!
//! Each video frame is analysed once by the widget's own per-frame engine
//! (`fio_vision::frame_engine`), in full. Ceremonies are then simulated from many start offsets
//! and many random challenges by driving the widget's capture schedule
//! (`fio_core::capture_schedule`) and liveness session (`fio_core::liveness::Session`) frame by
//! frame, as the engine worker does ([`crate::replay`]): on the frames the schedule leaves to the
//! fast path, the full stages' results (passive score, template) are dropped, which is exactly
//! what the fast path computes (`fio-vision/tests/frame_engine.rs`). A recording cannot answer a
//! random challenge, so a bona fide active ceremony is assembled the way a person would respond:
//! each prompt is answered by a real segment of the clips that shows that action
//! (`fixtures/segments.json`, found with `fio-eval segments`). Attack videos simply keep playing
//! (looped, as Chromium's fake camera does).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fio_cli::CliError;
use fio_core::liveness::{LivenessReport, Session, Thresholds, Verdict};
use fio_core::protocol::LivenessMode;
use fio_core::{new_challenge, Ceremony, LivenessAction, CHALLENGE_TTL_MS};
use serde::Serialize;

use crate::evidence_crops::{self, EvidenceJob};
use crate::replay::{
    action_name, active_ceremony, answer_with, capture_of, read_segments, Recorder, Recording,
    Sample, Segment, Widget, GIVE_UP_MS,
};

mod evidence_rows;
use evidence_rows::tampered_job;
pub use evidence_rows::{EVIDENCE_ROW, PICKING_ROW};

/// [`ACTIONS_PER_CHALLENGE`], or `FIO_LIVENESS_ACTIONS` when sweeping.
fn actions_per_challenge() -> usize {
    std::env::var("FIO_LIVENESS_ACTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ACTIONS_PER_CHALLENGE)
}

/// Random challenges simulated per start offset of an attack video.
const CHALLENGES_PER_START: usize = 12;
/// Random challenges simulated per neutral bona fide segment.
const CHALLENGES_PER_NEUTRAL: usize = 16;
/// Attack start offsets (frames) re-verified in row (d): every 2 s, half of row (c)'s starts.
const EVIDENCE_ATTACK_STRIDE: usize = 20;
/// Prompts per challenge: the count the edge issues.
const ACTIONS_PER_CHALLENGE: usize = fio_core::ACTIVE_ACTIONS_PER_CHALLENGE;

/// Deterministic bytes for challenges (SplitMix64): the bench must be reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn bytes32(&mut self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for c in b.chunks_mut(8) {
            c.copy_from_slice(&self.next().to_le_bytes());
        }
        b
    }
}

/// A challenge's actions, drawn as the edge draws them but only from `allowed`.
fn challenge(rng: &mut Rng, allowed: &[LivenessAction]) -> Vec<LivenessAction> {
    loop {
        let c = new_challenge(
            &rng.bytes32(),
            "bench",
            Ceremony::Authenticate,
            0,
            CHALLENGE_TTL_MS,
            actions_per_challenge(),
        );
        if c.actions.iter().all(|a| allowed.contains(a)) {
            return c.actions;
        }
    }
}

/// Milliseconds between a recording's frames, from its first two (100, the fixtures' 10 fps, for
/// a single frame).
fn frame_ms(rec: &[Sample]) -> f64 {
    if rec.len() > 1 {
        rec[1].cues.t_ms - rec[0].cues.t_ms
    } else {
        100.0
    }
}

/// First frames of the passive ceremonies run on a recording: one a second. A bona fide window
/// must be able to run its full blink wait inside the clip (no looping: a loop is a cut a real
/// camera never shows); an attack video loops, so every second of it starts one.
fn passive_starts(
    rec: &[Sample],
    bona_fide: bool,
    th: &Thresholds,
) -> std::iter::StepBy<std::ops::Range<usize>> {
    let dt = frame_ms(rec);
    let last = if bona_fide {
        rec.len()
            .saturating_sub((th.blink_wait_ms / dt).round() as usize)
    } else {
        rec.len()
    };
    (0..last).step_by(((1000.0 / dt).round() as usize).max(1))
}

/// Frames of `rec` from `start` on, looping, re-timed to continue at `t0` (frame spacing kept).
fn play(rec: &[Sample], start: usize, t0: f64) -> impl Iterator<Item = Sample> + '_ {
    let dt = frame_ms(rec);
    (0..).map(move |k| {
        let mut s = rec[(start + k) % rec.len()].clone();
        s.cues.t_ms = t0 + k as f64 * dt;
        s
    })
}

/// Passive-mode ceremony on a feed, until the capture schedule is done (samples in, then a
/// blink or `th.blink_wait_ms`); a capture that never gets its samples is rejected after
/// [`GIVE_UP_MS`], and a feed that ends first is decided on what was seen.
/// Returns (verdict with temporal cues, passive-model-only verdict over the sampling window).
fn passive_ceremony(feed: impl Iterator<Item = Sample>, th: &Thresholds) -> (Verdict, bool) {
    let (verdict, passive_only, _) = passive_ceremony_report(feed, th);
    (verdict, passive_only)
}

/// [`passive_ceremony`] with the liveness report the widget would send.
fn passive_ceremony_report(
    feed: impl Iterator<Item = Sample>,
    th: &Thresholds,
) -> (Verdict, bool, LivenessReport) {
    let mut w = Widget::new(LivenessMode::Passive, &[], th);
    let mut capture = Session::with_thresholds(LivenessMode::Passive, vec![], *th);
    let mut sampling = true;
    let mut t_first = None;
    let mut gave_up = false;
    for x in feed {
        let t0 = *t_first.get_or_insert(x.cues.t_ms);
        if x.cues.t_ms - t0 > GIVE_UP_MS {
            gave_up = true;
            break;
        }
        let (a, _, cap) = w.push(&x);
        if sampling {
            capture.push(a.cues, a.template.as_deref());
            sampling = !cap.enough;
        }
        if cap.done {
            break;
        }
    }
    let passive_only = capture
        .outcome()
        .report
        .passive
        .is_some_and(|p| p >= th.passive_min);
    let outcome = w.session.outcome();
    let verdict = if gave_up {
        Verdict::NoFace
    } else {
        outcome.verdict
    };
    (verdict, passive_only, outcome.report)
}

/// One passive ceremony of `fio-eval passive-clip`: where it started, what was decided and why.
#[derive(Serialize)]
struct ClipCeremony {
    start_s: f64,
    verdict: Verdict,
    passive_model_only: bool,
    report: LivenessReport,
}

/// `fio-eval passive-clip VIDEO.y4m`: a bona fide clip through passive-mode ceremonies starting
/// every second (the bench's bona fide protocol), each with its verdict and the reason, so a live
/// person refused can be explained from the report.
pub fn passive_clip(models: &Path, video: &Path, json: bool) -> Result<(), CliError> {
    let mut recorder = crate::replay::Recorder::load(models)?;
    let samples = recorder.record(video)?;
    let th = Thresholds::DEFAULT;
    let fps_frames = 1000.0 / frame_ms(&samples);
    let mut out = Vec::new();
    for start in passive_starts(&samples, true, &th) {
        let (verdict, passive_model_only, report) =
            passive_ceremony_report(samples[start..].iter().cloned(), &th);
        out.push(ClipCeremony {
            start_s: samples[start].cues.t_ms / 1000.0,
            verdict,
            passive_model_only,
            report,
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{}: {} frames at {fps_frames:.1} fps, {} ceremonies",
        video.display(),
        samples.len(),
        out.len()
    );
    for c in &out {
        println!(
            "start {:>5.1} s  {:<28} frames {:>3} passive {:>5} pattern {:>5} blinks {} yaw spread {:>4.1} pitch spread {:>4.1}",
            c.start_s,
            format!("{:?}", c.verdict),
            c.report.frames,
            c.report.passive.map_or("-".into(), |p| format!("{p:.2}")),
            c.report.pattern.map_or("-".into(), |p| format!("{p:.2}")),
            c.report.blinks,
            c.report.yaw_spread_deg,
            c.report.pitch_spread_deg
        );
    }
    Ok(())
}

/// Acceptance counts of one row of the table.
#[derive(Default, Clone, Copy, Serialize)]
struct Tally {
    attempts: u32,
    accepted: u32,
}

impl Tally {
    fn add(&mut self, accepted: bool) {
        self.attempts += 1;
        self.accepted += u32::from(accepted);
    }

    fn rate(&self, accepted: bool) -> f64 {
        let n = if accepted {
            self.accepted
        } else {
            self.attempts - self.accepted
        };
        100.0 * f64::from(n) / f64::from(self.attempts.max(1))
    }
}

/// Results per configuration: `rows[config][species or "bona fide"]`.
#[derive(Default, Serialize)]
pub struct Table {
    rows: BTreeMap<&'static str, BTreeMap<String, Tally>>,
    /// Rejected active ceremonies: `outcomes[who][attack reason or error code]`. An attack
    /// should end in `PAD_ATTACK`, a real user who ignores the prompt in `TIMEOUT`.
    outcomes: BTreeMap<String, BTreeMap<&'static str, u32>>,
    /// Row (d) ceremonies the edge's re-verification rejected: `[who][reason]` (a missing
    /// action is named).
    evidence_outcomes: BTreeMap<String, BTreeMap<String, u32>>,
    /// Row (d): how clearly each evidence crop shows its action, `[who][action]`
    /// ([`evidence_strength`] measured on the crop against the rest crop).
    #[serde(skip)]
    evidence_strengths: BTreeMap<String, BTreeMap<String, Vec<f32>>>,
    /// Each ceremony's median periodic-pattern score, `[who]`: row (c) on frames, `who (d)
    /// crops` / `who (e) crops` on the evidence crops.
    patterns: BTreeMap<String, Vec<f32>>,
    /// The thresholds the table was computed with.
    #[serde(skip)]
    th: Thresholds,
    /// Bona fide active ceremonies whose neutral segment ended before the capture schedule was
    /// done (their prompts start from what it showed).
    cut_captures: u32,
}

const BONA_FIDE: &str = "bona fide";

impl Table {
    fn add(&mut self, config: &'static str, who: &str, accepted: bool) {
        self.rows
            .entry(config)
            .or_default()
            .entry(who.to_string())
            .or_default()
            .add(accepted);
    }

    fn add_pattern(&mut self, who: &str, p: Option<f32>) {
        if let Some(p) = p {
            self.patterns.entry(who.to_string()).or_default().push(p);
        }
    }

    /// Markdown: the spread of the pattern cue per ceremony in row (c).
    fn pattern_markdown(&self) -> String {
        let mut s = format!(
            "\n| pattern cue, median per ceremony (attack above {}) | min | median | max | above |\n|---|---|---|---|---|",
            self.th.pattern_max
        );
        for (who, v) in &self.patterns {
            let mut v = v.clone();
            v.sort_by(f32::total_cmp);
            let above = v.iter().filter(|&&p| p > self.th.pattern_max).count();
            s += &format!(
                "\n| {who} | {:.2} | {:.2} | {:.2} | {above}/{} |",
                v[0],
                v[v.len() / 2],
                v[v.len() - 1],
                v.len()
            );
        }
        s + "\n"
    }

    fn add_outcome(&mut self, who: &str, v: Verdict) {
        let code = match v {
            Verdict::Live => return,
            // Keyed by reason so the JSON shows which cue decided; the table sums them.
            Verdict::Attack(reason) => reason,
            Verdict::Timeout => "TIMEOUT",
            Verdict::NoFace => "NO_FACES_DETECTED",
            Verdict::ManyFaces => "MANY_FACES",
        };
        *self
            .outcomes
            .entry(who.to_string())
            .or_default()
            .entry(code)
            .or_default() += 1;
    }

    fn add_evidence_outcome(&mut self, who: &str, reason: String) {
        *self
            .evidence_outcomes
            .entry(who.to_string())
            .or_default()
            .entry(reason)
            .or_default() += 1;
    }

    /// Markdown: BPCER on bona fide, APCER per species, per configuration.
    pub fn markdown(&self) -> String {
        let species: Vec<String> = self
            .rows
            .values()
            .flat_map(|r| r.keys().cloned())
            .filter(|k| k != BONA_FIDE)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut s = String::from("| configuration | BPCER (bona fide) |");
        for sp in &species {
            s += &format!(" APCER {sp} |");
        }
        s += "\n|---|---|";
        s += &"---|".repeat(species.len());
        for (config, r) in &self.rows {
            match r.get(BONA_FIDE) {
                Some(bf) => {
                    s += &format!(
                        "\n| {config} | {:.1} % ({}/{}) |",
                        bf.rate(false),
                        bf.attempts - bf.accepted,
                        bf.attempts
                    )
                }
                None => s += &format!("\n| {config} | – |"),
            }
            for sp in &species {
                let t = r.get(sp).copied().unwrap_or_default();
                s += &format!(" {:.1} % ({}/{}) |", t.rate(true), t.accepted, t.attempts);
            }
        }
        s += "\n\n| (c) rejected as | PAD_ATTACK | TIMEOUT | other |\n|---|---|---|---|";
        const CODES: [&str; 3] = ["TIMEOUT", "NO_FACES_DETECTED", "MANY_FACES"];
        for (who, o) in &self.outcomes {
            let get = |k: &str| o.get(k).copied().unwrap_or(0);
            let pad: u32 = o
                .iter()
                .filter(|(k, _)| !CODES.contains(k))
                .map(|(_, n)| n)
                .sum();
            let other = get("NO_FACES_DETECTED") + get("MANY_FACES");
            s += &format!("\n| {who} | {pad} | {} | {other} |", get("TIMEOUT"));
        }
        s + "\n" + &self.pattern_markdown() + &self.evidence_markdown()
    }
}

/// Actions the bona fide clips can answer (those with at least one segment).
fn answerable(segments: &[Segment]) -> Vec<LivenessAction> {
    LivenessAction::ALL
        .into_iter()
        .filter(|a| segments.iter().any(|s| s.action == action_name(*a)))
        .collect()
}

/// Runs every simulation; returns the table of rows (a)–(c) and the evidence row (d)'s ceremonies
/// still to be re-verified (bona fide ceremonies the widget rejected are already counted in (d)).
pub fn evaluate(
    recs: &[Recording],
    segments: &[Segment],
    th: &Thresholds,
) -> (Table, Vec<EvidenceJob>) {
    let mut table = Table {
        th: *th,
        ..Table::default()
    };
    let mut jobs = Vec::new();
    let mut rng = Rng(0x0F10_2026);
    let can = answerable(segments);
    for r in recs {
        let who = r.species.clone().unwrap_or_else(|| BONA_FIDE.to_string());
        let len = r.samples.len();
        for start in passive_starts(&r.samples, r.species.is_none(), th) {
            let feed: Box<dyn Iterator<Item = Sample>> = if r.species.is_some() {
                Box::new(play(&r.samples, start, 0.0))
            } else {
                Box::new(r.samples[start..].iter().cloned())
            };
            let (verdict, passive_only) = passive_ceremony(feed, th);
            table.add("(a) passive model only", &who, passive_only);
            table.add(
                "(b) passive + temporal + screen cue",
                &who,
                verdict == Verdict::Live,
            );
        }
        // Active mode on attacks: the video keeps playing whatever is prompted.
        if r.species.is_some() {
            for start in (0..len).step_by(10) {
                for _ in 0..CHALLENGES_PER_START {
                    let actions = challenge(&mut rng, &LivenessAction::ALL);
                    let run = active_ceremony(
                        &actions,
                        &mut play(&r.samples, start, 0.0),
                        |_, _, feed| feed.take(10).collect(),
                        th,
                    );
                    let capture = &run.captured;
                    let v = run.verdict;
                    table.add_pattern(&who, run.pattern);
                    table.add("(c) active challenge", &who, v == Verdict::Live);
                    table.add_outcome(&who, v);
                    // (d): the same feed, prompts answered 10 frames each, sent as evidence by
                    // a client that claims live whatever the widget decided (every other start:
                    // each crop costs a full measurement).
                    if !start.is_multiple_of(EVIDENCE_ATTACK_STRIDE) {
                        continue;
                    }
                    let mut cursor = play(&r.samples, start, 0.0).skip(capture.len());
                    let windows: Vec<Vec<Sample>> = actions
                        .iter()
                        .map(|_| cursor.by_ref().take(10).collect())
                        .collect();
                    match tampered_job(&who, &actions, capture, &windows, th) {
                        Some(job) => jobs.push(job),
                        None => table.add(EVIDENCE_ROW, &who, false),
                    }
                    // (e): the same client picking each action's frame from the whole video.
                    let whole: Vec<Sample> = play(&r.samples, start, 0.0).take(len).collect();
                    let windows = vec![whole; actions.len()];
                    match tampered_job(&who, &actions, capture, &windows, th) {
                        Some(job) => jobs.push(EvidenceJob {
                            row: PICKING_ROW,
                            ..job
                        }),
                        None => table.add(PICKING_ROW, &who, false),
                    }
                }
            }
        }
    }
    // Active mode, bona fide: neutral capture, then each prompt answered by a real segment.
    let neutral: Vec<&Segment> = segments.iter().filter(|s| s.action == "neutral").collect();
    for (k, n) in neutral.iter().enumerate() {
        let capture = capture_of(recs, n);
        if capture.len() < 10 || can.is_empty() {
            continue;
        }
        for _ in 0..CHALLENGES_PER_NEUTRAL {
            let actions = challenge(&mut rng, &can);
            let mut pick = k;
            let run = active_ceremony(
                &actions,
                &mut capture.clone().into_iter(),
                |action, t0, _| {
                    // A segment of the same clip (the same session) showing the action.
                    let name = action_name(action);
                    let options: Vec<&Segment> = segments
                        .iter()
                        .filter(|s| s.action == name && s.clip == n.clip)
                        .chain(segments.iter().filter(|s| s.action == name))
                        .collect();
                    if options.is_empty() {
                        return Vec::new();
                    }
                    pick += 1;
                    answer_with(recs, &neutral, options[pick % options.len()], t0)
                },
                th,
            );
            let v = run.verdict;
            table.cut_captures += u32::from(!run.capture_done);
            table.add_pattern(BONA_FIDE, run.pattern);
            table.add("(c) active challenge", BONA_FIDE, v == Verdict::Live);
            table.add_outcome(BONA_FIDE, v);
            match EvidenceJob::from_run(BONA_FIDE, &actions, &run) {
                Some(job) if v == Verdict::Live => jobs.push(job),
                Some(_) => table.add(EVIDENCE_ROW, BONA_FIDE, false),
                None => {
                    table.add(EVIDENCE_ROW, BONA_FIDE, false);
                    if v == Verdict::Live {
                        table.add_evidence_outcome(BONA_FIDE, "a slot kept no frame".into());
                    }
                }
            }
            // The same person ignoring the prompts: the rest of the neutral footage, then
            // nothing. This must end in TIMEOUT (retry), not PAD_ATTACK.
            let idle: Vec<Sample> = capture.clone();
            let mut offset = 0.0;
            let v = active_ceremony(
                &actions,
                &mut capture.clone().into_iter(),
                |_, t0, _| {
                    let frames: Vec<Sample> = (0..((th.action_timeout_ms / 100.0) as usize + 5))
                        .map(|i| {
                            let mut s = idle[i % idle.len()].clone();
                            s.cues.t_ms = t0 + offset + i as f64 * 100.0;
                            s
                        })
                        .collect();
                    offset += frames.len() as f64 * 100.0;
                    frames
                },
                th,
            )
            .verdict;
            table.add_outcome("bona fide ignoring the prompt", v);
        }
    }
    (table, jobs)
}

/// Version of the cached recordings: bump it when [`Sample`] or
/// [`FrameCues`](fio_core::liveness::FrameCues) gains a measurement, or an old cache silently
/// reads the new field as absent. 3: every frame analysed in full by the shipped engine, with its
/// guidance. 4: and by the live view, which follows the face from frame to frame.
const CUES_FORMAT: u32 = 4;

/// Loads cached samples when newer than the video, or analyses the video and caches them
/// (`<cache>/<name>.v<CUES_FORMAT>.json`).
pub fn load_or_record(
    recorder: &mut Option<Recorder>,
    models: &Path,
    video: &Path,
    species: Option<String>,
    cache: &Path,
) -> Result<Recording, CliError> {
    let name = video
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cached: PathBuf = cache.join(format!("{name}.v{CUES_FORMAT}.json"));
    let fresh = |c: &Path| -> bool {
        let (Ok(a), Ok(b)) = (std::fs::metadata(c), std::fs::metadata(video)) else {
            return false;
        };
        matches!((a.modified(), b.modified()), (Ok(x), Ok(y)) if x >= y)
    };
    if fresh(&cached) {
        if let Ok(mut r) = serde_json::from_slice::<Recording>(&std::fs::read(&cached)?) {
            r.video = video.to_path_buf();
            return Ok(r);
        }
    }
    if recorder.is_none() {
        *recorder = Some(Recorder::load(models)?);
    }
    let r = recorder.as_mut().expect("loaded above");
    eprintln!("fio-eval liveness-eval: analysing {}", video.display());
    let rec = Recording {
        name,
        species,
        samples: r.record(video)?,
        video: video.to_path_buf(),
    };
    std::fs::create_dir_all(cache)?;
    std::fs::write(&cached, serde_json::to_vec(&rec)?)?;
    Ok(rec)
}

/// `fio-eval liveness-eval DATA_DIR [SEGMENTS.json]`: bona fide `DATA_DIR/video/cap12.y4m`,
/// `cap13.y4m` (one man, two sessions) and `pexels_woman.y4m` (passive rows only: she answers
/// no prompt), attacks `DATA_DIR/attacks/<species>_<clip>.y4m`; prints the Markdown table
/// (JSON with `--json`). Analyses are cached in `artifacts/liveness/` next to the data dir's repo.
pub fn run(models: &Path, data: &Path, segments: &Path, json: bool) -> Result<(), CliError> {
    let cache = data.join("../../artifacts/liveness");
    let mut recorder = None;
    let mut recs = Vec::new();
    for clip in ["cap12", "cap13", "pexels_woman"] {
        let v = data.join("video").join(format!("{clip}.y4m"));
        recs.push(load_or_record(&mut recorder, models, &v, None, &cache)?);
    }
    let mut attacks: Vec<PathBuf> = std::fs::read_dir(data.join("attacks"))
        .map_err(|e| {
            CliError(format!(
                "{}: {e} (run fixtures/attacks/make.sh)",
                data.join("attacks").display()
            ))
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "y4m"))
        .collect();
    attacks.sort();
    for a in &attacks {
        let stem = a
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let species = stem
            .rsplit_once('_')
            .map_or(stem.clone(), |(sp, _)| sp.to_string());
        recs.push(load_or_record(
            &mut recorder,
            models,
            a,
            Some(species),
            &cache,
        )?);
    }
    for (i, r) in recs.iter_mut().enumerate() {
        r.tag(i);
    }
    let segs = read_segments(segments)?;
    // FIO_LIVENESS_THRESHOLDS='{"turnYawDeg": 12, ...}' overrides shipped values, for sweeps.
    let mut th = Thresholds::DEFAULT;
    if let Ok(over) = std::env::var("FIO_LIVENESS_THRESHOLDS") {
        let mut v = serde_json::to_value(th)?;
        let o: serde_json::Value = serde_json::from_str(&over)?;
        if let (Some(v), Some(o)) = (v.as_object_mut(), o.as_object()) {
            for (k, x) in o {
                if !v.contains_key(k) {
                    return Err(CliError(format!("unknown threshold {k}")));
                }
                v.insert(k.clone(), x.clone());
            }
        }
        th = serde_json::from_value(v)?;
        eprintln!("thresholds: {}", serde_json::to_string(&th)?);
    }
    let (mut table, jobs) = evaluate(&recs, &segs, &th);
    let judged = evidence_crops::judge(&recs, &jobs, models, &th, Some(&cache))?;
    let debug = std::env::var_os("FIO_LIVENESS_DEBUG").is_some();
    for (job, (crops, verdict)) in jobs.iter().zip(judged) {
        if debug && job.who == BONA_FIDE {
            // What the widget measured on each kept frame next to what the edge measured on
            // its crop.
            eprintln!("evidence {:?}: {verdict:?}", job.actions);
            for (k, (&(r, f), c)) in job.frames.iter().zip(&crops).enumerate() {
                let w = recs[r].samples[f].cues;
                eprintln!(
                    "  slot {k} {}#{f}: widget yaw {:.1} pitch {:.1} width {:.3} ear {:.3} | \
                     crop yaw {:.1} pitch {:.1} width {:.3} ear {:.3} passive {:.2} sim {:.2}",
                    recs[r].name,
                    w.yaw_deg.unwrap_or(f32::NAN),
                    w.pitch_deg.unwrap_or(f32::NAN),
                    w.face_width,
                    w.ear.unwrap_or(f32::NAN),
                    c.yaw_deg.unwrap_or(f32::NAN),
                    c.pitch_deg.unwrap_or(f32::NAN),
                    c.face_width,
                    c.ear.unwrap_or(f32::NAN),
                    c.passive.unwrap_or(f32::NAN),
                    c.similarity.unwrap_or(f32::NAN),
                );
            }
        }
        table.add_evidence(job, &crops, verdict, &th);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&table)?);
    } else {
        println!("{}", table.markdown());
        let can: Vec<String> = answerable(&segs).into_iter().map(action_name).collect();
        println!(
            "Bona fide: cap12 + cap13 (one man's real webcam sessions, 10 fps) and, in rows (a) \
             and (b), the Pexels clip of a woman (pexels_woman, 10 fps; she answers no prompt). \
             Active bona fide ceremonies \
             answer prompts with real segments; prompts drawn from: {}. Attacks are synthetic \
             (fixtures/attacks). (d): the widget's evidence crops of each ceremony (bona fide: \
             the frames the session kept, rejected ceremonies count as rejected), re-verified \
             with fio_core::liveness::verify_evidence; attacks: a tampered client that claims \
             live and sends the capture's most restful frame and, per prompt, the frame of its \
             10-frame answer window that shows the action best (every {} frames of start \
             offset). (e): the same client picking each frame from the whole video. \
             Every frame is analysed by the shipped engine (fio_vision::frame_engine) and the \
             widget's capture schedule (fio_core::capture_schedule, enrollment) picks the fully \
             analysed ones; the other frames are the live view's, {}; in {} bona fide active \
             ceremonies the neutral segment ended before the schedule had its samples (the prompts \
             then start from what it showed). Thresholds: {}.",
            can.join(", "),
            EVIDENCE_ATTACK_STRIDE,
            if crate::replay::tracking_from_env() {
                "tracked from frame to frame (FIO_EVAL_TRACKING=1, not the shipped setting)"
            } else {
                "detected on every frame (as shipped)"
            },
            table.cut_captures,
            if th == Thresholds::DEFAULT {
                "shipped (fio_core::liveness::Thresholds::DEFAULT)"
            } else {
                "overridden by FIO_LIVENESS_THRESHOLDS"
            }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::CEREMONY;
    use fio_core::liveness::FrameCues;
    use fio_core::{CaptureSchedule, CapturedFrame, Embedding, Guidance};

    #[test]
    fn challenges_are_reproducible_and_restricted() {
        let allowed = [LivenessAction::TurnLeft, LivenessAction::Blink];
        let a: Vec<_> = (0..5)
            .map({
                let mut r = Rng(7);
                move |_| challenge(&mut r, &allowed)
            })
            .collect();
        let b: Vec<_> = (0..5)
            .map({
                let mut r = Rng(7);
                move |_| challenge(&mut r, &allowed)
            })
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().flatten().all(|x| allowed.contains(x)));
        assert!(a.iter().all(|c| c.len() == ACTIONS_PER_CHALLENGE));
    }

    #[test]
    fn table_reports_rates_per_species() {
        let mut t = Table::default();
        t.add("(c) active challenge", BONA_FIDE, true);
        t.add("(c) active challenge", BONA_FIDE, false);
        t.add("(c) active challenge", "print", false);
        let md = t.markdown();
        assert!(
            md.contains("| (c) active challenge | 50.0 % (1/2) | 0.0 % (0/1) |"),
            "{md}"
        );
        assert!(md.contains("APCER print"));
    }

    fn sample(i: usize, yaw: f32, width: f32, ear: f32) -> Sample {
        Sample {
            cues: FrameCues {
                t_ms: i as f64 * 100.0,
                faces: 1,
                ear: Some(ear),
                yaw_deg: Some(yaw),
                pitch_deg: Some(0.0),
                face_width: width,
                passive: Some(0.9),
                similarity: None,
                pattern: None,
            },
            template: (i == 0).then(|| {
                Embedding::new((0..192).map(|k| (k as f32 * 0.37).sin()).collect())
                    .unwrap()
                    .to_template()
                    .to_base64()
            }),
            guidance: Guidance::Ok,
            obscured: false,
            live: None,
            src: Some((3, i)),
        }
    }

    #[test]
    fn ceremonies_follow_the_shipped_capture_schedule() {
        // A still face with a template on every frame: the widget analyses in full only the
        // frames the schedule picks, and the bench must hand the session exactly those.
        let th = Thresholds::DEFAULT;
        let template = sample(0, 0.0, 0.4, 0.3).template;
        let feed: Vec<Sample> = (0..100)
            .map(|i| Sample {
                template: template.clone(),
                ..sample(i, 0.0, 0.4, 0.3)
            })
            .collect();
        let run = active_ceremony(
            &[LivenessAction::TurnLeft],
            &mut feed.clone().into_iter(),
            |_, _, _| Vec::new(),
            &th,
        );
        assert!(run.capture_done);
        let mut schedule =
            CaptureSchedule::new(CEREMONY, LivenessMode::Active, th.blink_wait_ms, false);
        let expected: Vec<bool> = feed[..run.captured.len()]
            .iter()
            .map(|x| {
                let full = schedule.full(x.cues.t_ms);
                schedule.record(&CapturedFrame::steady(x.cues.t_ms, full));
                full
            })
            .collect();
        let got: Vec<bool> = run.captured.iter().map(|x| x.template.is_some()).collect();
        assert_eq!(got, expected);
        assert_eq!(got.iter().filter(|&&f| f).count(), 6, "{got:?}");
        assert!(run
            .captured
            .iter()
            .all(|x| x.cues.passive.is_some() == x.template.is_some()));
        // A faceless feed never gets its samples: the widget gives up.
        let faceless = feed.iter().cloned().map(|mut s| {
            s.cues.faces = 0;
            s.guidance = Guidance::NoFace;
            s
        });
        let (v, _) = passive_ceremony(play(&faceless.collect::<Vec<_>>(), 0, 0.0), &th);
        assert_eq!(v, Verdict::NoFace);
    }

    #[test]
    fn a_tampered_client_sends_the_most_convincing_frames() {
        let th = Thresholds::DEFAULT;
        // Capture: rest with one slightly turned frame; windows: the clearest frame wins.
        let capture: Vec<Sample> = (0..21)
            .map(|i| sample(i, if i == 5 { 6.0 } else { 0.0 }, 0.4, 0.2))
            .collect();
        let windows = vec![
            vec![
                sample(30, 4.0, 0.4, 0.2),
                sample(31, 14.0, 0.4, 0.2),
                sample(32, 9.0, 0.4, 0.2),
            ],
            vec![sample(40, 0.0, 0.4, 0.2), sample(41, 0.0, 0.4, 0.08)],
        ];
        let actions = [LivenessAction::TurnLeft, LivenessAction::Blink];
        let job = tampered_job("print", &actions, &capture, &windows, &th).unwrap();
        assert_eq!(job.row, EVIDENCE_ROW);
        assert_eq!(job.frames[1..], [(3, 31), (3, 41)]);
        assert_ne!(
            job.frames[0],
            (3, 5),
            "the turned capture frame is not the rest"
        );
        assert!((job.rest_width - 0.4).abs() < 1e-6);
        assert_eq!(job.reference, capture[0].template.clone().unwrap());
        // Without a face in the capture there is nothing to send.
        let faceless: Vec<Sample> = capture
            .iter()
            .cloned()
            .map(|mut s| {
                s.cues.faces = 0;
                s
            })
            .collect();
        assert!(tampered_job("print", &actions, &faceless, &windows, &th).is_none());
    }

    #[test]
    fn the_evidence_row_names_the_missing_action() {
        let th = Thresholds::DEFAULT;
        let mut t = Table {
            th,
            ..Table::default()
        };
        let job = EvidenceJob {
            row: EVIDENCE_ROW,
            who: BONA_FIDE.into(),
            actions: vec![LivenessAction::TurnLeft, LivenessAction::ComeCloser],
            frames: vec![(0, 0), (0, 1), (0, 2)],
            rest_width: 0.25,
            reference: String::new(),
        };
        let crops: Vec<FrameCues> = [(0.0, 0.45), (15.0, 0.45), (0.0, 0.47)]
            .iter()
            .map(|&(yaw, w)| sample(0, yaw, w, 0.2).cues)
            .collect();
        t.add_evidence(
            &job,
            &crops,
            Verdict::Attack("evidence: action not shown"),
            &th,
        );
        let md = t.markdown();
        assert!(
            md.contains("| (d) active + edge re-verification | 100.0 % (1/1) |"),
            "{md}"
        );
        assert!(
            md.contains("bona fide: evidence: action not shown (comeCloser) | 1 |"),
            "{md}"
        );
        assert!(
            md.contains("| turnLeft | ≥ 0.8 of threshold | 1.50 |"),
            "{md}"
        );
    }
}
