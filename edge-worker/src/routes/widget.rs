//! Widget API: `POST /v1/{publicId}/session|enroll|authenticate`, with CORS.

use fio_core::liveness::SealedEvidence;
use fio_core::protocol::{MAX_EVIDENCE_REQUEST_BYTES, MAX_REQUEST_BYTES};
use fio_core::{Ceremony, ErrorCode};
use worker::{Context, Env, Method, Request, Response};

use super::{context, dispatch, error_response, header, json_response, read_body};
use crate::app_config::is_valid_public_id;
use crate::app_index::master_key;
use crate::do_protocol::{Body, Ceremonial, ClaimEvidenceArgs, DoCall};
use crate::error::{EdgeError, EdgeResult};
use crate::reverify::{self, EvidenceCall};

/// `POST /v1/{id}/session`: no ceremony yet; `enroll`, `authenticate`: the ceremony.
fn ceremony_for(action: &str) -> Option<Option<Ceremony>> {
    match action {
        "session" => Some(None),
        "enroll" => Some(Some(Ceremony::Enroll)),
        "authenticate" => Some(Some(Ceremony::Authenticate)),
        _ => None,
    }
}

/// Echoes the request's `Origin` (the Durable Object has already enforced the app's origin
/// rules on anything that is not a preflight).
fn with_cors(resp: worker::Result<Response>, origin: Option<&str>) -> worker::Result<Response> {
    let mut resp = resp?;
    let h = resp.headers_mut();
    h.set("access-control-allow-origin", origin.unwrap_or("*"))?;
    h.set("vary", "Origin")?;
    Ok(resp)
}

/// Handles one widget request.
pub async fn handle(
    mut req: Request,
    env: &Env,
    wait: &Context,
    public_id: &str,
    action: &str,
) -> worker::Result<Response> {
    let origin = header(&req, "origin");
    let origin = origin.as_deref();
    let Some(ceremony) = ceremony_for(action) else {
        return with_cors(
            error_response(&EdgeError::NotFound("route").reply(), false),
            origin,
        );
    };
    if req.method() == Method::Options {
        let mut resp = Response::empty()?.with_status(204);
        let h = resp.headers_mut();
        h.set("access-control-allow-methods", "POST, OPTIONS")?;
        h.set(
            "access-control-allow-headers",
            &header(&req, "access-control-request-headers")
                .unwrap_or_else(|| "content-type".into()),
        )?;
        h.set("access-control-max-age", "86400")?;
        return with_cors(Ok(resp), origin);
    }
    if req.method() != Method::Post {
        return with_cors(
            error_response(&EdgeError::MethodNotAllowed.reply(), false),
            origin,
        );
    }
    if !is_valid_public_id(public_id) {
        return with_cors(
            error_response(&EdgeError::code(ErrorCode::Unauthorized).reply(), false),
            origin,
        );
    }
    // Only enroll/authenticate may carry evidence crops, hence the larger cap.
    let max = match ceremony {
        Some(_) => MAX_EVIDENCE_REQUEST_BYTES,
        None => MAX_REQUEST_BYTES,
    };
    let body = match read_body(&mut req, max).await {
        Ok(b) => b,
        Err(e) => return with_cors(error_response(&e.reply(), false), origin),
    };
    let ctx = context(&req, env, public_id);
    let body = String::from_utf8(body).ok();
    let call = match (ceremony, body) {
        (None, body) => DoCall::Start(Body::parse(body.as_deref())),
        (Some(ceremony), None) => ceremony_call(ceremony, None, None),
        (Some(ceremony), Some(body)) => {
            let split = reverify::split_body(body);
            let evidence = match split.evidence {
                None => None,
                Some(Err(reason)) => Some(EvidenceCall::Malformed { reason }),
                Some(Ok((challenge_id, sealed))) => {
                    match open_and_measure(&req, env, ceremony, public_id, &challenge_id, &sealed)
                        .await
                    {
                        Ok(m) => Some(m),
                        Err(e) => return with_cors(error_response(&e.reply(), false), origin),
                    }
                }
            };
            ceremony_call(ceremony, Some(&split.body), evidence)
        }
    };
    let resp = match dispatch(env, Some(wait), ctx, call).await {
        Ok(v) => json_response(200, &v),
        Err(e) => error_response(&e.reply(), false),
    };
    with_cors(resp, origin)
}

/// The enroll or authenticate call for a body (`None`: not UTF-8) and its evidence.
fn ceremony_call(ceremony: Ceremony, body: Option<&str>, evidence: Option<EvidenceCall>) -> DoCall {
    match ceremony {
        Ceremony::Enroll => DoCall::Enroll(Ceremonial {
            request: Body::parse(body),
            evidence,
        }),
        Ceremony::Authenticate => DoCall::Authenticate(Ceremonial {
            request: Body::parse(body),
            evidence,
        }),
    }
}

/// Opens the sealed crops, reserves the challenge's one measurement with its Durable Object
/// (a replayed request stops here, before inference), then measures them.
async fn open_and_measure(
    req: &Request,
    env: &Env,
    ceremony: Ceremony,
    public_id: &str,
    challenge_id: &str,
    sealed: &SealedEvidence,
) -> EdgeResult<EvidenceCall> {
    let master = master_key(env)?;
    let bundle = match reverify::open(master.as_bytes(), challenge_id, sealed) {
        Ok(b) => b,
        // Nothing to measure: the Durable Object decides (PAD_ATTACK or 400) and spends the
        // challenge as for any other request.
        Err(call) => return Ok(call),
    };
    let claim = ClaimEvidenceArgs {
        challenge_id: challenge_id.to_owned(),
        ceremony,
    };
    dispatch(
        env,
        None,
        context(req, env, public_id),
        DoCall::ClaimEvidence(claim),
    )
    .await?;
    reverify::measure(env, challenge_id, &bundle).await
}
