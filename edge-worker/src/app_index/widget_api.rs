//! The widget API inside the Durable Object: session start, enrollment, authentication (match,
//! PIN second factor and lockout).

// The Durable Object's helpers, types and imports are the parent module's.
use super::tokens;
use super::*;
use crate::do_protocol::{Answer, Body, Ceremonial};

impl AppIndex {
    pub(super) async fn start(
        &self,
        call: &CallContext,
        body: Body<StartRequest>,
        now: u64,
    ) -> Handled {
        let req = body.into_request()?;
        if req.app_id.as_deref().is_some_and(|a| a != call.public_id) {
            return Err(ErrorCode::Unauthorized.into());
        }
        if let Some(n) = &req.nonce {
            fio_core::protocol::validate_nonce(n)?;
        }
        let opts = self.options()?;
        // Without the models nothing could measure the ceremony's evidence: refuse before a
        // challenge is issued rather than at its end.
        #[cfg(not(feature = "models"))]
        if opts.requires_evidence() {
            return Err(EdgeError::Unavailable(reverify::NO_MODELS.into()));
        }
        let (c, random) = self
            .issue_challenge(
                req.ceremony,
                opts.action_count(),
                None,
                Lineage::start(req.nonce),
                now,
            )
            .await?;
        let nonce = crypto::hex(&crypto::sha256(&random)[..16]);
        let mut resp = StartResponse::new(&c, nonce, opts.widget_policy());
        if opts.requires_evidence() {
            let master = master_key(&self.env)?;
            resp.evidence_key = Some(reverify::sealing::ceremony_public_key(
                master.as_bytes(),
                &c.id,
            ));
        }
        Ok((serde_json::to_value(resp)?, None))
    }

    pub(super) async fn enroll(
        &self,
        call: &CallContext,
        args: Ceremonial<EnrollRequest>,
        now: u64,
    ) -> EdgeResult<Answer> {
        let req = args.request.into_request()?;
        let (challenge, follow_up) = self
            .consume_challenge(&req.challenge_id, Ceremony::Enroll, now)
            .await?;
        let opts = self.options()?;
        let templates = req.validate(&opts.pin_policy())?;
        let digest = templates_digest(&templates);
        if let Some(f) = &follow_up {
            f.check_digest(&digest)?;
        }
        let embeddings: Vec<Embedding> = templates.iter().map(Template::to_embedding).collect();
        let mean = check_enrollment(
            &embeddings,
            &EnrollPolicy {
                min_frames: 1,
                ..EnrollPolicy::default()
            },
        )?;
        decide::check_liveness(
            opts.liveness_mode,
            &req.liveness,
            &challenge,
            follow_up.is_some(),
        )?;
        reverify::check(
            opts.requires_evidence(),
            args.evidence.as_ref(),
            &challenge,
            &templates,
            follow_up.is_some(),
        )?;
        if let Some(min) = opts.min_age {
            if req.details.age.is_nan() || req.details.age < f32::from(min) {
                return Err(FioError::MinorNotAllowed.into());
            }
        }
        let template = mean.to_template();
        let keys = self.keys()?;
        let public_id = call.public_id.clone();
        let pin_tag = pin_uniqueness_tag(&keys.pin_tag, &public_id, &req.pin);
        // Held until the face is stored: an enrollment running meanwhile (gallery shard calls
        // let other requests in) sees this one's face and PIN here.
        let reservation = self.reserve(&template, &pin_tag, opts.threshold());
        if opts.prevent_duplicates
            && (reservation.duplicate_pending
                || self.gallery_duplicate(&template, opts.threshold()).await?)
        {
            return Err(FioError::FaceDuplication.into());
        }
        let in_use = opts.enforce_pin_uniqueness
            && (reservation.pin_pending || self.pin_tag_in_use(&pin_tag, None).await?);
        match decide::enroll_pin_uniqueness(
            opts.enforce_pin_uniqueness,
            in_use,
            follow_up.as_ref(),
            &digest,
        ) {
            decide::PinUniqueness::Free => {}
            decide::PinUniqueness::Refused => return Err(FioError::PinNotUnique.into()),
            decide::PinUniqueness::Retry(next) => {
                let (c, _) = self
                    .issue_challenge(
                        Ceremony::Enroll,
                        0,
                        Some(next),
                        Lineage::continuing(&challenge),
                        now,
                    )
                    .await?;
                return Err(EdgeError::PinNotUnique(Retry {
                    challenge_id: c.id,
                    expires_at: format_iso8601_ms(c.expires_at_ms),
                }));
            }
        }

        let facial_id = loop {
            let fid = format_facial_id(&crypto::random_array()?);
            if !self.record_exists(&fid).await? {
                break fid;
            }
        };
        let salt: [u8; PIN_SALT_LEN] = crypto::random_array()?;
        let pin_hash = hash_pin(&crypto::peppered_pin(&keys.pepper, &req.pin), &salt);
        let sealed = crypto::seal(&keys.template, &facial_id, &template.to_bytes())?;
        let response = EnrollResponse::new(facial_id.clone(), now, &req.details);
        let sign = self.login_token(call, &challenge, &facial_id, now)?;
        let details = StoredDetails {
            gender: response.details.gender,
            age: response.details.age,
        };
        let record = FaceRecord {
            public_id: public_id.clone(),
            facial_id: facial_id.clone(),
            payload: req.payload.clone(),
            pin_hash,
            pin_tag: pin_tag.clone(),
            details,
            created_at_ms: now,
            updated_at_ms: now,
            template: sealed.clone(),
        };

        let row = GalleryRow {
            f: facial_id.clone(),
            t: sealed,
            c: now,
            d: details,
        };
        self.gallery_add(row, &template, decide::enroll_writes(&record)?)
            .await?;
        drop(reservation);
        let webhook = self.with_app(|d| {
            Ok(tokens::with_jti(
                webhook_job(d, Event::Enroll, &facial_id, &call.client_ip, now, details),
                challenge.ceremony_id(),
            ))
        })?;
        self.replicate(&record).await;
        Ok(Answer {
            body: serde_json::to_value(response)?,
            webhook,
            sign: Some(sign),
        })
    }

