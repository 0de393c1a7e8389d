//! FACEIO's REST API: delete a facial ID, set its payload or PIN, list and check facial IDs.

// The Durable Object's helpers, types and imports are the parent module's.
use super::*;
use crate::do_protocol::{FacialIdArgs, ListArgs, PayloadArg, SetPayloadArgs, SetPinArgs};

impl AppIndex {
    pub(super) async fn load_record(&self, fid: &str) -> EdgeResult<FaceRecord> {
        self.get_json(&format!("user:{fid}"))
            .await?
            .ok_or(EdgeError::NotFound("facial ID"))
    }

    pub(super) async fn delete_facial_id(
        &self,
        call: &CallContext,
        args: &FacialIdArgs,
        now: u64,
    ) -> Handled {
        let fid = facial_id_arg(&args.fid, "fid")?;
        let record = self.load_record(&fid).await?;
        self.gallery_remove(&fid, decide::deletion_writes(&fid, &record.pin_tag))
            .await?;
        let webhook = self.with_app(|d| {
            Ok(webhook_job(
                d,
                Event::Deletion,
                &fid,
                &call.client_ip,
                now,
                record.details,
            ))
        })?;
        self.delete_from_kv(&fid).await;
        Ok((
            json!({"status": 200, "facialId": fid, "deleted": true}),
            webhook,
        ))
    }

    pub(super) async fn set_payload(&self, args: SetPayloadArgs, now: u64) -> Handled {
        let fid = facial_id_arg(&args.fid, "fid")?;
        let payload = match args.payload {
            Some(PayloadArg::Json(v)) => v,
            // Query-string and form parameters carry JSON text.
            Some(PayloadArg::Text(text)) => serde_json::from_str(&text)
                .map_err(|_| EdgeError::bad_request("`payload` must be JSON"))?,
            None => return Err(EdgeError::bad_request("missing `payload`")),
        };
        validate_payload(&payload)?;
        let mut record = self.load_record(&fid).await?;
        record.payload = payload;
        record.updated_at_ms = now;
        self.put_json(&format!("user:{fid}"), &record).await?;
        self.replicate(&record).await;
        Ok((json!({"status": 200, "facialId": fid}), None))
    }

    pub(super) async fn set_pin(&self, call: &CallContext, args: &SetPinArgs, now: u64) -> Handled {
        let fid = facial_id_arg(&args.fid, "fid")?;
        let pin = Param::text(&args.pin, "pin")?
            .ok_or_else(|| EdgeError::bad_request("missing `pin`"))?;
        let opts = self.options()?;
        validate_pin(&pin, &opts.pin_policy())?;
        let mut record = self.load_record(&fid).await?;
        let keys = self.keys()?;
        let tag = pin_uniqueness_tag(&keys.pin_tag, &call.public_id, &pin);
        if opts.enforce_pin_uniqueness && self.pin_tag_in_use(&tag, Some(&fid)).await? {
            return Err(FioError::PinNotUnique.into());
        }
        let salt: [u8; PIN_SALT_LEN] = crypto::random_array()?;
        let old_tag = std::mem::replace(&mut record.pin_tag, tag);
        record.pin_hash = hash_pin(&crypto::peppered_pin(&keys.pepper, &pin), &salt);
        record.updated_at_ms = now;
        self.apply(decide::set_pin_writes(&record, &old_tag)?)
            .await?;
        self.replicate(&record).await;
        Ok((json!({"status": 200, "facialId": fid}), None))
    }

    /// FACEIO's `/checkfacialid`: whether `fid` is enrolled on this app (its user record).
    pub(super) async fn check_facial_id(&self, args: &FacialIdArgs) -> Handled {
        let fid = facial_id_arg(&args.fid, "fid")?;
        let valid = self.record_exists(&fid).await?;
        Ok((
            json!({"status": 200, "facialId": fid, "valid": valid}),
            None,
        ))
    }

    /// `/listfacialids`: with shards, each returns its first `offset + limit` and they merge.
    pub(super) async fn list_facial_ids(&self, args: &ListArgs) -> Handled {
        let (offset, limit) = decide::list_bounds(args)?;
        let (total, first) = self.gallery_list(offset.saturating_add(limit)).await?;
        Ok((decide::list_page(first, total, offset, limit), None))
    }
}
