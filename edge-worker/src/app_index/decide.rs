//! The Durable Object's decisions as plain functions over in-memory state: each returns its
//! outcome and the storage writes to make ([`Write`]), so it is unit-tested natively. The
//! `AppIndex` methods are the shell around them: load what a decision needs, call it, apply the
//! writes in one commit, reply.

use p256::ecdsa::SigningKey;

use fio_core::challenge::{FollowUp, MAX_PIN_UNIQUENESS_RETRIES};
use fio_core::decision::LIVENESS_THRESHOLD;
use fio_core::liveness::{self, Thresholds, Verdict};
use fio_core::pin::{PinAttempts, PinVerdict, MAX_CLIENT_PIN_ATTEMPTS};
use fio_core::protocol::LivenessMode;
use fio_core::{
    format_iso8601_ms, verify_pin, Ceremony, Challenge, Error as FioError, ErrorCode,
    LivenessEvidence, MatchOutcome, PinReason,
};
use serde::Serialize;
use serde_json::{json, Value};

use super::gallery::Listed;
use super::{StoredChallenge, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT};
use crate::app_config::{AppRecord, AppStatus};
use crate::crypto;
use crate::do_protocol::{CallContext, ListArgs, Param};
use crate::error::{EdgeError, EdgeResult};
use crate::gate;
use crate::kv_records::{FaceRecord, StoredDetails};
use crate::rate_limit::RateLimiter;
use crate::token::{self, Claims, TokenError};

/// One change to the Durable Object's storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Set a key to a (JSON) string.
    Put(String, String),
    /// Remove a key.
    Delete(String),
}

impl Write {
    /// Sets `key` to `value`'s JSON.
    pub fn put<T: Serialize>(key: impl Into<String>, value: &T) -> EdgeResult<Self> {
        Ok(Self::Put(key.into(), serde_json::to_string(value)?))
    }

    /// Sets `key` to the empty string (a marker: PIN tag, tombstone).
    pub fn mark(key: impl Into<String>) -> Self {
        Self::Put(key.into(), String::new())
    }
}

/// An outcome, and the writes to make whatever it is (a refused replay still spends nothing,
/// a refused expired challenge is still deleted).
#[derive(Debug)]
pub struct Decision<T> {
    /// What to answer.
    pub outcome: EdgeResult<T>,
    /// What to store first.
    pub writes: Vec<Write>,
}

impl<T> Decision<T> {
    fn no_writes(outcome: EdgeResult<T>) -> Self {
        Self {
            outcome,
            writes: Vec::new(),
        }
    }
}

// ---- admission ------------------------------------------------------------------------------

/// Widget admission in the contract's order: app known and active → origin → country → quotas
/// (app-wide and per client IP, counted only when `count` and only once the rest passed).
pub fn admit_widget(
    config: Option<&AppRecord>,
    ctx: &CallContext,
    limiter: &mut RateLimiter,
    now: u64,
    count: bool,
) -> EdgeResult<()> {
    let config = config.ok_or(EdgeError::code(ErrorCode::Unauthorized))?;
    if config.status != AppStatus::Active {
        return Err(ErrorCode::Unauthorized.into());
    }
    let opts = &config.options;
    gate::check_origin(opts, ctx.origin.as_deref(), ctx.referer.as_deref())?;
    gate::check_country(opts, ctx.country.as_deref())?;
    let ip_key = format!("ip:{}", gate::quota_key(&ctx.client_ip));
    let keys = [
        ("app", opts.quota_per_minute),
        (ip_key.as_str(), opts.ip_quota_per_minute),
    ];
    if count && !limiter.allow_all(&keys, now) {
        return Err(ErrorCode::TooManyRequests.into());
    }
    Ok(())
}

