//! Widget API: `POST /v1/{publicId}/session|enroll|authenticate`, with CORS.

use fio_core::liveness::SealedEvidence;
use fio_core::protocol::{MAX_EVIDENCE_REQUEST_BYTES, MAX_REQUEST_BYTES};
use fio_core::{Ceremony, ErrorCode};
use serde_json::json;
use worker::{Context, Env, Method, Request, Response};

use super::{base_call, dispatch, error_response, header, json_response, read_body};
use crate::app_config::is_valid_public_id;
use crate::app_index::master_key;
use crate::do_protocol::Op;
use crate::error::{EdgeError, EdgeResult};
use crate::evidence::{self, EvidenceCall};

fn op_for(action: &str) -> Option<Op> {
    match action {
        "session" => Some(Op::Start),
        "enroll" => Some(Op::Enroll),
        "authenticate" => Some(Op::Authenticate),
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
    ctx: &Context,
    public_id: &str,
    action: &str,
) -> worker::Result<Response> {
    let origin = header(&req, "origin");
    let origin = origin.as_deref();
    let Some(op) = op_for(action) else {
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
    let max = match op {
        Op::Enroll | Op::Authenticate => MAX_EVIDENCE_REQUEST_BYTES,
        _ => MAX_REQUEST_BYTES,
    };
    let body = match read_body(&mut req, max).await {
        Ok(b) => b,
        Err(e) => return with_cors(error_response(&e.reply(), false), origin),
    };
    let mut call = base_call(&req, env, op, public_id);
    call.body = String::from_utf8(body).ok();
    let carries_evidence = matches!(op, Op::Enroll | Op::Authenticate);
    if let Some(body) = call.body.take_if(|_| carries_evidence) {
        let split = evidence::split_body(body);
        call.body = Some(split.body);
        call.evidence = match split.evidence {
            None => None,
            Some(Err(reason)) => Some(EvidenceCall::Malformed { reason }),
            Some(Ok((challenge_id, sealed))) => {
                match open_and_measure(&req, env, op, public_id, &challenge_id, &sealed).await {
                    Ok(m) => Some(m),
                    Err(e) => return with_cors(error_response(&e.reply(), false), origin),
                }
            }
        };
    }
    let resp = match dispatch(env, Some(ctx), &call).await {
        Ok(v) => json_response(200, &v),
        Err(e) => error_response(&e.reply(), false),
    };
    with_cors(resp, origin)
}

/// Opens the sealed crops, reserves the challenge's one measurement with its Durable Object
/// (a replayed request stops here, before inference), then measures them.
async fn open_and_measure(
    req: &Request,
    env: &Env,
    op: Op,
    public_id: &str,
    challenge_id: &str,
    sealed: &SealedEvidence,
) -> EdgeResult<EvidenceCall> {
    let master = master_key(env)?;
    let bundle = match evidence::open(master.as_bytes(), challenge_id, sealed) {
        Ok(b) => b,
        // Nothing to measure: the Durable Object decides (PAD_ATTACK or 400) and spends the
        // challenge as for any other request.
        Err(call) => return Ok(call),
    };
    let ceremony = if op == Op::Enroll {
        Ceremony::Enroll
    } else {
        Ceremony::Authenticate
    };
    let mut claim = base_call(req, env, Op::ClaimEvidence, public_id);
    claim.args = json!({ "challengeId": challenge_id, "ceremony": ceremony });
    dispatch(env, None, &claim).await?;
    evidence::measure(env, challenge_id, &bundle).await
}
