//! The widget API inside the Durable Object: session start, enrollment, authentication (match,
//! PIN second factor and lockout).

// The Durable Object's helpers, types and imports are the parent module's.
use super::*;

impl AppIndex {
    pub(super) fn body(call: &DoCall) -> EdgeResult<&[u8]> {
        call.body
            .as_deref()
            .map(str::as_bytes)
            .ok_or_else(|| EdgeError::bad_request("body is not UTF-8"))
    }

    pub(super) async fn start(&self, call: &DoCall, now: u64) -> Handled {
        let req: StartRequest = parse_request(Self::body(call)?)?;
        if req.app_id.as_deref().is_some_and(|a| a != call.public_id) {
            return Err(ErrorCode::Unauthorized.into());
        }
        let opts = self.options()?;
        let (c, random) = self
            .issue_challenge(req.ceremony, opts.action_count(), now)
            .await?;
        let nonce = crypto::hex(&crypto::sha256(&random)[..16]);
        let mut resp = StartResponse::new(&c, nonce, opts.widget_policy());
        if opts.requires_evidence() {
            let master = master_key(&self.env)?;
            resp.evidence_key = Some(evidence::sealing::ceremony_public_key(
                master.as_bytes(),
                &c.id,
            ));
        }
        Ok((serde_json::to_value(resp)?, None))
    }

    pub(super) async fn enroll(&self, call: &DoCall, now: u64) -> Handled {
        let req: EnrollRequest = parse_request(Self::body(call)?)?;
        let challenge = self
            .consume_challenge(&req.challenge_id, Ceremony::Enroll, now)
            .await?;
        let opts = self.options()?;
        let templates = req.validate(&opts.pin_policy())?;
        let embeddings: Vec<Embedding> = templates.iter().map(Template::to_embedding).collect();
        let mean = check_enrollment(
            &embeddings,
            &EnrollPolicy {
                min_frames: 1,
                ..EnrollPolicy::default()
            },
        )?;
        check_liveness(opts.liveness_mode, &req.liveness, &challenge)?;
        evidence::check(
            opts.requires_evidence(),
            call.evidence.as_ref(),
            &challenge,
            &templates,
        )?;
        if let Some(min) = opts.min_age {
            if req.details.age.is_nan() || req.details.age < f32::from(min) {
                return Err(FioError::MinorNotAllowed.into());
            }
        }
        let template = mean.to_template();
        if opts.prevent_duplicates {
            let dup = self.with_app(|d| Ok(d.index.find_duplicate(&template, opts.threshold())))?;
            if dup.is_some() {
                return Err(FioError::FaceDuplication.into());
            }
        }
        let keys = self.keys()?;
        let public_id = call.public_id.clone();
        let pin_tag = pin_uniqueness_tag(&keys.pin_tag, &public_id, &req.pin);
        if opts.enforce_pin_uniqueness && self.pin_tag_in_use(&pin_tag, None).await? {
            let (c, _) = self.issue_challenge(Ceremony::Enroll, 0, now).await?;
            return Err(EdgeError::PinNotUnique(Retry {
                challenge_id: c.id,
                expires_at: format_iso8601_ms(c.expires_at_ms),
            }));
        }

        let facial_id = loop {
            let fid = format_facial_id(&crypto::random_array()?);
            if !self.with_app(|d| Ok(d.users.contains_key(&fid)))? {
                break fid;
            }
        };
        let salt: [u8; PIN_SALT_LEN] = crypto::random_array()?;
        let pin_hash = hash_pin(&crypto::peppered_pin(&keys.pepper, &req.pin), &salt);
        let sealed = crypto::seal(&keys.template, &facial_id, &template.to_bytes())?;
        let response = EnrollResponse::new(facial_id.clone(), now, &req.details);
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

        // Decide the shard and build every write, then commit in one storage call.
        let (shard, stats) = self.with_app(|d| {
            let mut s = d.stats.clone();
            s.enrollments += 1;
            Ok((d.shard_for_new_entry(), s))
        })?;
        let shard_key = format!("shard:{shard:06}");
        let mut entries: Vec<ShardEntry> = self.get_json(&shard_key).await?.unwrap_or_default();
        entries.push(ShardEntry {
            f: facial_id.clone(),
            t: sealed,
            c: now,
            d: details,
        });
        let shard_len = entries.len();
        self.put_many(&[
            (shard_key, serde_json::to_string(&entries)?),
            (format!("user:{facial_id}"), serde_json::to_string(&record)?),
            (format!("pintag:{pin_tag}:{facial_id}"), String::new()),
            ("stats".to_owned(), serde_json::to_string(&stats)?),
        ])
        .await?;

        let webhook = self.with_app_mut(|d| {
            d.index.add(facial_id.clone(), &template);
            d.users.insert(
                facial_id.clone(),
                UserMeta {
                    shard,
                    created_at_ms: now,
                    details,
                },
            );
            d.shard_sizes.insert(shard, shard_len);
            d.stats = stats;
            webhook_job(d, Event::Enroll, &facial_id, &call.client_ip, now, details)
        })?;
        self.replicate(&record).await;
        Ok((serde_json::to_value(response)?, webhook))
    }

