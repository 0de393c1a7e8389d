//! Native tests of the Durable Object's decisions.

use super::*;
use crate::app_config::{AppOptions, Previous, SigningKeys};
use fio_core::challenge::{new_challenge, LivenessAction, CHALLENGE_TTL_MS};
use fio_core::hash_pin;
use fio_core::liveness::LivenessReport;
use fio_core::pin::MAX_PIN_ATTEMPTS;
use fio_core::protocol::Gender;

const APP: &str = "fioa0001";
const KEY: &str = "fioa0001.secret";
const NOW: u64 = 1_700_000_000_000;

fn app(status: AppStatus, options: AppOptions) -> AppRecord {
    AppRecord {
        public_id: APP.into(),
        name: "Shop".into(),
        status,
        options,
        api_key_hash: crypto::hex(&crypto::sha256(KEY.as_bytes())),
        webhook_secret: "whsec_x".into(),
        created_at_ms: 0,
        signing: SigningKeys::default(),
        gallery_shards: 1,
        previous_api_key: None,
        previous_webhook_secret: None,
    }
}

fn active() -> AppRecord {
    app(AppStatus::Active, AppOptions::default())
}

fn widget_ctx(origin: Option<&str>, country: Option<&str>, ip: &str) -> CallContext {
    CallContext {
        client_ip: ip.into(),
        origin: origin.map(str::to_owned),
        country: country.map(str::to_owned),
        ..CallContext::internal(APP)
    }
}

fn rest_ctx(key: Option<&str>) -> CallContext {
    CallContext {
        api_key: key.map(str::to_owned),
        ..CallContext::internal(APP)
    }
}

/// The FACEIO error name a refusal renders as.
fn name<T: std::fmt::Debug>(r: EdgeResult<T>) -> String {
    r.expect_err("refused").reply().body.error
}

fn code(c: ErrorCode) -> String {
    c.name().to_owned()
}

// ---- admission ------------------------------------------------------------------------------

#[test]
fn widget_admission_refuses_unknown_and_inactive_apps_first() {
    let mut limiter = RateLimiter::default();
    let ctx = widget_ctx(Some("https://evil.example"), Some("XX"), "203.0.113.1");
    assert_eq!(
        name(admit_widget(None, &ctx, &mut limiter, NOW, true)),
        code(ErrorCode::Unauthorized)
    );
    let opts = AppOptions {
        allowed_origins: vec!["shop.example".into()],
        ..AppOptions::default()
    };
    for status in [AppStatus::Paused, AppStatus::Blocked] {
        // The app's status is judged before its origin rules.
        assert_eq!(
            name(admit_widget(
                Some(&app(status, opts.clone())),
                &ctx,
                &mut limiter,
                NOW,
                true
            )),
            code(ErrorCode::Unauthorized)
        );
    }
}

#[test]
fn widget_admission_checks_origin_then_country() {
    let mut limiter = RateLimiter::default();
    let config = app(
        AppStatus::Active,
        AppOptions {
            allowed_origins: vec!["shop.example".into()],
            allowed_countries: vec!["FR".into()],
            ..AppOptions::default()
        },
    );
    let admit = |ctx: &CallContext, limiter: &mut RateLimiter| {
        admit_widget(Some(&config), ctx, limiter, NOW, true)
    };
    let both_wrong = widget_ctx(Some("https://evil.example"), Some("US"), "203.0.113.1");
    assert_eq!(
        name(admit(&both_wrong, &mut limiter)),
        code(ErrorCode::ForbiddenOrigin)
    );
    let wrong_country = widget_ctx(Some("https://shop.example"), Some("US"), "203.0.113.1");
    assert_eq!(
        name(admit(&wrong_country, &mut limiter)),
        code(ErrorCode::ForbiddenCountry)
    );
    let fine = widget_ctx(Some("https://shop.example"), Some("FR"), "203.0.113.1");
    assert!(admit(&fine, &mut limiter).is_ok());
}