    pub(super) async fn authenticate(
        &self,
        call: &CallContext,
        args: Ceremonial<AuthenticateRequest>,
        now: u64,
    ) -> EdgeResult<Answer> {
        let req = args.request.into_request()?;
        let (challenge, follow_up) = self
            .consume_challenge(&req.challenge_id, Ceremony::Authenticate, now)
            .await?;
        let opts = self.options()?;
        let probe = req.validate()?;
        let digest = templates_digest(std::slice::from_ref(&probe));
        let bound = follow_up.is_some();
        let checked = follow_up
            .as_ref()
            .map_or(Ok(()), |f| f.check_digest(&digest).map_err(EdgeError::from))
            .and_then(|_| {
                decide::check_liveness(opts.liveness_mode, &req.liveness, &challenge, bound)
            })
            .and_then(|_| {
                reverify::check(
                    opts.requires_evidence(),
                    args.evidence.as_ref(),
                    &challenge,
                    std::slice::from_ref(&probe),
                    bound,
                )
            });
        if let Err(e) = checked {
            self.count_failure().await?;
            return Err(e);
        }
        let policy = opts.match_policy();
        // A shard that fails fails the login (503): it is not a failed authentication.
        let mut top = self
            .gallery_best_two(&probe)
            .await?
            .into_iter()
            .map(|h| (h.f, h.s));
        let (best, second) = (top.next(), top.next());
        let candidates: Vec<String> = [&best, &second]
            .into_iter()
            .flatten()
            .filter(|(_, s)| *s >= policy.threshold)
            .map(|(id, _)| id.clone())
            .collect();
        let outcome = decide_match(best, second, &policy);
        let refused = match decide::follow_up_candidates(follow_up.as_ref(), candidates) {
            Ok(candidates) => decide::pin_reason(outcome, opts.always_ask_pin)
                .map(|(best, reason)| (candidates, best, reason)),
            Err(e) => Err(e),
        };
        let (candidates, best_id, pin_reason) = match refused {
            Ok(found) => found,
            Err(e) => {
                self.count_failure().await?;
                return Err(e);
            }
        };

        // A locked facial ID answers WRONG_PIN_CODE until the lockout ends.
        let best_attempts = self.pin_attempts(&best_id).await?;
        if let Err(e) = best_attempts.check(now) {
            self.count_failure().await?;
            return Err(e.into());
        }

        // The binding of any follow-up this request issues: same probe, same candidates.
        let next_follow_up = || {
            follow_up
                .clone()
                .unwrap_or_else(|| FollowUp::first(digest.clone(), candidates.clone()))
        };
        let matched = match decide::pin_step(req.pin.is_some(), bound, pin_reason) {
            decide::PinStep::Refuse => {
                self.count_failure().await?;
                return Err(ErrorCode::Unauthorized.into());
            }
            decide::PinStep::NotNeeded => best_id,
            decide::PinStep::Prompt(reason) => {
                let remaining = best_attempts.remaining(now);
                return self
                    .pin_prompt(&challenge, next_follow_up(), reason, remaining, false, now)
                    .await;
            }
            decide::PinStep::Check => {
                let pin = req.pin.as_deref().unwrap_or_default();
                let client_key = format!("pinclient:{}", gate::quota_key(&call.client_ip));
                let client: PinAttempts = self.get_json(&client_key).await?.unwrap_or_default();
                // A locked client is refused before anything is read or hashed.
                if let Err(e) = client.check(now) {
                    self.count_failure().await?;
                    return Err(e.into());
                }
                let mut tried = Vec::with_capacity(candidates.len());
                for fid in &candidates {
                    let attempts = self.pin_attempts(fid).await?;
                    let record = if attempts.is_locked(now) {
                        None
                    } else {
                        self.get_json::<FaceRecord>(&format!("user:{fid}"))
                            .await?
                            .map(|r| (r.pin_hash, r.details))
                    };
                    tried.push(decide::PinCandidate {
                        fid: fid.clone(),
                        attempts,
                        record,
                    });
                }
                let peppered = crypto::peppered_pin(&self.keys()?.pepper, pin);
                match decide::check_pin(&peppered, tried, &best_id, &client_key, client, now)? {
                    decide::PinCheck::ClientLocked(e) => {
                        self.count_failure().await?;
                        return Err(e.into());
                    }
                    decide::PinCheck::Matched { fid, writes } => {
                        self.apply(writes).await?;
                        fid
                    }
                    decide::PinCheck::Wrong {
                        writes,
                        newly_locked,
                        verdict,
                    } => {
                        // A facial ID that locks now is reported by webhook.
                        self.apply(writes).await?;
                        if let Some((fid, details)) = newly_locked {
                            let job = self.with_app(|d| {
                                Ok(webhook_job(
                                    d,
                                    Event::PinLockout,
                                    &fid,
                                    &call.client_ip,
                                    now,
                                    details,
                                ))
                            })?;
                            self.inner.borrow_mut().pending_webhook = job;
                        }
                        match verdict {
                            PinVerdict::Retry { remaining } => {
                                let reason = pin_reason.unwrap_or(fio_core::PinReason::AlwaysAsk);
                                return self
                                    .pin_prompt(
                                        &challenge,
                                        next_follow_up(),
                                        reason,
                                        remaining,
                                        true,
                                        now,
                                    )
                                    .await;
                            }
                            PinVerdict::LockedOut { .. } => {
                                self.count_failure().await?;
                                return Err(FioError::WrongPin.into());
                            }
                        }
                    }
                }
            }
        };

        // Deleted while this request waited for its gallery shards, or an orphan row (a failed
        // enrollment's): not enrolled.
        let Some(record) = self
            .get_json::<FaceRecord>(&format!("user:{matched}"))
            .await?
        else {
            self.count_failure().await?;
            return Err(FioError::Unrecognized.into());
        };
        self.commit_counted(Vec::new(), Some(|s| s.authentications += 1))
            .await?;
        let webhook = self.with_app(|d| {
            Ok(tokens::with_jti(
                webhook_job(
                    d,
                    Event::Auth,
                    &matched,
                    &call.client_ip,
                    now,
                    record.details,
                ),
                challenge.ceremony_id(),
            ))
        })?;
        let sign = self.login_token(call, &challenge, &matched, now)?;
        let resp = AuthenticateReply::Authenticated(AuthenticateResponse {
            payload: record.payload,
            facial_id: matched,
            token: None,
        });
        Ok(Answer {
            body: serde_json::to_value(resp)?,
            webhook,
            sign: Some(sign),
        })
    }

