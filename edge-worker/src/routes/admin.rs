//! Operator API under `/admin/apps`, bearer `ADMIN_TOKEN` (constant-time); also what the
//! operator console (`/console/`) calls.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /admin/apps` | every app (the directory) |
//! | `POST /admin/apps` | create an app (API key and webhook secret shown once) |
//! | `GET`, `PATCH`, `DELETE /admin/apps/{id}` | read, change, delete (all its data) |
//! | `POST /admin/apps/{id}/api-key/rotate` | new API key; the old one works for `graceSeconds` |
//! | `POST /admin/apps/{id}/webhook-secret/rotate` | new webhook secret; events are signed with both during `graceSeconds` |
//! | `POST /admin/apps/{id}/signing-key/rotate` | new login-token signing key |
//! | `GET /admin/apps/{id}/stats` | the counters of `/appstats` |
//! | `GET /admin/apps/{id}/facialids` | the facial IDs of `/listfacialids` (`offset`, `limit`) |
//! | `DELETE /admin/apps/{id}/facialids/{fid}` | as `/deletefacialid` |
//! | `POST /admin/apps/{id}/webhook/test` | sends a `test` event now; answers its outcome |
//! | `GET /admin/apps/{id}/webhook/deliveries` | the last deliveries with their HTTP status |

use fio_core::protocol::parse_request;
use fio_core::protocol::MAX_REQUEST_BYTES;
use fio_core::ErrorCode;
use serde_json::{json, Map, Value};
use worker::{Env, Method, Request, Response};

use super::{base_call, dispatch, error_response, header, json_response, read_body};
use crate::app_config::is_valid_public_id;
use crate::crypto;
use crate::do_protocol::{self, DoCall, Op, DIRECTORY};
use crate::error::{EdgeError, EdgeResult};
use crate::webhook::{self, WebhookJob};

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
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    Ok(parse_request::<Value>(&bytes)?)
}

/// A JSON object body (empty → `{}`); anything else is 400.
async fn object_body(req: &mut Request) -> EdgeResult<Value> {
    let v = json_body(req).await?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(EdgeError::bad_request("body must be a JSON object"))
    }
}

/// The query string as a JSON object of strings.
fn query(req: &Request) -> Value {
    let mut out = Map::new();
    if let Ok(url) = req.url() {
        for (k, v) in url.query_pairs() {
            out.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    Value::Object(out)
}

/// Handles `/admin/apps/…` (`rest`: the path segments after `apps`).
pub async fn handle(mut req: Request, env: &Env, rest: &[&str]) -> worker::Result<Response> {
    if !authorized(&req, env) {
        return error_response(&EdgeError::code(ErrorCode::Unauthorized).reply(), false);
    }
    let result = route(&mut req, env, rest).await;
    match result {
        Ok(v) => json_response(200, &v),
        Err(e) => error_response(&e.reply(), false),
    }
}

async fn route(req: &mut Request, env: &Env, rest: &[&str]) -> EdgeResult<Value> {
    let method = req.method();
    let (id, tail) = match rest {
        [] => {
            return match method {
                Method::Get => internal(env, Op::AdminList, DIRECTORY, Value::Null).await,
                Method::Post => create(req, env).await,
                _ => Err(EdgeError::MethodNotAllowed),
            }
        }
        [id, tail @ ..] => (*id, tail),
    };
    if !is_valid_public_id(id) {
        return Err(EdgeError::NotFound("application"));
    }
    let mut template = base_call(req, env, Op::AdminGet, id);
    template.demo = false;
    let call = |op: Op, args: Value| DoCall {
        op,
        args,
        ..template.clone()
    };
    let op_args = match (method, tail) {
        (Method::Get, []) => (Op::AdminGet, Value::Null),
        (Method::Patch, []) => (Op::AdminPatch, json_body(req).await?),
        (Method::Delete, []) => (Op::AdminDelete, Value::Null),
        (Method::Post, ["api-key", "rotate"]) => {
            let mut args = object_body(req).await?;
            let secret = crypto::hex(&crypto::random_array::<24>()?);
            let api_key = format!("{id}.{secret}");
            args["apiKeyHash"] = Value::String(crypto::hex(&crypto::sha256(api_key.as_bytes())));
            let mut v = dispatch(env, None, &call(Op::AdminRotateApiKey, args)).await?;
            v["apiKey"] = Value::String(api_key);
            return Ok(v);
        }
        (Method::Post, ["webhook-secret", "rotate"]) => {
            (Op::AdminRotateWebhookSecret, object_body(req).await?)
        }
        (Method::Post, ["signing-key", "rotate"]) => (Op::AdminRotateSigningKey, Value::Null),
        (Method::Get, ["stats"]) => (Op::AdminStats, Value::Null),
        (Method::Get, ["facialids"]) => (Op::AdminListFacialIds, query(req)),
        (Method::Delete, ["facialids", fid]) => (Op::AdminDeleteFacialId, json!({ "fid": fid })),
        (Method::Post, ["webhook", "test"]) => {
            let v = dispatch(env, None, &call(Op::AdminWebhookTest, Value::Null)).await?;
            let job: WebhookJob = serde_json::from_value(v)
                .map_err(|_| EdgeError::bad_request("the app has no webhookUrl"))?;
            let outcome = webhook::deliver(job, webhook::local_http_allowed(env)).await;
            super::record_delivery(env, id, outcome.clone()).await;
            return Ok(serde_json::to_value(outcome)?);
        }
        (Method::Get, ["webhook", "deliveries"]) => (Op::AdminDeliveries, Value::Null),
        (_, [] | ["api-key" | "webhook-secret" | "signing-key", "rotate"] | ["stats"])
        | (_, ["facialids", ..] | ["webhook", "test" | "deliveries"]) => {
            return Err(EdgeError::MethodNotAllowed)
        }
        _ => return Err(EdgeError::NotFound("route")),
    };
    dispatch(env, None, &call(op_args.0, op_args.1)).await
}

/// A call to a Durable Object that no client request stands behind (the directory).
async fn internal(env: &Env, op: Op, name: &str, args: Value) -> EdgeResult<Value> {
    let call = DoCall {
        args,
        ..DoCall::internal(op, name)
    };
    dispatch(env, None, &call).await
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

/// Registers or removes an app in the directory (called by the app's Durable Object).
pub async fn directory(env: &Env, op: Op, args: Value) -> EdgeResult<()> {
    let call = DoCall {
        args,
        ..DoCall::internal(op, DIRECTORY)
    };
    let reply = do_protocol::call(env, &call).await?;
    match reply.err {
        Some(e) => Err(EdgeError::Relayed(e)),
        None => Ok(()),
    }
}
