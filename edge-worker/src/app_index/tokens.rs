//! Signed login tokens inside the Durable Object: minting one per successful ceremony, the
//! app's JWK Set, single-use redemption through `/verifytoken`, signing-key rotation.

// The Durable Object's helpers, types and imports are the parent module's.
use super::*;
use crate::do_protocol::{TokenToSign, VerifyTokenArgs};
use crate::token::{self, Claims};

use super::decide::REDEEMED_PREFIX;

impl AppIndex {
    /// The login token of a ceremony's success, unsigned: the front worker signs it
    /// (`routes::token_signing`), off this object's thread.
    pub(super) fn login_token(
        &self,
        call: &CallContext,
        challenge: &Challenge,
        facial_id: &str,
        now: u64,
    ) -> EdgeResult<TokenToSign> {
        let (version, ttl) = self.with_app(|d| {
            Ok((
                d.config.signing.current,
                u64::from(d.config.options.token_ttl_seconds),
            ))
        })?;
        let iat = now / 1000;
        let claims = Claims {
            iss: call.issuer.clone().unwrap_or_default(),
            aud: call.public_id.clone(),
            sub: facial_id.to_owned(),
            iat,
            exp: iat + ttl,
            jti: challenge.ceremony_id().to_owned(),
            ceremony: challenge.ceremony,
            nonce: challenge.lineage.nonce.clone(),
        };
        Ok(TokenToSign {
            version,
            input: token::signing_input(&token::key_id(&call.public_id, version), &claims),
        })
    }

    /// Version `version` of the app's signing key, derived once per object lifetime (the
    /// secret it derives from changes only with a redeploy, which starts a new object).
    fn signing_key(&self, master: &[u8], public_id: &str, version: u32) -> p256::ecdsa::SigningKey {
        self.inner
            .borrow_mut()
            .signing_keys
            .entry((public_id.to_owned(), version))
            .or_insert_with(|| token::signing_key(master, public_id, version))
            .clone()
    }

    /// `{"keys": [JWK…]}`: the current key and every retired one a live token may still name.
    pub(super) fn jwks(&self, now: u64) -> Handled {
        let master = master_key(&self.env)?;
        let (public_id, versions) =
            self.with_app(|d| Ok((d.config.public_id.clone(), d.config.signing.live(now))))?;
        let keys: Vec<Value> = versions
            .into_iter()
            .map(|v| {
                token::jwk(
                    &self.signing_key(master.as_bytes(), &public_id, v),
                    &token::key_id(&public_id, v),
                )
            })
            .collect();
        Ok((json!({ "keys": keys }), None))
    }

    /// Verifies a login token for this app and redeems it (at most once, decided here, in the
    /// app's Durable Object): `{status, facialId, ceremony, timestamp, payload}`.
    pub(super) async fn verify_token(&self, args: &VerifyTokenArgs, now: u64) -> Handled {
        let given = Param::text(&args.token, "token")?
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| EdgeError::bad_request("missing `token`"))?;
        let given = given.trim();
        let (public_id, live) =
            self.with_app(|d| Ok((d.config.public_id.clone(), d.config.signing.live(now))))?;
        let master = master_key(&self.env)?;
        let key = |v| self.signing_key(master.as_bytes(), &public_id, v);
        let claims =
            decide::check_token(given, &public_id, &live, key, now).map_err(EdgeError::Token)?;
        let redeemed = format!("{REDEEMED_PREFIX}{}", claims.jti);
        let already = self.storage().get::<String>(&redeemed).await?.is_some();
        self.apply(vec![decide::redeem(&claims, already)?]).await?;
        self.ensure_alarm().await?;
        // The payload as it is now (a deleted facial ID has none: 404).
        let record: FaceRecord = self
            .get_json(&format!("user:{}", claims.sub))
            .await?
            .ok_or(EdgeError::NotFound("facial ID"))?;
        Ok((
            json!({
                "status": 200,
                "facialId": claims.sub,
                "ceremony": claims.ceremony,
                "timestamp": format_iso8601_ms(claims.iat * 1000),
                "payload": record.payload,
            }),
            None,
        ))
    }

    /// Starts signing with a new key version (operator API).
    pub(super) async fn rotate_signing_key(&self, now: u64) -> Handled {
        let mut config = self.with_app(|d| Ok(d.config.clone()))?;
        config
            .signing
            .rotate(now, u64::from(crate::token::MAX_TOKEN_TTL_SECONDS) * 1000);
        self.put_json("config", &config).await?;
        let kid = token::key_id(&config.public_id, config.signing.current);
        self.with_app_mut(|d| d.config = config)?;
        let (jwks, _) = self.jwks(now)?;
        Ok((json!({ "kid": kid, "jwks": jwks }), None))
    }

    /// Deletes redeemed-token records whose tokens have expired; true while some remain.
    pub(super) async fn prune_redeemed_tokens(&self, now: u64) -> EdgeResult<bool> {
        let mut live = false;
        let mut pages = self.pages(REDEEMED_PREFIX, 256);
        while let Some(page) = pages.next().await? {
            let mut dead = Vec::new();
            for (k, v) in &page {
                match serde_json::from_str::<u64>(v) {
                    Ok(until) if until > now => live = true,
                    _ => dead.push(k.clone()),
                }
            }
            for chunk in dead.chunks(128) {
                self.storage().delete_multiple(chunk.to_vec()).await?;
            }
        }
        Ok(live)
    }
}

/// The webhook job carrying the ceremony's token ID, so an event matches the login it reports.
pub(super) fn with_jti(job: Option<WebhookJob>, jti: &str) -> Option<WebhookJob> {
    job.map(|mut j| {
        j.body["jti"] = Value::String(jti.to_owned());
        j
    })
}
