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
        let shard_key = format!("shard:{shard:06}");
        let mut entries: Vec<ShardEntry> = self.get_json(&shard_key).await?.unwrap_or_default();
        entries.retain(|e| e.f != fid);
        let shard_len = entries.len();
        // One commit: the shard row, the record, its PIN tag and attempts, the stats, and the
        // tombstone that keeps the KV deletion owed until it is done.
        let mut puts = vec![
            ("stats".to_owned(), serde_json::to_string(&stats)?),
            (format!("kvdel:{fid}"), String::new()),
        ];
        let mut deletes = vec![
            format!("user:{fid}"),
            format!("pintag:{}:{fid}", record.pin_tag),
            format!("pinatt:{fid}"),
        ];
        if entries.is_empty() {
            deletes.push(shard_key);
        } else {
            puts.push((shard_key, serde_json::to_string(&entries)?));
        }
        self.commit(&puts, deletes).await?;
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
        let old_tag_key = format!("pintag:{}:{fid}", record.pin_tag);
        record.pin_hash = hash_pin(&crypto::peppered_pin(&keys.pepper, &pin), &salt);
        record.pin_tag = tag.clone();
        record.updated_at_ms = now;
        let new_tag_key = format!("pintag:{tag}:{fid}");
        let mut deletes = vec![format!("pinatt:{fid}")];
        if old_tag_key != new_tag_key {
            deletes.push(old_tag_key);
        }
        self.commit(
            &[
                (format!("user:{fid}"), serde_json::to_string(&record)?),
                (new_tag_key, String::new()),
            ],
            deletes,
        )
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
        let offset = usize_arg(&args.offset, "offset")?.unwrap_or(0);
        let limit = usize_arg(&args.limit, "limit")?.unwrap_or(DEFAULT_LIST_LIMIT);
        if limit > MAX_LIST_LIMIT {
            return Err(EdgeError::bad_request(format!(
                "`limit` is at most {MAX_LIST_LIMIT}"
            )));
        }
        self.with_app(|d| {
            let mut all: Vec<(&String, &UserMeta)> = d.users.iter().collect();
            all.sort_by(|a, b| (a.1.created_at_ms, a.0).cmp(&(b.1.created_at_ms, b.0)));
            let page: Vec<Value> = all
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(fid, m)| {
                    json!({
                        "facialId": fid,
                        "timestamp": format_iso8601_ms(m.created_at_ms),
                        "details": {"gender": m.details.gender, "age": m.details.age},
                    })
                })
                .collect();
            Ok((
                json!({
                    "status": 200,
                    "total": all.len(),
                    "offset": offset,
                    "limit": limit,
                    "facialIds": page,
                }),
                None,
            ))
        })
    }
}