#[test]
fn widget_quotas_count_only_admitted_and_counted_requests() {
    let mut limiter = RateLimiter::default();
    let config = app(
        AppStatus::Active,
        AppOptions {
            allowed_origins: vec!["shop.example".into()],
            quota_per_minute: 2,
            ..AppOptions::default()
        },
    );
    let good = widget_ctx(Some("https://shop.example"), None, "203.0.113.1");
    let bad = widget_ctx(Some("https://evil.example"), None, "203.0.113.1");
    for _ in 0..5 {
        // Refused by origin: never reaches (or spends) the quota.
        assert!(admit_widget(Some(&config), &bad, &mut limiter, NOW, true).is_err());
        // Evidence claims are part of the request that follows: admitted, not counted.
        assert!(admit_widget(Some(&config), &good, &mut limiter, NOW, false).is_ok());
    }
    assert!(admit_widget(Some(&config), &good, &mut limiter, NOW, true).is_ok());
    assert!(admit_widget(Some(&config), &good, &mut limiter, NOW, true).is_ok());
    assert_eq!(
        name(admit_widget(Some(&config), &good, &mut limiter, NOW, true)),
        code(ErrorCode::TooManyRequests)
    );
}

#[test]
fn widget_quota_per_client_ip() {
    let mut limiter = RateLimiter::default();
    let config = app(
        AppStatus::Active,
        AppOptions {
            ip_quota_per_minute: 1,
            ..AppOptions::default()
        },
    );
    let one = widget_ctx(None, None, "203.0.113.1");
    let other = widget_ctx(None, None, "198.51.100.7");
    assert!(admit_widget(Some(&config), &one, &mut limiter, NOW, true).is_ok());
    assert_eq!(
        name(admit_widget(Some(&config), &one, &mut limiter, NOW, true)),
        code(ErrorCode::TooManyRequests)
    );
    assert!(admit_widget(Some(&config), &other, &mut limiter, NOW, true).is_ok());
}

#[test]
fn rest_admission_needs_the_api_key() {
    let mut limiter = RateLimiter::default();
    let config = active();
    for key in [None, Some("fioa0001.wrong"), Some("")] {
        assert_eq!(
            name(admit_rest(Some(&config), &rest_ctx(key), &mut limiter, NOW)),
            code(ErrorCode::Unauthorized),
            "{key:?}"
        );
    }
    assert_eq!(
        name(admit_rest(None, &rest_ctx(Some(KEY)), &mut limiter, NOW)),
        code(ErrorCode::Unauthorized)
    );
    assert!(admit_rest(Some(&config), &rest_ctx(Some(KEY)), &mut limiter, NOW).is_ok());
}

#[test]
fn rotated_api_key_works_until_its_grace_ends() {
    let mut limiter = RateLimiter::default();
    let mut config = active();
    config.api_key_hash = crypto::hex(&crypto::sha256(b"fioa0001.new"));
    config.previous_api_key = Some(Previous {
        value: crypto::hex(&crypto::sha256(KEY.as_bytes())),
        until_ms: NOW + 1000,
    });
    let old = rest_ctx(Some(KEY));
    assert!(admit_rest(Some(&config), &old, &mut limiter, NOW).is_ok());
    assert!(admit_rest(Some(&config), &old, &mut limiter, NOW + 1000).is_err());
    let new = rest_ctx(Some("fioa0001.new"));
    assert!(admit_rest(Some(&config), &new, &mut limiter, NOW + 1000).is_ok());
}

#[test]
fn paused_apps_keep_rest_blocked_apps_lose_it_and_rest_has_a_quota() {
    let mut limiter = RateLimiter::default();
    let ctx = rest_ctx(Some(KEY));
    let paused = app(AppStatus::Paused, AppOptions::default());
    assert!(admit_rest(Some(&paused), &ctx, &mut limiter, NOW).is_ok());
    let blocked = app(AppStatus::Blocked, AppOptions::default());
    assert!(admit_rest(Some(&blocked), &ctx, &mut limiter, NOW).is_err());
    let limited = app(
        AppStatus::Active,
        AppOptions {
            rest_quota_per_minute: 1,
            ..AppOptions::default()
        },
    );
    let mut limiter = RateLimiter::default();
    assert!(admit_rest(Some(&limited), &ctx, &mut limiter, NOW).is_ok());
    assert_eq!(
        name(admit_rest(Some(&limited), &ctx, &mut limiter, NOW)),
        code(ErrorCode::TooManyRequests)
    );
}

