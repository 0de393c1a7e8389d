//! Single-use ceremony challenges and the in-memory ledger that enforces single use.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::bytes::hex;
use crate::error::Error;

/// How long a challenge stays valid: 5 minutes covers permission prompt (27 s), intro (12 s),
/// capture (27 s idle) and reply (40 s) with room for a PIN prompt, while keeping the replay
/// window short. The 10-minute terms screen runs before `/start`, so it is not included.
pub const CHALLENGE_TTL_MS: u64 = 5 * 60 * 1000;

/// Most liveness actions a challenge can carry (one random byte each).
pub const MAX_ACTIONS: usize = 16;

/// Prompts per challenge in `active` liveness mode, used by the edge when it issues challenges
/// and by the liveness bench when it draws them. A screen replay of a real session that turns
/// and nods on its own passed 1.1 % of random 3-action challenges in the liveness bench and
/// none of 4-action ones (~2 s per prompt for a person).
pub const ACTIVE_ACTIONS_PER_CHALLENGE: usize = 4;

/// Open (issued, not yet used) challenges a ledger holds before refusing new ones: bounds
/// Durable Object memory against a flood of sessions. Used challenges do not count: they are
/// evicted when room is needed (their use is recorded in storage, which answers a replay), so
/// an app's ceremony rate is not capped at this many per [`CHALLENGE_TTL_MS`].
pub const MAX_LIVE_CHALLENGES: usize = 10_000;

/// Which FACEIO ceremony a challenge authorises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Ceremony {
    /// `enroll()` and its aliases.
    Enroll,
    /// `authenticate()` and its aliases.
    Authenticate,
}

/// An active-liveness prompt the user must perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LivenessAction {
    /// Turn the head to the left.
    TurnLeft,
    /// Turn the head to the right.
    TurnRight,
    /// Blink.
    Blink,
    /// Look up.
    LookUp,
    /// Move closer to the camera.
    ComeCloser,
}

impl LivenessAction {
    /// Every action, in a fixed order used for random selection.
    pub const ALL: [LivenessAction; 5] = [
        Self::TurnLeft,
        Self::TurnRight,
        Self::Blink,
        Self::LookUp,
        Self::ComeCloser,
    ];
}

/// A server-issued, single-use permission to run one ceremony for one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Challenge {
    /// 32 lowercase hex chars (128 random bits).
    pub id: String,
    /// Application public ID.
    pub app_id: String,
    /// Ceremony it authorises.
    pub ceremony: Ceremony,
    /// Unix ms when issued.
    pub issued_at_ms: u64,
    /// Unix ms from which it is expired (exclusive end of validity).
    pub expires_at_ms: u64,
    /// Active-liveness prompts, in order.
    pub actions: Vec<LivenessAction>,
    /// What the site's login token for this ceremony carries (see [`Lineage`]).
    #[serde(default, flatten)]
    pub lineage: Lineage,
}

/// Which ceremony a challenge belongs to and the site's nonce for it: a follow-up challenge
/// (PIN prompt, retries) inherits both from the challenge it continues, so the ceremony's one
/// login token names the first challenge as its `jti` and carries the nonce the site passed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lineage {
    /// The ceremony's first challenge; `None` on that first challenge itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceremony_id: Option<String>,
    /// The site's nonce ([`crate::protocol::validate_nonce`]), when it passed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

impl Lineage {
    /// A new ceremony, with the site's nonce.
    pub fn start(nonce: Option<String>) -> Self {
        Self {
            ceremony_id: None,
            nonce,
        }
    }

    /// The lineage of a challenge that continues `parent`'s ceremony.
    pub fn continuing(parent: &Challenge) -> Self {
        Self {
            ceremony_id: Some(parent.ceremony_id().to_owned()),
            nonce: parent.lineage.nonce.clone(),
        }
    }
}