    pub(super) async fn authenticate(&self, call: &DoCall, now: u64) -> Handled {
        let req: AuthenticateRequest = parse_request(Self::body(call)?)?;
        let challenge = self
            .consume_challenge(&req.challenge_id, Ceremony::Authenticate, now)
            .await?;
        let opts = self.options()?;
        let probe = req.validate()?;
        let checked =
            check_liveness(opts.liveness_mode, &req.liveness, &challenge).and_then(|_| {
                evidence::check(
                    opts.requires_evidence(),
                    call.evidence.as_ref(),
                    &challenge,
                    std::slice::from_ref(&probe),
                )
            });
        if let Err(e) = checked {
            self.count_failure().await?;
            return Err(e);
        }
        let policy = opts.match_policy();
        let (outcome, candidates) = self.with_app(|d| {
            let (best, second) = d.index.best_two(&probe);
            let named = |h: Option<(usize, f32)>| {
                h.and_then(|(slot, s)| d.index.id(slot).map(|id| (id.clone(), s)))
            };
            let (best, second) = (named(best), named(second));
            let candidates: Vec<String> = [&best, &second]
                .into_iter()
                .flatten()
                .filter(|(_, s)| *s >= policy.threshold)
                .map(|(id, _)| id.clone())
                .collect();
            Ok((decide_match(best, second, &policy), candidates))
        })?;
        let (best_id, pin_reason) = match outcome {
            MatchOutcome::Unrecognized => {
                self.count_failure().await?;
                return Err(FioError::Unrecognized.into());
            }
            MatchOutcome::Accepted { id } => (
                id,
                opts.always_ask_pin
                    .then_some(fio_core::PinReason::AlwaysAsk),
            ),
            MatchOutcome::AcceptedNeedsPin { id, reason } => (id, Some(reason)),
        };

        // A locked facial ID answers WRONG_PIN_CODE until the lockout ends.
        let best_attempts = self.pin_attempts(&best_id).await?;
        if let Err(e) = best_attempts.check(now) {
            self.count_failure().await?;
            return Err(e.into());
        }

        let matched = match (&req.pin, pin_reason) {
            (None, None) => best_id,
            (None, Some(reason)) => {
                let (next, _) = self.issue_challenge(Ceremony::Authenticate, 0, now).await?;
                let reply =
                    PinRequiredResponse::new(reason, &next, best_attempts.remaining(now), false);
                return Ok((
                    serde_json::to_value(AuthenticateReply::PinRequired(reply))?,
                    None,
                ));
            }
            (Some(pin), reason) => {
                let keys = self.keys()?;
                let peppered = crypto::peppered_pin(&keys.pepper, pin);
                let mut winner = None;
                let mut tried = Vec::new();
                for fid in &candidates {
                    let attempts = self.pin_attempts(fid).await?;
                    if attempts.is_locked(now) {
                        continue;
                    }
                    let Some(rec) = self.get_json::<FaceRecord>(&format!("user:{fid}")).await?
                    else {
                        continue;
                    };
                    if verify_pin(&peppered, &rec.pin_hash)? {
                        winner = Some((fid.clone(), attempts));
                        break;
                    }
                    tried.push((fid.clone(), attempts));
                }
                match winner {
                    Some((fid, attempts)) => {
                        if attempts != PinAttempts::default() {
                            self.storage().delete(&format!("pinatt:{fid}")).await?;
                        }
                        fid
                    }
                    None => {
                        // Record the failure on every candidate the PIN was tried against.
                        let mut best_verdict = PinVerdict::LockedOut { until_ms: now };
                        for (fid, mut attempts) in tried {
                            let verdict = attempts.record_failure(now);
                            self.put_json(&format!("pinatt:{fid}"), &attempts).await?;
                            if fid == best_id {
                                best_verdict = verdict;
                            }
                        }
                        match best_verdict {
                            PinVerdict::Retry { remaining } => {
                                let (next, _) =
                                    self.issue_challenge(Ceremony::Authenticate, 0, now).await?;
                                let reason = reason.unwrap_or(fio_core::PinReason::AlwaysAsk);
                                let reply =
                                    PinRequiredResponse::new(reason, &next, remaining, true);
                                return Ok((
                                    serde_json::to_value(AuthenticateReply::PinRequired(reply))?,
                                    None,
                                ));
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

        let record: FaceRecord = self
            .get_json(&format!("user:{matched}"))
            .await?
            .ok_or_else(|| EdgeError::Internal(format!("record missing for {matched}")))?;
        let stats = self.with_app(|d| {
            let mut s = d.stats.clone();
            s.authentications += 1;
            Ok(s)
        })?;
        self.put_json("stats", &stats).await?;
        let webhook = self.with_app_mut(|d| {
            d.stats = stats;
            webhook_job(
                d,
                Event::Auth,
                &matched,
                &call.client_ip,
                now,
                record.details,
            )
        })?;
        let resp = AuthenticateReply::Authenticated(AuthenticateResponse {
            payload: record.payload,
            facial_id: matched,
        });
        Ok((serde_json::to_value(resp)?, webhook))
    }

    pub(super) async fn pin_attempts(&self, fid: &str) -> EdgeResult<PinAttempts> {
        Ok(self
            .get_json::<PinAttempts>(&format!("pinatt:{fid}"))
            .await?
            .unwrap_or_default())
    }

    pub(super) async fn count_failure(&self) -> EdgeResult<()> {
        let stats = self.with_app(|d| {
            let mut s = d.stats.clone();
            s.failed_authentications += 1;
            Ok(s)
        })?;
        self.put_json("stats", &stats).await?;
        if let Some(d) = self.inner.borrow_mut().data.as_mut() {
            d.stats = stats;
        }
        Ok(())
    }

    /// True when another facial ID (not `except`) holds this PIN tag.
    pub(super) async fn pin_tag_in_use(&self, tag: &str, except: Option<&str>) -> EdgeResult<bool> {
        let page = self.list_page(&format!("pintag:{tag}:"), None, 2).await?;
        Ok(page
            .iter()
            .any(|(k, _)| except.is_none_or(|fid| !k.ends_with(fid))))
    }

    /// Writes the record to KV; a failure is logged, not fatal (the DO holds the truth).
    pub(super) async fn replicate(&self, record: &FaceRecord) {
        match self.env.kv(KV_BINDING) {
            Ok(kv) => {
                if let Err(e) = kv_records::put(&kv, record).await {
                    worker::console_error!("KV replication of {}: {e}", record.facial_id);
                }
            }
            Err(e) => worker::console_error!("KV binding {KV_BINDING}: {e}"),
        }
    }
}