// ---- challenges -----------------------------------------------------------------------------

fn challenge(ceremony: Ceremony, actions: usize) -> Challenge {
    new_challenge(&[7; 32], APP, ceremony, NOW, CHALLENGE_TTL_MS, actions)
}

fn stored(c: &Challenge, consumed: bool, claimed: bool) -> StoredChallenge {
    StoredChallenge {
        challenge: c.clone(),
        consumed,
        evidence_claimed: claimed,
        follow_up: None,
    }
}

fn unknown() -> EdgeResult<EdgeError> {
    Ok(FioError::UnknownChallenge.into())
}

fn written(w: &Write) -> StoredChallenge {
    match w {
        Write::Put(_, v) => serde_json::from_str(v).unwrap(),
        Write::Delete(k) => panic!("deleted {k}"),
    }
}

#[test]
fn a_challenge_in_memory_is_spent_and_keeps_its_follow_up() {
    let c = challenge(Ceremony::Authenticate, 0);
    let mut s = stored(&c, false, true);
    s.follow_up = Some(FollowUp::first("d".into(), vec!["f".into()]));
    let d = consume_challenge(
        Ok(c.clone()),
        Some(s),
        "ch:x",
        APP,
        Ceremony::Authenticate,
        NOW,
        unknown,
    );
    let (got, follow_up) = d.outcome.unwrap();
    assert_eq!(got, c);
    assert_eq!(follow_up.unwrap().candidates, ["f"]);
    assert_eq!(d.writes.len(), 1);
    let spent = written(&d.writes[0]);
    assert!(spent.consumed && !spent.evidence_claimed && spent.follow_up.is_some());
}

#[test]
fn after_an_eviction_storage_decides() {
    let c = challenge(Ceremony::Enroll, 0);
    let miss = || Err(FioError::UnknownChallenge);
    let d = consume_challenge(
        miss(),
        Some(stored(&c, false, false)),
        "ch:x",
        APP,
        Ceremony::Enroll,
        NOW,
        unknown,
    );
    assert!(d.outcome.is_ok());
    assert!(written(&d.writes[0]).consumed);

    let d = consume_challenge(
        miss(),
        Some(stored(&c, true, false)),
        "ch:x",
        APP,
        Ceremony::Enroll,
        NOW,
        unknown,
    );
    assert_eq!(
        d.outcome.unwrap_err(),
        EdgeError::Fio(FioError::ChallengeReplayed)
    );
    assert!(d.writes.is_empty(), "a replay changes nothing");

    let late = NOW + CHALLENGE_TTL_MS + 1;
    let d = consume_challenge(
        miss(),
        Some(stored(&c, false, false)),
        "ch:x",
        APP,
        Ceremony::Enroll,
        late,
        unknown,
    );
    assert_eq!(name(d.outcome), code(ErrorCode::SessionExpired));
    assert_eq!(d.writes, [Write::Delete("ch:x".into())]);

    let other_app = || Ok(FioError::ChallengeMismatch("application").into());
    let d = consume_challenge(miss(), None, "ch:x", APP, Ceremony::Enroll, NOW, other_app);
    assert_eq!(
        d.outcome.unwrap_err(),
        EdgeError::Fio(FioError::ChallengeMismatch("application"))
    );
    assert!(d.writes.is_empty());
}

#[test]
fn memory_refusals_pass_through_without_writes() {
    for e in [FioError::ChallengeReplayed, FioError::SessionExpired] {
        let d = consume_challenge(
            Err(e.clone()),
            None,
            "ch:x",
            APP,
            Ceremony::Enroll,
            NOW,
            unknown,
        );
        assert_eq!(d.outcome.unwrap_err(), EdgeError::Fio(e));
        assert!(d.writes.is_empty());
    }
}

