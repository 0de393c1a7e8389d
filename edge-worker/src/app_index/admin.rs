//! Operator API: create an application, read and patch its options and status.

// The Durable Object's helpers, types and imports are the parent module's.
use super::*;
use crate::do_protocol::{AdminCreateArgs, DirEntry};

impl AppIndex {
    pub(super) async fn create_app(
        &self,
        public_id: &str,
        name: &str,
        options: AppOptions,
        api_key_hash: Option<String>,
        gallery_shards: u32,
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
            signing: Default::default(),
            gallery_shards,
            previous_api_key: None,
            previous_webhook_secret: None,
        };
        self.put_json("config", &record).await?;
        // Listed for the operator (GET /admin/apps): the directory is another Durable Object.
        crate::routes::admin::directory(
            &self.env,
            DoCall::DirRegister(DirEntry {
                public_id: public_id.to_owned(),
                name: name.to_owned(),
                created_at_ms: now,
            }),
        )
        .await?;
        let mut inner = self.inner.borrow_mut();
        if inner.data.is_none() {
            inner.data = Some(AppData::new(record.clone()));
        }
        Ok(record)
    }

    pub(super) async fn admin_create(
        &self,
        call: &CallContext,
        args: AdminCreateArgs,
        now: u64,
    ) -> Handled {
        if self.inner.borrow().data.is_some() {
            return Ok((json!({"exists": true}), None));
        }
        let AdminCreateArgs {
            create,
            api_key_hash: hash,
        } = args;
        crate::app_config::validate_name(&create.name)?;
        let options = AppOptions::from_json(create.options.as_ref())?;
        let shards = crate::app_config::validate_gallery_shards(create.gallery_shards)?;
        self.check_webhook_url(&options)?;
        let rec = self
            .create_app(
                &call.public_id,
                create.name.trim(),
                options,
                Some(hash),
                shards,
                now,
            )
            .await?;
        Ok((
            json!({
                "publicId": rec.public_id,
                "name": rec.name,
                "status": rec.status,
                "options": rec.options,
                "galleryShards": rec.gallery_shards,
                "webhookSecret": rec.webhook_secret,
                // FACEIO-style token (sent when `faceioWebhookToken` is on), shown once too.
                "webhookToken": webhook::faceio_token(&rec.webhook_secret),
                "warnings": rec.options.warnings(),
            }),
            None,
        ))
    }

    /// The webhook URL rules, with the deployment's local-development opt-in.
    fn check_webhook_url(&self, options: &AppOptions) -> EdgeResult<()> {
        match &options.webhook_url {
            Some(url) => webhook::check_url(url, webhook::local_http_allowed(&self.env))
                .map_err(|m| EdgeError::bad_request(format!("invalid options: {m}"))),
            None => Ok(()),
        }
    }

    pub(super) async fn admin_patch(&self, patch: AppPatch) -> Handled {
        let mut config = self.with_app(|d| Ok(d.config.clone()))?;
        if let Some(name) = &patch.name {
            crate::app_config::validate_name(name)?;
            config.name = name.trim().to_owned();
        }
        if let Some(status) = patch.status {
            config.status = status;
        }
        let had_token = config.options.faceio_webhook_token;
        config.options = config.options.patched(patch.options.as_ref())?;
        self.check_webhook_url(&config.options)?;
        self.put_json("config", &config).await?;
        if patch.name.is_some() {
            crate::routes::admin::directory(
                &self.env,
                DoCall::DirRegister(DirEntry {
                    public_id: config.public_id.clone(),
                    name: config.name.clone(),
                    created_at_ms: config.created_at_ms,
                }),
            )
            .await?;
        }
        let mut view = config.public_view();
        // Turning FACEIO-style webhook auth on shows the token the receiver must expect.
        if config.options.faceio_webhook_token && !had_token {
            if let Value::Object(m) = &mut view {
                m.insert(
                    "webhookToken".into(),
                    Value::String(webhook::faceio_token(&config.webhook_secret)),
                );
            }
        }
        if let Some(d) = self.inner.borrow_mut().data.as_mut() {
            d.config = config;
        }
        Ok((view, None))
    }
}
