//! What the operator console needs inside the Durable Objects: the app directory (one object,
//! named `do_protocol::DIRECTORY`, listing every app), deleting an app with all its data,
//! rotating its API key and webhook secret with a grace period, a test webhook and the last
//! deliveries.

// The Durable Object's helpers, types and imports are the parent module's.
use super::*;
use crate::app_config::{Previous, DEFAULT_ROTATION_GRACE_SECONDS, MAX_ROTATION_GRACE_SECONDS};
use crate::webhook::Delivery;

/// Deliveries kept per app (newest first).
const KEPT_DELIVERIES: usize = 20;
/// Directory storage prefix: `app:{publicId}` → `{publicId, name, createdAtMs}`.
const DIR_PREFIX: &str = "app:";

/// The grace period a rotation keeps the old credential for (`graceSeconds`, default 600).
fn grace_ms(args: &Value) -> EdgeResult<u64> {
    let secs = match args.get("graceSeconds") {
        None | Some(Value::Null) => DEFAULT_ROTATION_GRACE_SECONDS,
        Some(v) => v
            .as_u64()
            .filter(|s| *s <= MAX_ROTATION_GRACE_SECONDS)
            .ok_or_else(|| {
                EdgeError::bad_request(format!(
                    "graceSeconds must be an integer within 0..={MAX_ROTATION_GRACE_SECONDS}"
                ))
            })?,
    };
    Ok(secs * 1000)
}

impl AppIndex {
    // ---- the directory (this object is `DIRECTORY`) ------------------------------------------

    pub(super) async fn directory_register(&self, call: &DoCall) -> Handled {
        let id = str_arg(&call.args, "publicId")?.unwrap_or_default();
        self.put_json(&format!("{DIR_PREFIX}{id}"), &call.args)
            .await?;
        Ok((json!({}), None))
    }

    pub(super) async fn directory_remove(&self, call: &DoCall) -> Handled {
        let id = str_arg(&call.args, "publicId")?.unwrap_or_default();
        self.storage().delete(&format!("{DIR_PREFIX}{id}")).await?;
        Ok((json!({}), None))
    }

    pub(super) async fn directory_list(&self) -> Handled {
        let mut apps = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.list_page(DIR_PREFIX, after.as_deref(), 256).await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (_, v) in &page {
                apps.push(serde_json::from_str::<Value>(v)?);
            }
            if page.len() < 256 {
                break;
            }
        }
        Ok((json!({ "apps": apps }), None))
    }

    // ---- one app ------------------------------------------------------------------------------

    /// Deletes the app and everything it holds. KV records go first (each awaited): if one
    /// fails, nothing else is deleted and the operator's retry finishes the job, so no record is
    /// left behind a missing app. Then the object's storage in one call, memory, the directory.
    pub(super) async fn delete_app(&self) -> Handled {
        let (public_id, users) = self.with_app(|d| {
            Ok((
                d.config.public_id.clone(),
                d.users.keys().cloned().collect::<Vec<_>>(),
            ))
        })?;
        let kv = self.env.kv(KV_BINDING)?;
        for fid in &users {
            kv_records::delete(&kv, &public_id, fid).await?;
        }
        self.storage().delete_alarm().await?;
        self.storage().delete_all().await?;
        *self.inner.borrow_mut() = Inner::default();
        crate::routes::admin::directory(&self.env, Op::DirRemove, json!({ "publicId": public_id }))
            .await?;
        Ok((
            json!({ "deleted": true, "publicId": public_id, "facialIds": users.len() }),
            None,
        ))
    }

    /// Installs a new API key (its hash, from the front worker); the old one stays valid for
    /// the grace period.
    pub(super) async fn rotate_api_key(&self, call: &DoCall, now: u64) -> Handled {
        let grace = grace_ms(&call.args)?;
        let hash = str_arg(&call.args, "apiKeyHash")?
            .ok_or_else(|| EdgeError::Internal("apiKeyHash missing".into()))?;
        let mut config = self.with_app(|d| Ok(d.config.clone()))?;
        config.previous_api_key = Some(Previous {
            value: std::mem::replace(&mut config.api_key_hash, hash),
            until_ms: now + grace,
        });
        self.put_json("config", &config).await?;
        self.with_app_mut(|d| d.config = config)?;
        Ok((
            json!({ "previousValidUntil": format_iso8601_ms(now + grace) }),
            None,
        ))
    }

    /// A new webhook secret (shown once); events are signed with both for the grace period.
    pub(super) async fn rotate_webhook_secret(&self, call: &DoCall, now: u64) -> Handled {
        let grace = grace_ms(&call.args)?;
        let mut config = self.with_app(|d| Ok(d.config.clone()))?;
        let secret = webhook::new_secret()?;
        config.previous_webhook_secret = Some(Previous {
            value: std::mem::replace(&mut config.webhook_secret, secret.clone()),
            until_ms: now + grace,
        });
        self.put_json("config", &config).await?;
        self.with_app_mut(|d| d.config = config)?;
        Ok((
            json!({
                "webhookSecret": secret,
                "previousValidUntil": format_iso8601_ms(now + grace),
            }),
            None,
        ))
    }

    /// The `test` event for the front worker to deliver now (400 when there is no URL).
    pub(super) fn webhook_test(&self, call: &DoCall, now: u64) -> Handled {
        let job = self.with_app(|d| {
            let details = StoredDetails {
                gender: fio_core::protocol::Gender::Male,
                age: 0,
            };
            let mut job = webhook_job(d, Event::Test, "", &call.client_ip, now, details)
                .ok_or_else(|| EdgeError::bad_request("the app has no webhookUrl"))?;
            // A test carries no user: only what a receiver needs to check its setup.
            job.body = json!({
                "eventName": "test",
                "appId": d.config.public_id,
                "details": { "timestamp": format_iso8601_ms(now) },
            });
            Ok(job)
        })?;
        Ok((serde_json::to_value(job)?, None))
    }

    pub(super) async fn record_delivery(&self, call: &DoCall) -> Handled {
        let d: Delivery = serde_json::from_value(call.args.clone())
            .map_err(|e| EdgeError::Internal(format!("delivery: {e}")))?;
        let mut list: Vec<Delivery> = self.get_json("deliveries").await?.unwrap_or_default();
        list.insert(0, d);
        list.truncate(KEPT_DELIVERIES);
        self.put_json("deliveries", &list).await?;
        Ok((json!({}), None))
    }

    pub(super) async fn deliveries(&self) -> Handled {
        self.with_app(|_| Ok(()))?;
        let list: Vec<Delivery> = self.get_json("deliveries").await?.unwrap_or_default();
        Ok((json!({ "deliveries": list }), None))
    }
}