#[test]
fn a_challenge_of_the_wrong_ceremony_is_refused_but_spent() {
    let c = challenge(Ceremony::Enroll, 0);
    let d = consume_challenge(
        Ok(c),
        None,
        "ch:x",
        APP,
        Ceremony::Authenticate,
        NOW,
        unknown,
    );
    assert!(d.outcome.is_err());
    assert!(written(&d.writes[0]).consumed, "spent all the same");
}

#[test]
fn evidence_is_claimed_once_per_live_unused_challenge() {
    let c = challenge(Ceremony::Enroll, 2);
    let d = claim_evidence(
        Ok(()),
        Some(stored(&c, false, false)),
        "ch:x",
        APP,
        Ceremony::Enroll,
        NOW,
        unknown,
    );
    assert!(d.outcome.is_ok());
    let claimed = written(&d.writes[0]);
    assert!(claimed.evidence_claimed && !claimed.consumed);
    // After an eviction memory knows nothing; storage still refuses a second claim.
    let miss = Err(FioError::UnknownChallenge);
    let d = claim_evidence(
        miss.clone(),
        Some(claimed),
        "ch:x",
        APP,
        Ceremony::Enroll,
        NOW,
        unknown,
    );
    assert_eq!(
        d.outcome.unwrap_err(),
        EdgeError::Fio(FioError::ChallengeReplayed)
    );
    let d = claim_evidence(
        miss.clone(),
        Some(stored(&c, true, false)),
        "ch:x",
        APP,
        Ceremony::Enroll,
        NOW,
        unknown,
    );
    assert_eq!(
        d.outcome.unwrap_err(),
        EdgeError::Fio(FioError::ChallengeReplayed)
    );
    let d = claim_evidence(miss, None, "ch:x", APP, Ceremony::Enroll, NOW, unknown);
    assert_eq!(
        d.outcome.unwrap_err(),
        EdgeError::Fio(FioError::UnknownChallenge)
    );
    let d = claim_evidence(
        Ok(()),
        Some(stored(&c, false, false)),
        "ch:x",
        APP,
        Ceremony::Authenticate,
        NOW,
        unknown,
    );
    assert!(
        d.outcome.is_err() && d.writes.is_empty(),
        "wrong ceremony: nothing claimed"
    );
    let d = claim_evidence(
        Err(FioError::ChallengeReplayed),
        None,
        "ch:x",
        APP,
        Ceremony::Enroll,
        NOW,
        unknown,
    );
    assert_eq!(
        d.outcome.unwrap_err(),
        EdgeError::Fio(FioError::ChallengeReplayed)
    );
}

// ---- liveness -------------------------------------------------------------------------------

fn live_report(actions: Vec<LivenessAction>) -> LivenessReport {
    LivenessReport {
        frames: 30,
        duration_ms: 6_000.0,
        passive: Some(0.8),
        pattern: Some(1.1),
        blinks: 2,
        yaw_spread_deg: 25.0,
        pitch_spread_deg: 8.0,
        min_similarity: Some(0.8),
        actions,
        failure: None,
    }
}

fn evidence(
    score: f32,
    passed: bool,
    actions: Vec<LivenessAction>,
    report: bool,
) -> LivenessEvidence {
    LivenessEvidence {
        score,
        passed,
        actions: actions.clone(),
        report: report.then(|| live_report(actions)),
        evidence: None,
    }
}

#[test]
fn liveness_off_accepts_anything() {
    let c = challenge(Ceremony::Enroll, 2);
    let ev = evidence(0.0, false, vec![], false);
    assert!(check_liveness(LivenessMode::Off, &ev, &c, false).is_ok());
}