/// Random action sequence without immediate repeats (repeats make the prompt feel broken).
///
/// The first pick has a 1/256 bias from `% 5`; irrelevant for choosing prompts.
fn pick_actions(bytes: &[u8], count: usize) -> Vec<LivenessAction> {
    let mut out: Vec<LivenessAction> = Vec::with_capacity(count.min(MAX_ACTIONS));
    for &b in bytes.iter().take(count.min(MAX_ACTIONS)) {
        let idx = match out.last() {
            None => usize::from(b) % 5,
            // Skip 1..=4 places from the previous action: never the same one.
            Some(&prev) => (prev as usize + 1 + usize::from(b) % 4) % 5,
        };
        out.push(LivenessAction::ALL[idx]);
    }
    out
}

/// Builds a challenge: bytes 0..16 of `random` form the id, bytes 16..32 pick the actions.
///
/// `random` must come from a CSPRNG; `action_count` is capped at [`MAX_ACTIONS`].
pub fn new_challenge(
    random: &[u8; 32],
    app_id: &str,
    ceremony: Ceremony,
    now_ms: u64,
    ttl_ms: u64,
    action_count: usize,
) -> Challenge {
    Challenge {
        id: hex(&random[..16]),
        app_id: app_id.to_owned(),
        ceremony,
        issued_at_ms: now_ms,
        expires_at_ms: now_ms.saturating_add(ttl_ms),
        actions: pick_actions(&random[16..], action_count),
        lineage: Lineage::default(),
    }
}

impl Challenge {
    /// The ID of the ceremony's first challenge: the `jti` of the ceremony's login token.
    pub fn ceremony_id(&self) -> &str {
        self.lineage.ceremony_id.as_deref().unwrap_or(&self.id)
    }

    /// True from `expires_at_ms` on.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_at_ms
    }

    /// Checks the challenge was issued for this app and ceremony and has not expired.
    pub fn validate(&self, app_id: &str, ceremony: Ceremony, now_ms: u64) -> Result<(), Error> {
        if self.app_id != app_id {
            return Err(Error::ChallengeMismatch("application"));
        }
        if self.ceremony != ceremony {
            return Err(Error::ChallengeMismatch("ceremony"));
        }
        if self.is_expired(now_ms) {
            return Err(Error::SessionExpired);
        }
        Ok(())
    }
}

/// Most UNIQUE_PIN_REQUIRED retries one enrollment ceremony gets: each retry tells the client
/// whether a PIN is in use, so an unbounded chain would be an oracle for every PIN of the app.
pub const MAX_PIN_UNIQUENESS_RETRIES: u8 = 3;

/// What a follow-up challenge (PIN prompt, wrong-PIN retry, UNIQUE_PIN_REQUIRED retry)
/// continues. Follow-ups carry no liveness actions and are not re-verified: the ceremony's
/// evidence was checked on its first request, so the follow-up may only finish that ceremony,
/// with the same face data, and never another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowUp {
    /// [`templates_digest`] of the probe (authenticate) or of the enrollment templates.
    pub digest: String,
    /// Facial IDs the PIN may be checked against (authenticate; empty for enroll).
    #[serde(default)]
    pub candidates: Vec<String>,
    /// Follow-ups this ceremony has had so far, this one included.
    pub round: u8,
}

impl FollowUp {
    /// The first follow-up of a ceremony.
    pub fn first(digest: String, candidates: Vec<String>) -> Self {
        Self {
            digest,
            candidates,
            round: 1,
        }
    }

    /// The follow-up after this one, with the same binding, or `None` past `max` rounds.
    pub fn next(&self, max: u8) -> Option<Self> {
        (self.round < max).then(|| Self {
            round: self.round + 1,
            ..self.clone()
        })
    }

    /// Refuses face data other than what the ceremony's first request carried (`PAD_ATTACK`:
    /// the evidence that was verified showed someone else).
    pub fn check_digest(&self, digest: &str) -> Result<(), Error> {
        if self.digest == digest {
            Ok(())
        } else {
            Err(Error::PadAttack)
        }
    }

