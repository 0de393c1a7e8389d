//! Edge re-verification of liveness (app option `reverifyLiveness`, active mode): the front
//! worker opens the sealed evidence crops and measures them with the widget's own models; the
//! app's Durable Object decides with [`fio_core::liveness::verify_evidence`]. The crops are never
//! stored: they live for the length of one request.

#[cfg(feature = "models")]
mod models;
pub mod sealing;

use fio_core::liveness::{
    crop_cues, verify_evidence, CropBundle, FrameCues, SealedEvidence, Thresholds, Verdict,
};
use fio_core::{Challenge, Error as FioError, Template};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{EdgeError, EdgeResult};
use sealing::{open_evidence, OpenError};

#[cfg(feature = "models")]
pub use models::{measure, model_bytes};

/// What a worker built without the `models` feature answers where models are needed.
#[cfg(not(feature = "models"))]
pub const NO_MODELS: &str =
    "edge re-verification of liveness needs the face models, and this edge was built without \
     them (cargo feature `models`)";

/// Without the `models` feature there is nothing to measure crops with: the request is refused
/// (501) rather than let through unverified.
#[cfg(not(feature = "models"))]
pub async fn measure(
    _env: &worker::Env,
    _challenge_id: &str,
    _bundle: &CropBundle,
) -> EdgeResult<EvidenceCall> {
    Err(EdgeError::Unavailable(NO_MODELS.into()))
}

/// Opens a request's sealed crops (cheap: ECDH and AES-GCM); `Err` is what the Durable Object
/// is told when they are not sealed to this ceremony or not a crop bundle.
pub fn open(
    master: &[u8],
    challenge_id: &str,
    sealed: &fio_core::liveness::SealedEvidence,
) -> Result<CropBundle, EvidenceCall> {
    let bundle = match open_evidence(master, challenge_id, sealed) {
        Ok(b) => b,
        Err(OpenError::Rejected) => return Err(EvidenceCall::Rejected),
        Err(OpenError::Malformed(reason)) => return Err(EvidenceCall::Malformed { reason }),
    };
    CropBundle::from_bytes(&bundle).map_err(|e| EvidenceCall::Malformed {
        reason: e.to_string(),
    })
}

/// One crop as the edge's models measured it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeasuredCrop {
    /// Liveness cues (`similarity` unset: the Durable Object compares with the templates).
    pub cues: FrameCues,
    /// Embedding of the crop's largest face.
    pub embedding: Option<Vec<f32>>,
}

/// What the front worker tells the Durable Object about a request's evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum EvidenceCall {
    /// Opened and measured.
    Measured {
        /// In bundle order: rest, then one per prompted action.
        crops: Vec<MeasuredCrop>,
    },
    /// Well-formed but not sealed to this ceremony, or altered in transit.
    Rejected,
    /// Not well-formed: the request is answered 400 with this reason.
    Malformed {
        /// What was wrong.
        reason: String,
    },
}

/// A widget body without its `liveness.evidence`, and what was taken out.
pub struct SplitBody {
    /// The body to forward (unchanged when it had no evidence).
    pub body: String,
    /// `(challengeId, evidence)` when the body carried evidence, or why it is malformed.
    pub evidence: Option<Result<(String, SealedEvidence), String>>,
}

/// Takes `liveness.evidence` out of an enroll/authenticate body, so the Durable Object gets the
/// small JSON it always got; bodies that are not JSON objects pass through untouched.
pub fn split_body(body: String) -> SplitBody {
    let Ok(mut v) = serde_json::from_str::<Value>(&body) else {
        return SplitBody {
            body,
            evidence: None,
        };
    };
    let Some(ev) = v
        .get_mut("liveness")
        .and_then(Value::as_object_mut)
        .and_then(|l| l.remove("evidence"))
    else {
        return SplitBody {
            body,
            evidence: None,
        };
    };
    let challenge = v
        .get("challengeId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let evidence = match (challenge, serde_json::from_value::<SealedEvidence>(ev)) {
        (_, Err(e)) => Err(format!("liveness.evidence: {e}")),
        (None, _) => Err("challengeId must be a string".into()),
        (Some(c), Ok(s)) => Ok((c, s)),
    };
    SplitBody {
        body: v.to_string(),
        evidence: Some(evidence),
    }
}

