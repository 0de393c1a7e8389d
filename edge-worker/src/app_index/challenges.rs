//! Single-use ceremony challenges: issued, claimed for one evidence measurement, consumed,
//! pruned; the in-memory ledger first, storage (which survives eviction) as the authority.

// The Durable Object's helpers, types and imports are the parent module's.
use super::*;
use crate::do_protocol::ClaimEvidenceArgs;

impl AppIndex {
    /// Issues and persists a challenge; `follow_up` binds it to the ceremony it continues, and
    /// `lineage` says which ceremony its login token will name.
    pub(super) async fn issue_challenge(
        &self,
        ceremony: Ceremony,
        actions: usize,
        follow_up: Option<FollowUp>,
        lineage: Lineage,
        now: u64,
    ) -> EdgeResult<(Challenge, [u8; 32])> {
        let keys = self.keys()?;
        let public_id = self.with_app(|d| Ok(d.config.public_id.clone()))?;
        let random = crypto::challenge_random(&keys.challenge_tag, &public_id)?;
        let mut c = new_challenge(
            &random,
            &public_id,
            ceremony,
            now,
            CHALLENGE_TTL_MS,
            actions,
        );
        c.lineage = lineage;
        self.inner.borrow_mut().ledger.insert(c.clone(), now)?;
        self.put_json(
            &format!("ch:{}", c.id),
            &StoredChallenge {
                challenge: c.clone(),
                consumed: false,
                evidence_claimed: false,
                follow_up,
            },
        )
        .await?;
        self.ensure_alarm().await?;
        Ok((c, random))
    }

    /// Schedules the pruning alarm (challenges, redeemed tokens) unless one is pending.
    pub(super) async fn ensure_alarm(&self) -> EdgeResult<()> {
        if self.storage().get_alarm().await?.is_none() {
            // Shortly after anything stored now has expired.
            self.storage()
                .set_alarm((CHALLENGE_TTL_MS + 60_000) as i64)
                .await?;
        }
        Ok(())
    }

    /// Marks a challenge used (in memory and storage), then checks app, ceremony and expiry
    /// ([`decide::consume_challenge`]). Returns it with what it continues, when it is a
    /// follow-up (storage keeps that binding).
    pub(super) async fn consume_challenge(
        &self,
        id: &str,
        ceremony: Ceremony,
        now: u64,
    ) -> EdgeResult<(Challenge, Option<FollowUp>)> {
        if !fio_core::protocol::is_valid_challenge_id(id) {
            return Err(EdgeError::bad_request("invalid challengeId"));
        }
        let public_id = self.with_app(|d| Ok(d.config.public_id.clone()))?;
        let memory = self.inner.borrow_mut().ledger.consume(id, now);
        let key = format!("ch:{id}");
        let stored = match &memory {
            Ok(_) | Err(FioError::UnknownChallenge) => self.get_json(&key).await?,
            Err(_) => None,
        };
        let decision =
            decide::consume_challenge(memory, stored, &key, &public_id, ceremony, now, || {
                self.unknown_challenge(&public_id, id)
            });
        self.apply(decision.writes).await?;
        decision.outcome
    }

    /// Why a challenge ID this app does not hold is refused: issued for another app, or unknown.
    pub(super) fn unknown_challenge(&self, public_id: &str, id: &str) -> EdgeResult<EdgeError> {
        let keys = self.keys()?;
        Ok(
            match crypto::challenge_origin(&keys.challenge_tag, public_id, id) {
                crypto::ChallengeOrigin::OtherApp => FioError::ChallengeMismatch("application"),
                _ => FioError::UnknownChallenge,
            }
            .into(),
        )
    }

    /// Reserves a live, unused challenge's one evidence measurement, in memory and in storage
    /// (`ChallengeLedger::claim_evidence`): a replayed request is refused before inference.
    pub(super) async fn claim_evidence(&self, args: &ClaimEvidenceArgs, now: u64) -> Handled {
        let id = args.challenge_id.clone();
        if !fio_core::protocol::is_valid_challenge_id(&id) {
            return Err(EdgeError::bad_request("invalid challengeId"));
        }
        let ceremony = args.ceremony;
        let public_id = self.with_app(|d| Ok(d.config.public_id.clone()))?;
        let memory = self.inner.borrow_mut().ledger.claim_evidence(&id, now);
        let key = format!("ch:{id}");
        let stored = match &memory {
            Ok(()) | Err(FioError::UnknownChallenge) => self.get_json(&key).await?,
            Err(_) => None,
        };
        let decision =
            decide::claim_evidence(memory, stored, &key, &public_id, ceremony, now, || {
                self.unknown_challenge(&public_id, &id)
            });
        self.apply(decision.writes).await?;
        decision.outcome?;
        Ok((json!({ "claimed": true }), None))
    }

    pub(super) async fn prune_stored_challenges(&self, now: u64) -> EdgeResult<()> {
        let mut live = false;
        let mut pages = self.pages("ch:", 256);
        while let Some(page) = pages.next().await? {
            let mut dead = Vec::new();
            for (k, v) in &page {
                match serde_json::from_str::<StoredChallenge>(v) {
                    Ok(s) if !s.challenge.is_expired(now) => live = true,
                    _ => dead.push(k.clone()),
                }
            }
            for chunk in dead.chunks(128) {
                self.storage().delete_multiple(chunk.to_vec()).await?;
            }
        }
        if live {
            self.storage()
                .set_alarm((CHALLENGE_TTL_MS + 60_000) as i64)
                .await?;
        }
        Ok(())
    }
}