/// REST admission: API key (compared as SHA-256 hashes; the key before the last rotation until
/// its grace period ends) → REST quota. Paused apps keep their REST API so operators can still
/// delete data; blocked apps lose it.
pub fn admit_rest(
    config: Option<&AppRecord>,
    ctx: &CallContext,
    limiter: &mut RateLimiter,
    now: u64,
) -> EdgeResult<()> {
    let config = config.ok_or(EdgeError::code(ErrorCode::Unauthorized))?;
    let given = crypto::hex(&crypto::sha256(
        ctx.api_key.as_deref().unwrap_or_default().as_bytes(),
    ));
    let previous = config
        .previous_api_key
        .as_ref()
        .filter(|p| now < p.until_ms)
        .is_some_and(|p| crypto::constant_time_eq(given.as_bytes(), p.value.as_bytes()));
    let current = crypto::constant_time_eq(given.as_bytes(), config.api_key_hash.as_bytes());
    if ctx.api_key.is_none() || !(current || previous) || config.status == AppStatus::Blocked {
        return Err(ErrorCode::Unauthorized.into());
    }
    if !limiter.allow("rest", config.options.rest_quota_per_minute, now) {
        return Err(ErrorCode::TooManyRequests.into());
    }
    Ok(())
}

// ---- challenges -----------------------------------------------------------------------------

/// Spending a challenge. `memory` is what the in-memory ledger said (it has already marked the
/// challenge used), `stored` the record in storage (read when memory knew it or did not know
/// it), `unknown` why an ID this app does not hold is refused (another app's, or unknown).
///
/// Storage is the authority after an eviction: a consumed record is a replay, an expired one
/// is deleted and refused. Any challenge found is written back consumed *before* its app,
/// ceremony and expiry are checked, so a refused request still spends it.
pub fn consume_challenge(
    memory: Result<Challenge, FioError>,
    stored: Option<StoredChallenge>,
    key: &str,
    public_id: &str,
    ceremony: Ceremony,
    now: u64,
    unknown: impl FnOnce() -> EdgeResult<EdgeError>,
) -> Decision<(Challenge, Option<FollowUp>)> {
    let (challenge, follow_up) = match memory {
        Ok(c) => (c, stored.and_then(|s| s.follow_up)),
        Err(FioError::UnknownChallenge) => match stored {
            Some(s) if s.consumed => {
                return Decision::no_writes(Err(FioError::ChallengeReplayed.into()))
            }
            Some(s) if s.challenge.is_expired(now) => {
                return Decision {
                    outcome: Err(FioError::SessionExpired.into()),
                    writes: vec![Write::Delete(key.to_owned())],
                }
            }
            Some(s) => (s.challenge, s.follow_up),
            None => return Decision::no_writes(unknown().and_then(Err)),
        },
        Err(e) => return Decision::no_writes(Err(e.into())),
    };
    let spent = StoredChallenge {
        challenge: challenge.clone(),
        consumed: true,
        evidence_claimed: false,
        follow_up: follow_up.clone(),
    };
    let writes = match Write::put(key, &spent) {
        Ok(w) => vec![w],
        Err(e) => return Decision::no_writes(Err(e)),
    };
    let outcome = challenge
        .validate(public_id, ceremony, now)
        .map(|()| (challenge, follow_up))
        .map_err(EdgeError::from);
    Decision { outcome, writes }
}

/// Reserving a live, unused challenge's one evidence measurement: memory first (it knows a
/// claim made since the last eviction), then storage, which survives evictions and decides.
pub fn claim_evidence(
    memory: Result<(), FioError>,
    stored: Option<StoredChallenge>,
    key: &str,
    public_id: &str,
    ceremony: Ceremony,
    now: u64,
    unknown: impl FnOnce() -> EdgeResult<EdgeError>,
) -> Decision<()> {
    match memory {
        Ok(()) | Err(FioError::UnknownChallenge) => {}
        Err(e) => return Decision::no_writes(Err(e.into())),
    }
    let Some(mut stored) = stored else {
        return Decision::no_writes(unknown().and_then(Err));
    };
    if stored.consumed || stored.evidence_claimed {
        return Decision::no_writes(Err(FioError::ChallengeReplayed.into()));
    }
    if let Err(e) = stored.challenge.validate(public_id, ceremony, now) {
        return Decision::no_writes(Err(e.into()));
    }
    stored.evidence_claimed = true;
    match Write::put(key, &stored) {
        Ok(w) => Decision {
            outcome: Ok(()),
            writes: vec![w],
        },
        Err(e) => Decision::no_writes(Err(e)),
    }
}

// ---- liveness -------------------------------------------------------------------------------