/// The Durable Object's check: with re-verification on, the ceremony's crops must show the
/// challenge (rest + each prompted action), the same person as the submitted `templates`, and a
/// passing passive score. A follow-up challenge (`follow_up`: PIN prompt, PIN retry) is only
/// issued after the first request of its ceremony passed this check, and is bound to that
/// request's templates ([`fio_core::challenge::FollowUp`]), so it is not checked again.
pub fn check(
    required: bool,
    evidence: Option<&EvidenceCall>,
    challenge: &Challenge,
    templates: &[Template],
    follow_up: bool,
) -> EdgeResult<()> {
    if let Some(EvidenceCall::Malformed { reason }) = evidence {
        return Err(EdgeError::bad_request(reason.clone()));
    }
    if !required || follow_up {
        return Ok(());
    }
    let crops = match evidence {
        Some(EvidenceCall::Measured { crops }) => crops,
        _ => return Err(FioError::PadAttack.into()),
    };
    let cues: Vec<FrameCues> = crops
        .iter()
        .map(|c| crop_cues(c.cues, c.embedding.as_deref(), templates))
        .collect();
    match verify_evidence(&cues, &challenge.actions, &Thresholds::DEFAULT) {
        Verdict::Live => Ok(()),
        v => {
            // The reason stays in the operator's log: clients learn only PAD_ATTACK.
            worker::console_log!("evidence re-verification: {v:?}");
            Err(FioError::PadAttack.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fio_core::challenge::{new_challenge, Ceremony, LivenessAction};

    #[test]
    fn split_takes_the_evidence_out() {
        let body = r#"{"challengeId":"ab","liveness":{"score":1,"evidence":{"epk":"a","iv":"b","data":"c"}}}"#;
        let s = split_body(body.into());
        let v: Value = serde_json::from_str(&s.body).unwrap();
        assert!(v["liveness"].get("evidence").is_none());
        assert_eq!(v["liveness"]["score"], 1);
        let (c, e) = s.evidence.unwrap().unwrap();
        assert_eq!((c.as_str(), e.epk.as_str()), ("ab", "a"));

        let plain = r#"{"challengeId":"ab","liveness":{"score":1}}"#;
        let s = split_body(plain.into());
        assert_eq!(s.body, plain, "untouched");
        assert!(s.evidence.is_none());
        assert!(split_body("not json".into()).evidence.is_none());
        let bad = r#"{"challengeId":"ab","liveness":{"evidence":[1]}}"#;
        assert!(split_body(bad.into()).evidence.unwrap().is_err());
        let no_id = r#"{"liveness":{"evidence":{"epk":"a","iv":"b","data":"c"}}}"#;
        assert!(split_body(no_id.into()).evidence.unwrap().is_err());
    }

    #[test]
    fn check_requires_evidence_only_when_asked() {
        let c = new_challenge(&[3; 32], "app", Ceremony::Authenticate, 0, 1000, 2);
        let no_actions = new_challenge(&[3; 32], "app", Ceremony::Authenticate, 0, 1000, 0);
        assert!(check(false, None, &c, &[], false).is_ok());
        assert!(check(true, None, &no_actions, &[], true).is_ok());
        assert!(
            check(true, None, &no_actions, &[], false).is_err(),
            "no actions is no exemption: only a bound follow-up is"
        );
        assert!(check(true, None, &c, &[], false).is_err());
        assert!(check(true, Some(&EvidenceCall::Rejected), &c, &[], false).is_err());
        let bad = EvidenceCall::Malformed { reason: "x".into() };
        assert!(
            check(false, Some(&bad), &c, &[], false).is_err(),
            "400 even when not required"
        );
        assert_eq!(c.actions.len(), 2);
        let _ = LivenessAction::Blink;
    }
}
