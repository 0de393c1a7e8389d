//! Facial-ID records: the full per-user record, kept in the app's Durable Object (source of
//! truth) and replicated to Workers KV under `rec:{publicId}:{facialId}` for export/rebuild.

use fio_core::protocol::{EnrolledDetails, Gender};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::EdgeResult;

/// KV namespace binding name.
pub const KV_BINDING: &str = "FACES";

/// One enrolled user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaceRecord {
    /// Application public ID.
    pub public_id: String,
    /// Facial ID (UUID v4 form).
    pub facial_id: String,
    /// Host application's payload.
    pub payload: Value,
    /// `pbkdf2-sha256$…` hash of the peppered PIN.
    pub pin_hash: String,
    /// Keyed PIN fingerprint for uniqueness checks.
    pub pin_tag: String,
    /// Gender and age at enrollment.
    pub details: StoredDetails,
    /// Unix ms of enrollment.
    pub created_at_ms: u64,
    /// Unix ms of the last change.
    pub updated_at_ms: u64,
    /// base64(nonce ‖ AES-256-GCM(template) ‖ tag), AAD = facial ID.
    pub template: String,
}

/// Gender and whole-year age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDetails {
    /// Gender approximation.
    pub gender: Gender,
    /// Age approximation.
    pub age: u32,
}

impl From<StoredDetails> for EnrolledDetails {
    fn from(d: StoredDetails) -> Self {
        EnrolledDetails {
            gender: d.gender,
            age: d.age,
        }
    }
}

/// KV key of a record.
pub fn kv_key(public_id: &str, facial_id: &str) -> String {
    format!("rec:{public_id}:{facial_id}")
}

/// Writes the record to KV (best effort from the caller's point of view: the Durable Object
/// already holds it).
pub async fn put(kv: &worker::KvStore, rec: &FaceRecord) -> EdgeResult<()> {
    kv.put(
        &kv_key(&rec.public_id, &rec.facial_id),
        serde_json::to_string(rec)?,
    )?
    .execute()
    .await?;
    Ok(())
}

/// Deletes the record from KV.
pub async fn delete(kv: &worker::KvStore, public_id: &str, facial_id: &str) -> EdgeResult<()> {
    kv.delete(&kv_key(public_id, facial_id)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_shape() {
        assert_eq!(kv_key("app", "fid"), "rec:app:fid");
        let r = FaceRecord {
            public_id: "app".into(),
            facial_id: "fid".into(),
            payload: serde_json::json!({"a": 1}),
            pin_hash: "h".into(),
            pin_tag: "t".into(),
            details: StoredDetails {
                gender: Gender::Female,
                age: 30,
            },
            created_at_ms: 1,
            updated_at_ms: 2,
            template: "x".into(),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["details"]["gender"], "female");
        assert_eq!(v["pinHash"], "h");
        assert_eq!(serde_json::from_value::<FaceRecord>(v).unwrap(), r);
    }
}
