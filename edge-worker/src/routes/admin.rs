//! Operator API: `POST /admin/apps`, `GET|PATCH /admin/apps/{publicId}`, bearer `ADMIN_TOKEN`.

use fio_core::protocol::parse_request;
use fio_core::protocol::MAX_REQUEST_BYTES;
use fio_core::ErrorCode;
use serde_json::{json, Value};
use worker::{Env, Method, Request, Response};

use super::{base_call, dispatch, error_response, header, json_response, read_body};
use crate::app_config::is_valid_public_id;
use crate::crypto;
use crate::do_protocol::Op;
use crate::error::{EdgeError, EdgeResult};

/// Attempts at picking an unused public ID.
const CREATE_ATTEMPTS: usize = 5;

fn authorized(req: &Request, env: &Env) -> bool {
    let Ok(token) = env.secret("ADMIN_TOKEN").map(|s| s.to_string()) else {
        return false;
    };
    let given = header(req, "authorization").unwrap_or_default();
    let given = given
        .strip_prefix("Bearer ")
        .or_else(|| given.strip_prefix("bearer "))
        .unwrap_or_default()
        .trim();
    crypto::secrets_match(given, &token)
}

async fn json_body(req: &mut Request) -> EdgeResult<Value> {
    let bytes = read_body(req, MAX_REQUEST_BYTES).await?;
    Ok(parse_request::<Value>(&bytes)?)
}

/// Handles `/admin/apps[/{publicId}]`.
pub async fn handle(
    mut req: Request,
    env: &Env,
    public_id: Option<&str>,
) -> worker::Result<Response> {
    if !authorized(&req, env) {
        return error_response(&EdgeError::code(ErrorCode::Unauthorized).reply(), false);
    }
    let result = match (req.method(), public_id) {
        (Method::Post, None) => create(&mut req, env).await,
        (Method::Get | Method::Patch, Some(id)) if !is_valid_public_id(id) => {
            Err(EdgeError::NotFound("application"))
        }
        (Method::Get, Some(id)) => {
            dispatch(env, None, &base_call(&req, env, Op::AdminGet, id)).await
        }
        (Method::Patch, Some(id)) => match json_body(&mut req).await {
            Ok(body) => {
                let mut call = base_call(&req, env, Op::AdminPatch, id);
                call.args = body;
                dispatch(env, None, &call).await
            }
            Err(e) => Err(e),
        },
        _ => Err(EdgeError::MethodNotAllowed),
    };
    match result {
        Ok(v) => json_response(200, &v),
        Err(e) => error_response(&e.reply(), false),
    }
}

async fn create(req: &mut Request, env: &Env) -> EdgeResult<Value> {
    let body = json_body(req).await?;
    for _ in 0..CREATE_ATTEMPTS {
        let public_id = format!("fioa{}", crypto::hex(&crypto::random_array::<4>()?));
        let secret = crypto::hex(&crypto::random_array::<24>()?);
        let api_key = format!("{public_id}.{secret}");
        let mut call = base_call(req, env, Op::AdminCreate, &public_id);
        call.demo = false;
        call.args = json!({
            "create": body,
            "apiKeyHash": crypto::hex(&crypto::sha256(api_key.as_bytes())),
        });
        let mut created = dispatch(env, None, &call).await?;
        if created.get("exists").is_some() {
            continue;
        }
        created["apiKey"] = Value::String(api_key);
        return Ok(created);
    }
    Err(EdgeError::Internal("could not allocate a public ID".into()))
}
