//! What the operator console needs inside the Durable Objects: the app directory (one object,
//! named `do_protocol::DIRECTORY`, listing every app), deleting an app with all its data,
//! rotating its API key and webhook secret with a grace period, a test webhook and the last
//! deliveries.

// The Durable Object's helpers, types and imports are the parent module's.
use super::*;
use crate::app_config::Previous;
use crate::do_protocol::{DirEntry, DirRemoveArgs, RotateApiKeyArgs};
use crate::webhook::Delivery;

/// Deliveries kept per app (newest first).
const KEPT_DELIVERIES: usize = 20;
/// Directory storage prefix: `app:{publicId}` → `{publicId, name, createdAtMs}`.
const DIR_PREFIX: &str = "app:";

impl AppIndex {
    // ---- the directory (this object is `DIRECTORY`) ------------------------------------------

    pub(super) async fn directory_register(&self, entry: &DirEntry) -> Handled {
        self.put_json(&format!("{DIR_PREFIX}{}", entry.public_id), entry)
            .await?;
        Ok((json!({}), None))
    }

    pub(super) async fn directory_remove(&self, id: &str) -> Handled {
        self.storage().delete(&format!("{DIR_PREFIX}{id}")).await?;
        Ok((json!({}), None))
    }

    pub(super) async fn directory_list(&self) -> Handled {
        let mut apps = Vec::new();
        let mut pages = self.pages(DIR_PREFIX, 256);
        while let Some(page) = pages.next().await? {
            for (_, v) in &page {
                apps.push(serde_json::from_str::<Value>(v)?);
            }
        }
        Ok((json!({ "apps": apps }), None))
    }

    // ---- one app ------------------------------------------------------------------------------

    /// Deletes the app and everything it holds. KV records go first (each awaited): if one
    /// fails, nothing else is deleted and the operator's retry finishes the job, so no record is
    /// left behind a missing app. Then the object's storage in one call, memory, the directory.
    pub(super) async fn delete_app(&self) -> Handled {
        let public_id = self.with_app(|d| Ok(d.config.public_id.clone()))?;
        let users = self.all_facial_ids().await?;
        let kv = self.env.kv(KV_BINDING)?;
        for fid in &users {
            kv_records::delete(&kv, &public_id, fid).await?;
        }
        // Templates first: once this answers, no shard can match a face of the app.
        self.gallery_delete_all().await?;
        self.storage().delete_alarm().await?;
        self.storage().delete_all().await?;
        *self.inner.borrow_mut() = Inner::default();
        crate::routes::admin::directory(
            &self.env,
            DoCall::DirRemove(DirRemoveArgs {
                public_id: public_id.clone(),
            }),
        )
        .await?;
        Ok((
            json!({ "deleted": true, "publicId": public_id, "facialIds": users.len() }),
            None,
        ))
    }

    /// Installs a new API key (its hash, from the front worker); the old one stays valid for
    /// the grace period.
    pub(super) async fn rotate_api_key(&self, args: RotateApiKeyArgs, now: u64) -> Handled {
        let (grace, hash) = (args.grace_ms, args.api_key_hash);
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
    pub(super) async fn rotate_webhook_secret(&self, grace: u64, now: u64) -> Handled {
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
    pub(super) fn webhook_test(&self, call: &CallContext, now: u64) -> Handled {
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

    pub(super) async fn record_delivery(&self, d: Delivery) -> Handled {
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