#[test]
fn passive_liveness_needs_a_passing_score_and_a_report() {
    let c = challenge(Ceremony::Enroll, 0);
    let pad = code(ErrorCode::PadAttack);
    assert!(check_liveness(
        LivenessMode::Passive,
        &evidence(0.9, true, vec![], true),
        &c,
        false
    )
    .is_ok());
    for (ev, why) in [
        (evidence(0.9, false, vec![], true), "widget said not passed"),
        (
            evidence(LIVENESS_THRESHOLD - 0.01, true, vec![], true),
            "score below threshold",
        ),
        (evidence(f32::NAN, true, vec![], true), "NaN score"),
        (
            evidence(0.9, true, vec![], false),
            "no report to re-decide on",
        ),
    ] {
        assert_eq!(
            name(check_liveness(LivenessMode::Passive, &ev, &c, false)),
            pad,
            "{why}"
        );
    }
    let mut no_blink = evidence(0.9, true, vec![], true);
    no_blink.report.as_mut().unwrap().blinks = 0;
    assert_eq!(
        name(check_liveness(LivenessMode::Passive, &no_blink, &c, false)),
        pad,
        "the report is re-decided, not trusted"
    );
}

#[test]
fn active_liveness_needs_the_challenges_actions_in_order() {
    let c = challenge(Ceremony::Authenticate, 2);
    let asked = c.actions.clone();
    assert!(check_liveness(
        LivenessMode::Active,
        &evidence(0.9, true, asked.clone(), true),
        &c,
        false
    )
    .is_ok());
    let reversed: Vec<_> = asked.iter().rev().copied().collect();
    assert_ne!(reversed, asked);
    assert!(check_liveness(
        LivenessMode::Active,
        &evidence(0.9, true, reversed, true),
        &c,
        false
    )
    .is_err());
    let mut claimed_only = evidence(0.9, true, asked.clone(), true);
    claimed_only.report.as_mut().unwrap().actions = vec![];
    assert!(
        check_liveness(LivenessMode::Active, &claimed_only, &c, false).is_err(),
        "the report's actions must match too"
    );
}

#[test]
fn a_follow_up_rechecks_the_first_requests_report_not_its_own_empty_actions() {
    let first = challenge(Ceremony::Authenticate, 2);
    let follow_up = challenge(Ceremony::Authenticate, 0);
    let resent = evidence(0.9, true, first.actions.clone(), true);
    assert!(check_liveness(LivenessMode::Active, &resent, &follow_up, true).is_ok());
    assert!(
        check_liveness(LivenessMode::Active, &resent, &follow_up, false).is_err(),
        "not a follow-up: the actions must be the (empty) challenge's"
    );
}

// ---- enrollment -----------------------------------------------------------------------------

#[test]
fn pin_uniqueness_retries_a_few_times_then_refuses() {
    assert_eq!(
        enroll_pin_uniqueness(false, true, None, "d"),
        PinUniqueness::Free
    );
    assert_eq!(
        enroll_pin_uniqueness(true, false, None, "d"),
        PinUniqueness::Free
    );
    let PinUniqueness::Retry(first) = enroll_pin_uniqueness(true, true, None, "d") else {
        panic!("a PIN in use gets a retry")
    };
    assert_eq!(first, FollowUp::first("d".into(), Vec::new()));
    let mut f = first;
    for _ in 1..MAX_PIN_UNIQUENESS_RETRIES {
        match enroll_pin_uniqueness(true, true, Some(&f), "ignored: the binding is kept") {
            PinUniqueness::Retry(next) => {
                assert_eq!((next.digest.as_str(), next.round), ("d", f.round + 1));
                f = next;
            }
            other => panic!("round {}: {other:?}", f.round),
        }
    }
    assert_eq!(
        enroll_pin_uniqueness(true, true, Some(&f), "d"),
        PinUniqueness::Refused
    );
}

fn details() -> StoredDetails {
    StoredDetails {
        gender: Gender::Female,
        age: 30,
    }
}

fn record(fid: &str, pin: &str) -> FaceRecord {
    FaceRecord {
        public_id: APP.into(),
        facial_id: fid.into(),
        payload: json!({"plan": "pro"}),
        pin_hash: hash_pin(pin, &[1; 16]),
        pin_tag: format!("tag-{pin}"),
        details: details(),
        created_at_ms: NOW,
        updated_at_ms: NOW,
        template: "sealed".into(),
    }
}

fn keys(writes: &[Write]) -> Vec<String> {
    writes
        .iter()
        .map(|w| match w {
            Write::Put(k, _) => format!("put {k}"),
            Write::Delete(k) => format!("delete {k}"),
        })
        .collect()
}