    /// Asks for the PIN (or for it again after a wrong one): a follow-up challenge that
    /// continues `challenge`'s ceremony, bound by `follow_up` to this request's probe.
    async fn pin_prompt(
        &self,
        challenge: &Challenge,
        follow_up: FollowUp,
        reason: fio_core::PinReason,
        attempts_remaining: u8,
        wrong_pin: bool,
        now: u64,
    ) -> EdgeResult<Answer> {
        let (next, _) = self
            .issue_challenge(
                Ceremony::Authenticate,
                0,
                Some(follow_up),
                Lineage::continuing(challenge),
                now,
            )
            .await?;
        let reply = PinRequiredResponse::new(reason, &next, attempts_remaining, wrong_pin);
        Ok(Answer {
            body: serde_json::to_value(AuthenticateReply::PinRequired(reply))?,
            ..Answer::default()
        })
    }

    pub(super) async fn pin_attempts(&self, fid: &str) -> EdgeResult<PinAttempts> {
        Ok(self
            .get_json::<PinAttempts>(&format!("pinatt:{fid}"))
            .await?
            .unwrap_or_default())
    }

    pub(super) async fn count_failure(&self) -> EdgeResult<()> {
        self.commit_counted(Vec::new(), Some(|s| s.failed_authentications += 1))
            .await
    }