/// Active liveness: the prompted actions must have been observed, in order.
///
/// A follow-up challenge (`follow_up`: PIN prompt, PIN retry) carries no actions: the widget
/// resends the report of the ceremony's first request, whose evidence was checked then.
pub fn check_liveness(
    mode: LivenessMode,
    ev: &LivenessEvidence,
    challenge: &Challenge,
    follow_up: bool,
) -> EdgeResult<()> {
    if mode == LivenessMode::Off {
        return Ok(());
    }
    if !ev.passed || ev.score.is_nan() || ev.score < LIVENESS_THRESHOLD {
        return Err(FioError::PadAttack.into());
    }
    if mode == LivenessMode::Active && !follow_up && ev.actions != challenge.actions {
        return Err(FioError::PadAttack.into());
    }
    // The widget's own verdict is not trusted: re-run the shared decision on its cues. Without
    // edge re-verification these cues are still client claims (see README: tampered client).
    let Some(report) = &ev.report else {
        return Err(FioError::PadAttack.into());
    };
    let expected = if follow_up {
        &report.actions
    } else {
        &challenge.actions
    };
    match liveness::decide(mode, report, expected, &Thresholds::DEFAULT) {
        Verdict::Live => Ok(()),
        _ => Err(FioError::PadAttack.into()),
    }
}

// ---- enrollment -----------------------------------------------------------------------------

/// What PIN uniqueness says about an enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinUniqueness {
    /// The PIN is free (or uniqueness is not enforced).
    Free,
    /// In use: answer `UNIQUE_PIN_REQUIRED` with a follow-up challenge bound to this request.
    Retry(FollowUp),
    /// In use, and the ceremony has asked too often: `UNIQUE_PIN_REQUIRED` without a retry.
    Refused,
}

/// Each retry answers "is this PIN in use?": a ceremony gets a few, then must start over (with
/// fresh liveness) to ask again.
pub fn enroll_pin_uniqueness(
    enforce: bool,
    in_use: bool,
    follow_up: Option<&FollowUp>,
    digest: &str,
) -> PinUniqueness {
    if !(enforce && in_use) {
        return PinUniqueness::Free;
    }
    let next = match follow_up {
        None => Some(FollowUp::first(digest.to_owned(), Vec::new())),
        Some(f) => f.next(MAX_PIN_UNIQUENESS_RETRIES),
    };
    next.map_or(PinUniqueness::Refused, PinUniqueness::Retry)
}

/// An enrollment's writes besides its gallery row and the stats: the record and its PIN tag
/// (one commit with the row when the app's own object holds the gallery).
pub fn enroll_writes(record: &FaceRecord) -> EdgeResult<Vec<Write>> {
    let fid = &record.facial_id;
    Ok(vec![
        Write::put(format!("user:{fid}"), record)?,
        Write::mark(format!("pintag:{}:{fid}", record.pin_tag)),
    ])
}

// ---- authentication -------------------------------------------------------------------------

/// The matched facial ID and why a PIN is needed, if it is; `UNRECOGNIZED_FACE` otherwise.
pub fn pin_reason(
    outcome: MatchOutcome<String>,
    always_ask_pin: bool,
) -> EdgeResult<(String, Option<PinReason>)> {
    match outcome {
        MatchOutcome::Unrecognized => Err(FioError::Unrecognized.into()),
        MatchOutcome::Accepted { id } => Ok((id, always_ask_pin.then_some(PinReason::AlwaysAsk))),
        MatchOutcome::AcceptedNeedsPin { id, reason } => Ok((id, Some(reason))),
    }
}

/// A follow-up finishes its ceremony only: the PIN is checked against the candidates the first
/// request found (still enrolled), never against whoever matches now.
pub fn follow_up_candidates(
    follow_up: Option<&FollowUp>,
    found: Vec<String>,
) -> EdgeResult<Vec<String>> {
    match follow_up {
        None => Ok(found),
        Some(f) => {
            let kept = f.restrict(found);
            if kept.is_empty() {
                Err(ErrorCode::Unauthorized.into())
            } else {
                Ok(kept)
            }
        }
    }
}

/// What an authentication does about the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStep {
    /// Authenticated without one.
    NotNeeded,
    /// Ask for it (a follow-up challenge).
    Prompt(PinReason),
    /// Check the PIN sent.
    Check,
    /// A follow-up exists to take a PIN: one without is refused (`UNAUTHORIZED`).
    Refuse,
}