#[test]
fn an_enrollment_writes_the_record_and_its_pin_tag() {
    let writes = enroll_writes(&record("b", "1234")).unwrap();
    assert_eq!(keys(&writes), ["put user:b", "put pintag:tag-1234:b"]);
}

// ---- authentication -------------------------------------------------------------------------

#[test]
fn match_outcomes_and_pin_reasons() {
    assert_eq!(
        name(pin_reason(MatchOutcome::Unrecognized, false)),
        code(ErrorCode::UnrecognizedFace)
    );
    let accepted = || MatchOutcome::Accepted { id: "a".to_owned() };
    assert_eq!(pin_reason(accepted(), false).unwrap(), ("a".into(), None));
    assert_eq!(
        pin_reason(accepted(), true).unwrap(),
        ("a".into(), Some(PinReason::AlwaysAsk))
    );
    let close = MatchOutcome::AcceptedNeedsPin {
        id: "a".to_owned(),
        reason: PinReason::Collision,
    };
    assert_eq!(
        pin_reason(close, false).unwrap(),
        ("a".into(), Some(PinReason::Collision))
    );
}

#[test]
fn a_follow_up_only_checks_the_candidates_its_first_request_found() {
    let found = vec!["a".to_owned(), "b".to_owned()];
    assert_eq!(follow_up_candidates(None, found.clone()).unwrap(), found);
    let f = FollowUp::first("d".into(), vec!["b".into(), "z".into()]);
    assert_eq!(follow_up_candidates(Some(&f), found).unwrap(), ["b"]);
    assert_eq!(
        name(follow_up_candidates(Some(&f), vec!["a".into()])),
        code(ErrorCode::Unauthorized)
    );
}

#[test]
fn pin_steps() {
    let r = Some(PinReason::NearThreshold);
    assert_eq!(pin_step(false, false, None), PinStep::NotNeeded);
    assert_eq!(
        pin_step(false, false, r),
        PinStep::Prompt(PinReason::NearThreshold)
    );
    assert_eq!(pin_step(false, true, None), PinStep::Refuse);
    assert_eq!(pin_step(false, true, r), PinStep::Refuse);
    assert_eq!(pin_step(true, false, None), PinStep::Check);
    assert_eq!(pin_step(true, true, r), PinStep::Check);
}

fn candidate(fid: &str, pin: &str, failures: u8) -> PinCandidate {
    PinCandidate {
        fid: fid.into(),
        attempts: PinAttempts {
            failures,
            ..PinAttempts::default()
        },
        record: Some((record(fid, pin).pin_hash, details())),
    }
}

const CLIENT: &str = "pinclient:203.0.113.1";

