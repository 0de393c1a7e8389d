//! FACEIO's REST API: delete a facial ID, set its payload or PIN, list and check facial IDs.

// The Durable Object's helpers, types and imports are the parent module's.
use super::*;
use crate::do_protocol::{FacialIdArgs, ListArgs, PayloadArg, SetPayloadArgs, SetPinArgs};

impl AppIndex {
    pub(super) async fn load_record(&self, fid: &str) -> EdgeResult<FaceRecord> {
        if !self.with_app(|d| Ok(d.users.contains_key(fid)))? {
            return Err(EdgeError::NotFound("facial ID"));
        }
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
        let (shard, stats) = self.with_app(|d| {
            let shard = d.users.get(&fid).map(|u| u.shard).unwrap_or_default();
            let mut s = d.stats.clone();
            s.deletions += 1;
            Ok((shard, s))
        })?;
        let entries: Vec<ShardEntry> = self
            .get_json(&format!("shard:{shard:06}"))
            .await?
            .unwrap_or_default();
        let (writes, shard_len) =
            decide::deletion_writes(&fid, &record.pin_tag, shard, entries, &stats)?;
        self.apply(writes).await?;
        let webhook = self.with_app_mut(|d| {
            d.index.remove_id(&fid);
            d.users.remove(&fid);
            if shard_len == 0 {
                d.shard_sizes.remove(&shard);
            } else {
                d.shard_sizes.insert(shard, shard_len);
            }
            d.stats = stats;
            webhook_job(
                d,
                Event::Deletion,
                &fid,
                &call.client_ip,
                now,
                record.details,
            )
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

    /// FACEIO's `/checkfacialid`: whether `fid` is enrolled on this app (memory only: the
    /// user map mirrors storage once loaded).
    pub(super) fn check_facial_id(&self, args: &FacialIdArgs) -> Handled {
        let fid = facial_id_arg(&args.fid, "fid")?;
        self.with_app(|d| {
            Ok((
                json!({"status": 200, "facialId": fid, "valid": d.users.contains_key(&fid)}),
                None,
            ))
        })
    }

    pub(super) fn list_facial_ids(&self, args: &ListArgs) -> Handled {
        self.with_app(|d| Ok((decide::list_facial_ids(&d.users, args)?, None)))
    }
}