/// The PIN step, from whether one was sent, whether this request is a follow-up and why a PIN
/// is needed.
pub fn pin_step(pin_sent: bool, follow_up: bool, reason: Option<PinReason>) -> PinStep {
    match (pin_sent, reason) {
        (false, _) if follow_up => PinStep::Refuse,
        (false, None) => PinStep::NotNeeded,
        (false, Some(reason)) => PinStep::Prompt(reason),
        (true, _) => PinStep::Check,
    }
}

/// A candidate the PIN is checked against, as storage holds it.
#[derive(Debug, Clone)]
pub struct PinCandidate {
    /// Facial ID.
    pub fid: String,
    /// Its wrong-PIN record.
    pub attempts: PinAttempts,
    /// Its PIN hash and details (`None`: the record is gone).
    pub record: Option<(String, StoredDetails)>,
}

/// The outcome of checking a PIN.
#[derive(Debug)]
pub enum PinCheck {
    /// The client is locked out by wrong PINs across facial IDs: refused before any check.
    ClientLocked(FioError),
    /// The PIN is `fid`'s; the writes clear the attempts it had.
    Matched {
        /// The facial ID authenticated.
        fid: String,
        /// Clears its and the client's wrong-PIN records.
        writes: Vec<Write>,
    },
    /// Wrong for every unlocked candidate.
    Wrong {
        /// The failure recorded on each candidate tried and on the client.
        writes: Vec<Write>,
        /// A facial ID this failure locked (reported by webhook).
        newly_locked: Option<(String, StoredDetails)>,
        /// For the best match (or the client, when it locks now): retry or locked out.
        verdict: PinVerdict,
    },
}

/// Checks `peppered` against the candidates in order (locked ones are skipped, so a locked
/// facial ID cannot be guessed at through a look-alike). Wrong PINs count per client as well as
/// per facial ID.
pub fn check_pin(
    peppered: &str,
    candidates: Vec<PinCandidate>,
    best_id: &str,
    client_key: &str,
    mut client: PinAttempts,
    now: u64,
) -> EdgeResult<PinCheck> {
    if let Err(e) = client.check(now) {
        return Ok(PinCheck::ClientLocked(e));
    }
    let mut tried = Vec::new();
    for c in candidates {
        if c.attempts.is_locked(now) {
            continue;
        }
        let Some((pin_hash, details)) = c.record else {
            continue;
        };
        if verify_pin(peppered, &pin_hash)? {
            let mut writes = Vec::new();
            if c.attempts != PinAttempts::default() {
                writes.push(Write::Delete(format!("pinatt:{}", c.fid)));
            }
            if client != PinAttempts::default() {
                writes.push(Write::Delete(client_key.to_owned()));
            }
            return Ok(PinCheck::Matched { fid: c.fid, writes });
        }
        tried.push((c.fid, c.attempts, details));
    }
    let mut verdict = PinVerdict::LockedOut { until_ms: now };
    let mut writes = Vec::new();
    let mut newly_locked = None;
    for (fid, mut attempts, details) in tried {
        let v = attempts.record_failure(now);
        writes.push(Write::put(format!("pinatt:{fid}"), &attempts)?);
        if matches!(v, PinVerdict::LockedOut { .. }) {
            newly_locked.get_or_insert((fid.clone(), details));
        }
        if fid == best_id {
            verdict = v;
        }
    }
    let client_verdict = client.record_failure_of(now, MAX_CLIENT_PIN_ATTEMPTS);
    if matches!(client_verdict, PinVerdict::LockedOut { .. }) {
        verdict = client_verdict;
    }
    writes.push(Write::put(client_key, &client)?);
    Ok(PinCheck::Wrong {
        writes,
        newly_locked,
        verdict,
    })
}

// ---- REST -----------------------------------------------------------------------------------

/// A deletion's writes besides its gallery row and the stats: the record, its PIN tag and
/// attempts, and the tombstone that keeps the KV deletion owed until it is done.
pub fn deletion_writes(fid: &str, pin_tag: &str) -> Vec<Write> {
    vec![
        Write::mark(format!("kvdel:{fid}")),
        Write::Delete(format!("user:{fid}")),
        Write::Delete(format!("pintag:{pin_tag}:{fid}")),
        Write::Delete(format!("pinatt:{fid}")),
    ]
}