    /// The candidates of `found` the first request also found: a PIN entered under a
    /// follow-up is only ever checked against the faces the verified request matched.
    pub fn restrict(&self, found: Vec<String>) -> Vec<String> {
        found
            .into_iter()
            .filter(|c| self.candidates.contains(c))
            .collect()
    }
}

/// SHA-256 (hex) over the templates' bytes, each length-prefixed: binds a follow-up to the
/// exact face data of its ceremony.
pub fn templates_digest(templates: &[crate::Template]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for t in templates {
        let b = t.to_bytes();
        h.update((b.len() as u64).to_le_bytes());
        h.update(&b);
    }
    hex(&h.finalize())
}

/// A challenge plus whether it has been used.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    challenge: Challenge,
    consumed: bool,
    evidence_claimed: bool,
}

/// Challenges issued and not yet expired; lives in the edge's Durable Object memory.
///
/// Consumed entries are kept until expiry, or until room is needed for a new challenge, so a
/// replay reads "already used"; once gone, the caller's storage (where every use is recorded)
/// answers for them, and without it a replay reads "unknown", which is rejected just the same.
#[derive(Debug, Clone, Default)]
pub struct ChallengeLedger {
    entries: HashMap<String, Entry>,
}

impl ChallengeLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries held (consumed or not), including expired ones not yet pruned.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entries are held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records a newly issued challenge; prunes first, and refuses when the ledger is full.
    pub fn insert(&mut self, challenge: Challenge, now_ms: u64) -> Result<(), Error> {
        if self.entries.len() >= MAX_LIVE_CHALLENGES {
            self.prune(now_ms);
        }
        if self.entries.len() >= MAX_LIVE_CHALLENGES {
            // Only open challenges count against the bound: the edge measured a sustained
            // 10,000 / 5 min = 33 ceremonies/s per app when used ones counted too.
            self.entries.retain(|_, e| !e.consumed);
            if self.entries.len() >= MAX_LIVE_CHALLENGES {
                return Err(Error::Fio(crate::ErrorCode::TooManyRequests));
            }
        }
        if self.entries.contains_key(&challenge.id) {
            // Overwriting would reset `consumed` and reopen a replay.
            return Err(Error::Internal("duplicate challenge id".into()));
        }
        let entry = Entry {
            challenge,
            consumed: false,
            evidence_claimed: false,
        };
        self.entries.insert(entry.challenge.id.clone(), entry);
        Ok(())
    }

    /// Marks a challenge used and returns it; the caller then checks app and ceremony with
    /// [`Challenge::validate`]. Unknown → `UnknownChallenge`, reused → `ChallengeReplayed`,
    /// expired → `SessionExpired`.
    pub fn consume(&mut self, id: &str, now_ms: u64) -> Result<Challenge, Error> {
        let entry = self.entries.get_mut(id).ok_or(Error::UnknownChallenge)?;
        if entry.challenge.is_expired(now_ms) {
            self.entries.remove(id);
            return Err(Error::SessionExpired);
        }
        if entry.consumed {
            return Err(Error::ChallengeReplayed);
        }
        entry.consumed = true;
        Ok(entry.challenge.clone())
    }

    /// Reserves a live, unused challenge's one evidence measurement (edge re-verification runs
    /// the face models on the crops before the challenge is consumed, so without this a captured
    /// request could be replayed for inference until then). Errors as [`Self::consume`]; a
    /// second claim is `ChallengeReplayed`.
    pub fn claim_evidence(&mut self, id: &str, now_ms: u64) -> Result<(), Error> {
        let entry = self.entries.get_mut(id).ok_or(Error::UnknownChallenge)?;
        if entry.challenge.is_expired(now_ms) {
            self.entries.remove(id);
            return Err(Error::SessionExpired);
        }
        if entry.consumed || entry.evidence_claimed {
            return Err(Error::ChallengeReplayed);
        }
        entry.evidence_claimed = true;
        Ok(())
    }

    /// Drops expired entries; returns how many were removed.
    pub fn prune(&mut self, now_ms: u64) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, e| !e.challenge.is_expired(now_ms));
        before - self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_ups_are_bound_and_capped() {
        let f = FollowUp::first("d1".into(), vec!["a".into(), "b".into()]);
        assert!(f.check_digest("d1").is_ok());
        assert_eq!(f.check_digest("d2"), Err(Error::PadAttack));
        assert_eq!(
            f.restrict(vec!["c".into(), "b".into()]),
            vec!["b".to_string()]
        );
        assert!(f.restrict(vec!["c".into()]).is_empty());
        let mut cur = f.clone();
        let mut rounds = 1;
        while let Some(n) = cur.next(MAX_PIN_UNIQUENESS_RETRIES) {
            assert_eq!((n.digest.as_str(), n.candidates.len()), ("d1", 2));
            cur = n;
            rounds += 1;
        }
        assert_eq!(rounds, MAX_PIN_UNIQUENESS_RETRIES);
    }

    #[test]
    fn digest_depends_on_every_template_and_order() {
        let a = crate::Template::from_embedding(
            &crate::Embedding::new(vec![1.0; crate::EMBEDDING_DIM]).unwrap(),
        );
        let mut v = vec![0.0; crate::EMBEDDING_DIM];
        v[0] = 1.0;
        let b = crate::Template::from_embedding(&crate::Embedding::new(v).unwrap());
        let ab = templates_digest(&[a.clone(), b.clone()]);
        assert_eq!(ab.len(), 64);
        assert_ne!(ab, templates_digest(&[b.clone(), a.clone()]));
        assert_ne!(ab, templates_digest(std::slice::from_ref(&a)));
        assert_eq!(ab, templates_digest(&[a, b]));
    }

    fn random(seed: u8) -> [u8; 32] {
        std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(seed))
    }

    #[test]
    fn new_challenge_uses_random_bytes() {
        let r = random(1);
        let c = new_challenge(&r, "app1", Ceremony::Enroll, 1_000, CHALLENGE_TTL_MS, 3);
        assert_eq!(c.id, hex(&r[..16]));
        assert_eq!(c.id.len(), 32);
        assert!(c
            .id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(c.issued_at_ms, 1_000);
        assert_eq!(c.expires_at_ms, 1_000 + CHALLENGE_TTL_MS);
        assert_eq!(c.actions.len(), 3);
        assert_ne!(
            new_challenge(&random(2), "app1", Ceremony::Enroll, 0, 1, 0).id,
            c.id
        );
        assert_eq!(hex(&[0x00, 0xff, 0x1a]), "00ff1a");
    }

    #[test]
    fn actions_never_repeat_back_to_back_and_vary() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0..=255u8 {
            let c = new_challenge(&random(seed), "a", Ceremony::Authenticate, 0, 1, 100);
            assert_eq!(c.actions.len(), MAX_ACTIONS);
            assert!(c.actions.windows(2).all(|w| w[0] != w[1]));
            seen.extend(c.actions);
        }
        assert_eq!(seen.len(), 5);
        assert!(new_challenge(&random(0), "a", Ceremony::Enroll, 0, 1, 0)
            .actions
            .is_empty());
    }

    #[test]
    fn validate_checks_app_ceremony_and_expiry_boundary() {
        let c = new_challenge(&random(3), "app1", Ceremony::Authenticate, 100, 50, 0);
        assert_eq!(c.validate("app1", Ceremony::Authenticate, 149), Ok(()));
        assert_eq!(
            c.validate("app1", Ceremony::Authenticate, 150),
            Err(Error::SessionExpired)
        );
        assert_eq!(
            c.validate("app2", Ceremony::Authenticate, 100),
            Err(Error::ChallengeMismatch("application"))
        );
        assert_eq!(
            c.validate("app1", Ceremony::Enroll, 100),
            Err(Error::ChallengeMismatch("ceremony"))
        );
        assert_eq!(Error::SessionExpired.code().name(), "SESSION_EXPIRED");
        assert_eq!(Error::ChallengeMismatch("x").code().name(), "UNAUTHORIZED");
    }

    #[test]
    fn ledger_consumes_once() {
        let mut l = ChallengeLedger::new();
        let c = new_challenge(&random(4), "app", Ceremony::Enroll, 0, 1_000, 2);
        l.insert(c.clone(), 0).unwrap();
        assert_eq!(
            l.insert(c.clone(), 0),
            Err(Error::Internal("duplicate challenge id".into()))
        );
        assert_eq!(l.consume(&c.id, 10), Ok(c.clone()));
        assert_eq!(l.consume(&c.id, 11), Err(Error::ChallengeReplayed));
        assert_eq!(l.consume("nope", 11), Err(Error::UnknownChallenge));
        // Pruned after expiry; a replay then reads "unknown".
        assert_eq!(l.prune(999), 0);
        assert_eq!(l.prune(1_000), 1);
        assert!(l.is_empty());
        assert_eq!(l.consume(&c.id, 1_001), Err(Error::UnknownChallenge));
    }

    #[test]
    fn evidence_is_claimed_once_and_only_before_consumption() {
        let mut l = ChallengeLedger::new();
        let c = new_challenge(&random(7), "app", Ceremony::Enroll, 0, 1_000, 2);
        l.insert(c.clone(), 0).unwrap();
        assert_eq!(l.claim_evidence(&c.id, 5), Ok(()));
        assert_eq!(l.claim_evidence(&c.id, 6), Err(Error::ChallengeReplayed));
        // The claim does not spend the challenge: the measured request still consumes it.
        assert_eq!(l.consume(&c.id, 7), Ok(c.clone()));
        let d = new_challenge(&random(8), "app", Ceremony::Enroll, 0, 1_000, 2);
        l.insert(d.clone(), 0).unwrap();
        assert!(l.consume(&d.id, 1).is_ok());
        assert_eq!(l.claim_evidence(&d.id, 2), Err(Error::ChallengeReplayed));
        assert_eq!(l.claim_evidence("nope", 2), Err(Error::UnknownChallenge));
        let e = new_challenge(&random(9), "app", Ceremony::Enroll, 0, 1_000, 2);
        l.insert(e.clone(), 0).unwrap();
        assert_eq!(l.claim_evidence(&e.id, 1_000), Err(Error::SessionExpired));
    }

    #[test]
    fn ledger_rejects_expired_exactly_at_boundary() {
        let mut l = ChallengeLedger::new();
        let c = new_challenge(&random(5), "app", Ceremony::Authenticate, 0, 1_000, 0);
        l.insert(c.clone(), 0).unwrap();
        assert_eq!(l.consume(&c.id, 1_000), Err(Error::SessionExpired));
        assert_eq!(l.len(), 0);
        let d = new_challenge(&random(6), "app", Ceremony::Authenticate, 0, 1_000, 0);
        l.insert(d.clone(), 0).unwrap();
        assert!(l.consume(&d.id, 999).is_ok());
    }

    #[test]
    fn ledger_is_bounded() {
        let mut l = ChallengeLedger::new();
        for i in 0..MAX_LIVE_CHALLENGES {
            let mut r = [0u8; 32];
            r[..8].copy_from_slice(&(i as u64).to_le_bytes());
            l.insert(new_challenge(&r, "a", Ceremony::Enroll, 0, 10, 0), 0)
                .unwrap();
        }
        let extra = new_challenge(&[9; 32], "a", Ceremony::Enroll, 0, 10, 0);
        assert_eq!(
            l.insert(extra.clone(), 5).unwrap_err().code().name(),
            "TOO_MANY_REQUESTS"
        );
        // Once the old ones expire, pruning makes room.
        assert!(l.insert(extra, 10).is_ok());
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn used_challenges_make_room_for_new_ones() {
        let mut l = ChallengeLedger::new();
        let ids: Vec<String> = (0..MAX_LIVE_CHALLENGES)
            .map(|i| {
                let mut r = [0u8; 32];
                r[..8].copy_from_slice(&(i as u64).to_le_bytes());
                let c = new_challenge(&r, "a", Ceremony::Enroll, 0, 1_000, 0);
                l.insert(c.clone(), 0).unwrap();
                c.id
            })
            .collect();
        // One used and one with its evidence claimed: only the used one may go.
        l.consume(&ids[0], 1).unwrap();
        l.claim_evidence(&ids[1], 1).unwrap();
        let extra = new_challenge(&[9; 32], "a", Ceremony::Enroll, 0, 1_000, 0);
        l.insert(extra.clone(), 2).unwrap();
        assert_eq!(l.len(), MAX_LIVE_CHALLENGES);
        // The evicted used challenge is unknown here (storage answers "replayed"); the claimed
        // one is still held and still refuses a second claim.
        assert_eq!(l.consume(&ids[0], 3), Err(Error::UnknownChallenge));
        assert_eq!(l.claim_evidence(&ids[1], 3), Err(Error::ChallengeReplayed));
        // With every held challenge open, the bound holds.
        let more = new_challenge(&[8; 32], "a", Ceremony::Enroll, 0, 1_000, 0);
        assert_eq!(
            l.insert(more, 4).unwrap_err().code().name(),
            "TOO_MANY_REQUESTS"
        );
        assert!(l.consume(&extra.id, 5).is_ok());
    }

    #[test]
    fn serde_shapes() {
        assert_eq!(
            serde_json::to_value(Ceremony::Authenticate).unwrap(),
            "authenticate"
        );
        assert_eq!(
            serde_json::to_value(LivenessAction::ComeCloser).unwrap(),
            "comeCloser"
        );
        let c = new_challenge(&random(7), "app", Ceremony::Enroll, 0, 1, 1);
        let json = serde_json::to_value(&c).unwrap();
        assert!(json.get("expiresAtMs").is_some());
        assert_eq!(serde_json::from_value::<Challenge>(json).unwrap(), c);
    }

    #[test]
    fn lineage_passes_ceremony_and_nonce_to_follow_ups() {
        let mut first = new_challenge(&random(11), "app", Ceremony::Authenticate, 0, 1_000, 2);
        first.lineage = Lineage::start(Some("site-n".into()));
        assert_eq!(first.ceremony_id(), first.id);
        let mut next = new_challenge(&random(12), "app", Ceremony::Authenticate, 0, 1_000, 0);
        next.lineage = Lineage::continuing(&first);
        let mut third = new_challenge(&random(13), "app", Ceremony::Authenticate, 0, 1_000, 0);
        third.lineage = Lineage::continuing(&next);
        assert_eq!(
            third.ceremony_id(),
            first.id,
            "the first challenge, not the parent"
        );
        assert_eq!(third.lineage.nonce.as_deref(), Some("site-n"));
        let json = serde_json::to_value(&next).unwrap();
        assert_eq!(json["ceremonyId"], first.id.as_str());
        let back: Challenge = serde_json::from_value(json).unwrap();
        assert_eq!(back, next);
        // Challenges stored before lineage existed still load.
        let mut old = serde_json::to_value(&first).unwrap();
        old.as_object_mut()
            .unwrap()
            .retain(|k, _| k != "ceremonyId" && k != "nonce");
        let old: Challenge = serde_json::from_value(old).unwrap();
        assert_eq!(old.lineage, Lineage::default());
    }
}
