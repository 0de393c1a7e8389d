//! Operator API: create an application, read and patch its options and status.

// The Durable Object's helpers, types and imports are the parent module's.
use super::*;

impl AppIndex {
    pub(super) async fn create_app(
        &self,
        public_id: &str,
        name: &str,
        options: AppOptions,
        api_key_hash: Option<String>,
        now: u64,
    ) -> EdgeResult<AppRecord> {
        let api_key_hash = match api_key_hash {
            Some(h) => h,
            // Demo apps get an unusable random key hash until an operator sets one.
            None => crypto::hex(&crypto::random_array::<32>()?),
        };
        let record = AppRecord {
            public_id: public_id.to_owned(),
            name: name.to_owned(),
            status: AppStatus::Active,
            options,
            api_key_hash,
            webhook_secret: webhook::new_secret()?,
            created_at_ms: now,
        };
        self.put_json("config", &record).await?;
        let mut inner = self.inner.borrow_mut();
        if inner.data.is_none() {
            inner.data = Some(AppData::new(record.clone()));
        }
        Ok(record)
    }

    pub(super) async fn admin_create(&self, call: &DoCall, now: u64) -> Handled {
        if self.inner.borrow().data.is_some() {
            return Ok((json!({"exists": true}), None));
        }
        let create: AppCreate =
            serde_json::from_value(call.args.get("create").cloned().unwrap_or_default())
                .map_err(|e| EdgeError::bad_request(format!("invalid body: {e}")))?;
        crate::app_config::validate_name(&create.name)?;
        let options = AppOptions::from_json(create.options.as_ref())?;
        let hash = str_arg(&call.args, "apiKeyHash")?
            .ok_or_else(|| EdgeError::Internal("apiKeyHash missing".into()))?;
        let rec = self
            .create_app(
                &call.public_id,
                create.name.trim(),
                options,
                Some(hash),
                now,
            )
            .await?;
        Ok((
            json!({
                "publicId": rec.public_id,
                "name": rec.name,
                "status": rec.status,
                "options": rec.options,
                "webhookSecret": rec.webhook_secret,
            }),
            None,
        ))
    }

    pub(super) async fn admin_patch(&self, call: &DoCall) -> Handled {
        let patch: AppPatch = serde_json::from_value(call.args.clone())
            .map_err(|e| EdgeError::bad_request(format!("invalid body: {e}")))?;
        let mut config = self.with_app(|d| Ok(d.config.clone()))?;
        if let Some(name) = &patch.name {
            crate::app_config::validate_name(name)?;
            config.name = name.trim().to_owned();
        }
        if let Some(status) = patch.status {
            config.status = status;
        }
        config.options = config.options.patched(patch.options.as_ref())?;
        self.put_json("config", &config).await?;
        let view = config.public_view();
        if let Some(d) = self.inner.borrow_mut().data.as_mut() {
            d.config = config;
        }
        Ok((view, None))
    }
}