/// A PIN change's commit (`record` already carries the new hash and tag): the record, the new
/// tag, and the old tag and wrong-PIN record dropped.
pub fn set_pin_writes(record: &FaceRecord, old_tag: &str) -> EdgeResult<Vec<Write>> {
    let fid = &record.facial_id;
    let old_tag_key = format!("pintag:{old_tag}:{fid}");
    let new_tag_key = format!("pintag:{}:{fid}", record.pin_tag);
    let mut writes = vec![
        Write::put(format!("user:{fid}"), record)?,
        Write::mark(new_tag_key.clone()),
        Write::Delete(format!("pinatt:{fid}")),
    ];
    if old_tag_key != new_tag_key {
        writes.push(Write::Delete(old_tag_key));
    }
    Ok(writes)
}

/// A non-negative integer parameter.
fn usize_arg(p: &Option<Param>, name: &str) -> EdgeResult<Option<usize>> {
    match Param::text(p, name)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => s.trim().parse::<usize>().map(Some).map_err(|_| {
            EdgeError::bad_request(format!("`{name}` must be a non-negative integer"))
        }),
    }
}

/// One page of `/listfacialids` (oldest enrollment first, ties by facial ID) from the app's
/// first `offset + limit` faces and its total.
pub fn list_page(first: Vec<Listed>, total: usize, offset: usize, limit: usize) -> Value {
    let page: Vec<Value> = first
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|l| {
            json!({
                "facialId": l.f,
                "timestamp": format_iso8601_ms(l.c),
                "details": {"gender": l.d.gender, "age": l.d.age},
            })
        })
        .collect();
    json!({
        "status": 200,
        "total": total,
        "offset": offset,
        "limit": limit,
        "facialIds": page,
    })
}

/// `offset` and `limit` of `/listfacialids`, checked.
pub fn list_bounds(args: &ListArgs) -> EdgeResult<(usize, usize)> {
    let offset = usize_arg(&args.offset, "offset")?.unwrap_or(0);
    let limit = usize_arg(&args.limit, "limit")?.unwrap_or(DEFAULT_LIST_LIMIT);
    if limit > MAX_LIST_LIMIT {
        return Err(EdgeError::bad_request(format!(
            "`limit` is at most {MAX_LIST_LIMIT}"
        )));
    }
    Ok((offset, limit))
}

// ---- login tokens ---------------------------------------------------------------------------

/// Checks a login token for this app: its key (named by `kid`) must be one of the app's live
/// versions, its signature and claims valid, its ID a ceremony ID. `key` gives the app's signing
/// key of a version (the Durable Object's cache).
pub fn check_token(
    given: &str,
    public_id: &str,
    live: &[u32],
    key: impl FnOnce(u32) -> SigningKey,
    now: u64,
) -> Result<Claims, TokenError> {
    let kid = token::header_kid(given)?;
    // A well-formed token of another app names that app's key.
    let version = token::key_version(public_id, &kid).ok_or(TokenError::WrongAudience)?;
    if !live.contains(&version) {
        return Err(TokenError::BadSignature);
    }
    let claims = token::verify(given, key(version).verifying_key())?;
    token::check_claims(&claims, public_id, now / 1000)?;
    if !fio_core::protocol::is_valid_challenge_id(&claims.jti) {
        return Err(TokenError::Malformed);
    }
    Ok(claims)
}

/// Storage prefix of redeemed token IDs (`tok:{jti}` → expiry in Unix ms), pruned by the alarm.
pub const REDEEMED_PREFIX: &str = "tok:";

/// Redeems a checked token at most once: the write remembers its ID until it expires.
pub fn redeem(claims: &Claims, already_redeemed: bool) -> EdgeResult<Write> {
    if already_redeemed {
        return Err(EdgeError::Token(TokenError::Redeemed));
    }
    Write::put(
        format!("{REDEEMED_PREFIX}{}", claims.jti),
        &(claims.exp * 1000),
    )
}

#[cfg(test)]
mod tests;