    /// True when another facial ID (not `except`) holds this PIN tag.
    pub(super) async fn pin_tag_in_use(&self, tag: &str, except: Option<&str>) -> EdgeResult<bool> {
        let page = self.list_page(&format!("pintag:{tag}:"), None, 2).await?;
        Ok(page
            .iter()
            .any(|(k, _)| except.is_none_or(|fid| !k.ends_with(fid))))
    }

    /// Writes the record to KV; a failure is logged, not fatal (the DO holds the truth).
    ///
    /// The KV write opens the input gate: if the record was deleted meanwhile, this write may
    /// land after the deletion's, so the KV copy is deleted again (the tombstone stays until
    /// that succeeds).
    pub(super) async fn replicate(&self, record: &FaceRecord) {
        match self.env.kv(KV_BINDING) {
            Ok(kv) => {
                if let Err(e) = kv_records::put(&kv, record).await {
                    worker::console_error!("KV replication of {}: {e}", record.facial_id);
                }
                let deleted = !self.record_exists(&record.facial_id).await.unwrap_or(false);
                if deleted {
                    self.delete_from_kv(&record.facial_id).await;
                }
            }
            Err(e) => worker::console_error!("KV binding {KV_BINDING}: {e}"),
        }
    }

    /// Deletes a record's KV copy and then its tombstone; on failure the tombstone stays and
    /// the alarm retries.
    pub(super) async fn delete_from_kv(&self, fid: &str) {
        let public_id = self
            .with_app(|d| Ok(d.config.public_id.clone()))
            .unwrap_or_default();
        let done = match self.env.kv(KV_BINDING) {
            Ok(kv) => kv_records::delete(&kv, &public_id, fid).await,
            Err(e) => Err(e.into()),
        };
        let result = match done {
            Ok(()) => self
                .storage()
                .delete(&format!("kvdel:{fid}"))
                .await
                .map(|_| ())
                .map_err(EdgeError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            worker::console_error!("KV delete of {fid} (will retry): {e}");
            if let Err(e) = self.storage().set_alarm(KV_RETRY_MS).await {
                worker::console_error!("arming the KV retry: {e}");
            }
        }
    }

    /// Retries the KV deletion of every tombstoned record.
    pub(super) async fn redrive_kv_deletions(&self) -> EdgeResult<()> {
        self.ensure_loaded().await?;
        let page = self.list_page("kvdel:", None, 128).await?;
        for (k, _) in page {
            if let Some(fid) = k.strip_prefix("kvdel:") {
                self.delete_from_kv(fid).await;
            }
        }
        Ok(())
    }
}