#[test]
fn the_right_pin_authenticates_and_clears_the_counters() {
    let client = PinAttempts {
        failures: 2,
        ..PinAttempts::default()
    };
    let cands = vec![candidate("a", "1111", 0), candidate("b", "2222", 1)];
    match check_pin("2222", cands, "a", CLIENT, client, NOW).unwrap() {
        PinCheck::Matched { fid, writes } => {
            assert_eq!(fid, "b", "a look-alike's PIN picks the look-alike");
            assert_eq!(
                keys(&writes),
                ["delete pinatt:b", format!("delete {CLIENT}").as_str()]
            );
        }
        other => panic!("{other:?}"),
    }
    match check_pin(
        "1111",
        vec![candidate("a", "1111", 0)],
        "a",
        CLIENT,
        PinAttempts::default(),
        NOW,
    )
    .unwrap()
    {
        PinCheck::Matched { fid, writes } => assert_eq!((fid.as_str(), writes.len()), ("a", 0)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_wrong_pin_counts_on_every_candidate_tried_and_on_the_client() {
    let cands = vec![candidate("a", "1111", 0), candidate("b", "2222", 0)];
    match check_pin("9999", cands, "a", CLIENT, PinAttempts::default(), NOW).unwrap() {
        PinCheck::Wrong {
            writes,
            newly_locked,
            verdict,
        } => {
            assert_eq!(
                keys(&writes),
                [
                    "put pinatt:a",
                    "put pinatt:b",
                    format!("put {CLIENT}").as_str()
                ]
            );
            assert_eq!(
                verdict,
                PinVerdict::Retry {
                    remaining: MAX_PIN_ATTEMPTS - 1
                }
            );
            assert!(newly_locked.is_none());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_last_wrong_pin_locks_the_facial_id_and_reports_it() {
    let cands = vec![candidate("a", "1111", MAX_PIN_ATTEMPTS - 1)];
    match check_pin("9999", cands, "a", CLIENT, PinAttempts::default(), NOW).unwrap() {
        PinCheck::Wrong {
            writes,
            newly_locked,
            verdict,
        } => {
            assert!(matches!(verdict, PinVerdict::LockedOut { until_ms } if until_ms > NOW));
            assert_eq!(newly_locked.map(|(f, _)| f).as_deref(), Some("a"));
            let Write::Put(_, v) = &writes[0] else {
                unreachable!()
            };
            let stored: PinAttempts = serde_json::from_str(v).unwrap();
            assert!(stored.is_locked(NOW));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn locked_candidates_and_clients_are_not_checked() {
    let mut locked = candidate("a", "1111", 0);
    locked.attempts.locked_until_ms = Some(NOW + 60_000);
    // The right PIN of a locked facial ID does not open it.
    match check_pin(
        "1111",
        vec![locked.clone()],
        "a",
        CLIENT,
        PinAttempts::default(),
        NOW,
    )
    .unwrap()
    {
        PinCheck::Wrong {
            writes, verdict, ..
        } => {
            assert_eq!(
                keys(&writes),
                [format!("put {CLIENT}")],
                "only the client's failure"
            );
            assert!(matches!(verdict, PinVerdict::LockedOut { .. }));
        }
        other => panic!("{other:?}"),
    }
    // …nor does it shield a look-alike, whose PIN still works.
    let cands = vec![locked, candidate("b", "2222", 0)];
    assert!(matches!(
        check_pin("2222", cands, "a", CLIENT, PinAttempts::default(), NOW).unwrap(),
        PinCheck::Matched { fid, .. } if fid == "b"
    ));
    let client = PinAttempts {
        locked_until_ms: Some(NOW + 1),
        ..PinAttempts::default()
    };
    assert!(matches!(
        check_pin(
            "1111",
            vec![candidate("a", "1111", 0)],
            "a",
            CLIENT,
            client,
            NOW
        )
        .unwrap(),
        PinCheck::ClientLocked(FioError::PinLockedOut { .. })
    ));
}

#[test]
fn a_client_locks_after_its_own_limit_across_facial_ids() {
    let client = PinAttempts {
        failures: MAX_CLIENT_PIN_ATTEMPTS - 1,
        ..PinAttempts::default()
    };
    let mut gone = candidate("b", "2222", 0);
    gone.record = None;
    match check_pin(
        "9999",
        vec![candidate("a", "1111", 0), gone],
        "a",
        CLIENT,
        client,
        NOW,
    )
    .unwrap()
    {
        PinCheck::Wrong {
            writes, verdict, ..
        } => {
            assert!(
                matches!(verdict, PinVerdict::LockedOut { .. }),
                "the client's lockout wins"
            );
            assert_eq!(
                keys(&writes),
                ["put pinatt:a", format!("put {CLIENT}").as_str()],
                "a deleted record is skipped"
            );
        }
        other => panic!("{other:?}"),
    }
}

// ---- REST -----------------------------------------------------------------------------------

#[test]
fn a_deletion_leaves_a_kv_tombstone() {
    let writes = deletion_writes("b", "tag");
    assert_eq!(
        keys(&writes),
        [
            "put kvdel:b",
            "delete user:b",
            "delete pintag:tag:b",
            "delete pinatt:b",
        ]
    );
}

#[test]
fn a_pin_change_moves_the_uniqueness_tag() {
    let r = record("a", "4321");
    assert_eq!(
        keys(&set_pin_writes(&r, "tag-1234").unwrap()),
        [
            "put user:a",
            "put pintag:tag-4321:a",
            "delete pinatt:a",
            "delete pintag:tag-1234:a"
        ]
    );
    assert_eq!(
        keys(&set_pin_writes(&r, "tag-4321").unwrap()),
        ["put user:a", "put pintag:tag-4321:a", "delete pinatt:a"],
        "same PIN: the tag stays"
    );
}

#[test]
fn listing_pages_oldest_first() {
    let listed = |f: &str, c| Listed {
        f: f.into(),
        c,
        d: details(),
    };
    let first = || vec![listed("a", 1), listed("b", 1), listed("c", 3)];
    let text = |s: &str| Some(Param::Text(s.into()));
    let (offset, limit) = list_bounds(&ListArgs::default()).unwrap();
    let page = list_page(first(), 3, offset, limit);
    let ids: Vec<&str> = page["facialIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["facialId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(
        (page["total"].clone(), page["limit"].clone()),
        (json!(3), json!(DEFAULT_LIST_LIMIT))
    );
    let args = ListArgs {
        offset: text(" 1 "),
        limit: text("1"),
    };
    let (offset, limit) = list_bounds(&args).unwrap();
    assert_eq!((offset, limit), (1, 1));
    let page = list_page(first(), 3, offset, limit);
    assert_eq!(page["facialIds"][0]["facialId"], "b");
    assert_eq!(page["facialIds"].as_array().unwrap().len(), 1);
    for (offset, limit) in [
        (text("-1"), None),
        (None, text("1001")),
        (Some(Param::NotText), None),
    ] {
        let args = ListArgs { offset, limit };
        assert_eq!(list_bounds(&args).unwrap_err().reply().status, 400);
    }
}

// ---- login tokens ---------------------------------------------------------------------------

const MASTER: &[u8] = b"test master key";

fn token_for(public_id: &str, version: u32, exp: u64) -> (String, Claims) {
    let claims = Claims {
        iss: "https://edge.example".into(),
        aud: public_id.into(),
        sub: "a5b1c2d3-0000-4000-8000-000000000000".into(),
        iat: NOW / 1000,
        exp,
        jti: "ab".repeat(16),
        ceremony: Ceremony::Authenticate,
        nonce: None,
    };
    let key = token::signing_key(MASTER, public_id, version);
    (
        token::sign(&key, &token::key_id(public_id, version), &claims),
        claims,
    )
}

#[test]
fn tokens_verify_only_for_their_app_live_key_and_lifetime() {
    let exp = NOW / 1000 + 60;
    let (t, claims) = token_for(APP, 1, exp);
    let key = |v| token::signing_key(MASTER, APP, v);
    assert_eq!(check_token(&t, APP, &[1], key, NOW).unwrap(), claims);
    let (other, _) = token_for("fioa0002", 1, exp);
    assert_eq!(
        check_token(&other, APP, &[1], key, NOW),
        Err(TokenError::WrongAudience)
    );
    assert_eq!(
        check_token(&t, APP, &[2], key, NOW),
        Err(TokenError::BadSignature),
        "a retired key past its last token"
    );
    assert_eq!(
        check_token(
            &t,
            APP,
            &[1],
            |v| token::signing_key(b"another master", APP, v),
            NOW
        ),
        Err(TokenError::BadSignature)
    );
    assert_eq!(
        check_token(&t, APP, &[1], key, exp * 1000),
        Err(TokenError::Expired)
    );
    assert_eq!(
        check_token("not a token", APP, &[1], key, NOW),
        Err(TokenError::Malformed)
    );
}

#[test]
fn a_token_is_redeemed_once() {
    let (_, claims) = token_for(APP, 1, NOW / 1000 + 60);
    let w = redeem(&claims, false).unwrap();
    assert_eq!(
        w,
        Write::Put(
            format!("tok:{}", claims.jti),
            (claims.exp * 1000).to_string()
        )
    );
    let again = redeem(&claims, true).unwrap_err();
    assert_eq!(again, EdgeError::Token(TokenError::Redeemed));
    assert_eq!(again.reply().status, 409);
}
