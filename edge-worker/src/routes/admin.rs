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
//! | `POST /admin/apps/{id}/gallery/control` | bench/test controls of the gallery shards (seed, restart, fault, inspect); 404 unless `GALLERY_TEST_CONTROLS = "1"` |

use fio_core::protocol::parse_request;
use fio_core::protocol::MAX_REQUEST_BYTES;
use fio_core::ErrorCode;
use serde_json::{Map, Value};
use worker::{Env, Method, Request, Response};

use super::{context, dispatch, error_response, header, json_response, read_body};
use crate::app_config::{
    is_valid_public_id, AppCreate, AppPatch, DEFAULT_ROTATION_GRACE_SECONDS,
    MAX_ROTATION_GRACE_SECONDS,
};
use crate::crypto;
use crate::do_protocol::{
    self, AdminCreateArgs, CallContext, DoCall, DoRequest, FacialIdArgs, Param, RotateApiKeyArgs,
    RotateWebhookSecretArgs, DIRECTORY,
};
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
fn query(req: &Request) -> Map<String, Value> {
    let mut out = Map::new();
    if let Ok(url) = req.url() {
        for (k, v) in url.query_pairs() {
            out.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    out
}

/// The grace period a rotation keeps the old credential for (`graceSeconds`, default 600), in ms.
pub fn grace_ms(body: &Value) -> EdgeResult<u64> {
    let secs = match body.get("graceSeconds") {
        None | Some(Value::Null) => DEFAULT_ROTATION_GRACE_SECONDS,
        Some(v) => v
            .as_u64()
            .filter(|s| *s <= MAX_ROTATION_GRACE_SECONDS)
            .ok_or_else(|| {
                EdgeError::bad_request(format!(
                    "graceSeconds must be an integer within 0..={MAX_ROTATION_GRACE_SECONDS}"
                ))
            })?,
    };
    Ok(secs * 1000)
}

/// An operator body of the given shape (400 `invalid body: …` otherwise).
fn typed_body<T: serde::de::DeserializeOwned>(body: Value) -> EdgeResult<T> {
    serde_json::from_value(body).map_err(|e| EdgeError::bad_request(format!("invalid body: {e}")))
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
                Method::Get => internal(env, DIRECTORY, DoCall::AdminList).await,
                Method::Post => create(req, env).await,
                _ => Err(EdgeError::MethodNotAllowed),
            }
        }
        [id, tail @ ..] => (*id, tail),
    };
    if !is_valid_public_id(id) {
        return Err(EdgeError::NotFound("application"));
    }
    let mut ctx = context(req, env, id);
    ctx.demo = false;
    let call = match (method, tail) {
        (Method::Get, []) => DoCall::AdminGet,
        (Method::Patch, []) => DoCall::AdminPatch(typed_body::<AppPatch>(json_body(req).await?)?),
        (Method::Delete, []) => DoCall::AdminDelete,
        (Method::Post, ["api-key", "rotate"]) => {
            let grace_ms = grace_ms(&object_body(req).await?)?;
            let secret = crypto::hex(&crypto::random_array::<24>()?);
            let api_key = format!("{id}.{secret}");
            let args = RotateApiKeyArgs {
                api_key_hash: crypto::hex(&crypto::sha256(api_key.as_bytes())),
                grace_ms,
            };
            let mut v = dispatch(env, None, ctx, DoCall::AdminRotateApiKey(args)).await?;
            v["apiKey"] = Value::String(api_key);
            return Ok(v);
        }
        (Method::Post, ["webhook-secret", "rotate"]) => {
            let grace_ms = grace_ms(&object_body(req).await?)?;
            DoCall::AdminRotateWebhookSecret(RotateWebhookSecretArgs { grace_ms })
        }
        (Method::Post, ["signing-key", "rotate"]) => DoCall::AdminRotateSigningKey,
        (Method::Get, ["stats"]) => DoCall::AdminStats,
        (Method::Get, ["facialids"]) => {
            DoCall::AdminListFacialIds(super::rest::list_args(&query(req)))
        }
        (Method::Delete, ["facialids", fid]) => DoCall::AdminDeleteFacialId(FacialIdArgs {
            fid: Some(Param::Text((*fid).to_owned())),
        }),
        (Method::Post, ["webhook", "test"]) => {
            let v = dispatch(env, None, ctx, DoCall::AdminWebhookTest).await?;
            let job: WebhookJob = serde_json::from_value(v)
                .map_err(|_| EdgeError::bad_request("the app has no webhookUrl"))?;
            let outcome = webhook::deliver(job, webhook::local_http_allowed(env)).await;
            super::record_delivery(env, id, outcome.clone()).await;
            return Ok(serde_json::to_value(outcome)?);
        }
        (Method::Get, ["webhook", "deliveries"]) => DoCall::AdminDeliveries,
        (Method::Post, ["gallery", "control"]) if crate::app_index::test_controls_enabled(env) => {
            DoCall::AdminGalleryControl(typed_body(json_body(req).await?)?)
        }
        (_, [] | ["api-key" | "webhook-secret" | "signing-key", "rotate"] | ["stats"])
        | (_, ["facialids", ..] | ["webhook", "test" | "deliveries"]) => {
            return Err(EdgeError::MethodNotAllowed)
        }
        _ => return Err(EdgeError::NotFound("route")),
    };
    dispatch(env, None, ctx, call).await
}

/// A call to a Durable Object that no client request stands behind (the directory).
async fn internal(env: &Env, name: &str, call: DoCall) -> EdgeResult<Value> {
    dispatch(env, None, CallContext::internal(name), call).await
}

async fn create(req: &mut Request, env: &Env) -> EdgeResult<Value> {
    let create: AppCreate = typed_body(json_body(req).await?)?;
    for _ in 0..CREATE_ATTEMPTS {
        let public_id = format!("fioa{}", crypto::hex(&crypto::random_array::<4>()?));
        let secret = crypto::hex(&crypto::random_array::<24>()?);
        let api_key = format!("{public_id}.{secret}");
        let mut ctx = context(req, env, &public_id);
        ctx.demo = false;
        let args = AdminCreateArgs {
            create: create.clone(),
            api_key_hash: crypto::hex(&crypto::sha256(api_key.as_bytes())),
        };
        let mut created = dispatch(env, None, ctx, DoCall::AdminCreate(args)).await?;
        if created.get("exists").is_some() {
            continue;
        }
        created["apiKey"] = Value::String(api_key);
        return Ok(created);
    }
    Err(EdgeError::Internal("could not allocate a public ID".into()))
}

/// Registers or removes an app in the directory (called by the app's Durable Object).
pub async fn directory(env: &Env, call: DoCall) -> EdgeResult<()> {
    let call = DoRequest {
        ctx: CallContext::internal(DIRECTORY),
        call,
    };
    let reply = do_protocol::call(env, &call).await?;
    match reply.err {
        Some(e) => Err(EdgeError::Relayed(e)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn grace_periods() {
        assert_eq!(
            grace_ms(&json!({})).unwrap(),
            DEFAULT_ROTATION_GRACE_SECONDS * 1000
        );
        assert_eq!(
            grace_ms(&json!({"graceSeconds": null})).unwrap(),
            DEFAULT_ROTATION_GRACE_SECONDS * 1000
        );
        assert_eq!(grace_ms(&json!({"graceSeconds": 0})).unwrap(), 0);
        let max = MAX_ROTATION_GRACE_SECONDS;
        assert_eq!(grace_ms(&json!({"graceSeconds": max})).unwrap(), max * 1000);
        for bad in [json!(max + 1), json!(-1), json!(1.5), json!("60")] {
            let e = grace_ms(&json!({"graceSeconds": bad})).unwrap_err();
            assert_eq!(e.reply().status, 400, "{bad}");
        }
    }

    #[test]
    fn operator_bodies_are_typed_with_400s() {
        let c: AppCreate = typed_body(json!({"name": "Shop"})).unwrap();
        assert_eq!(c.name, "Shop");
        let e = typed_body::<AppCreate>(json!({})).unwrap_err().reply();
        assert_eq!(e.status, 400);
        assert!(
            e.body
                .message
                .starts_with("bad request: invalid body: missing field `name`"),
            "{}",
            e.body.message
        );
        let e = typed_body::<AppPatch>(json!({"colour": 1}))
            .unwrap_err()
            .reply();
        assert!(
            e.body
                .message
                .starts_with("bad request: invalid body: unknown field `colour`"),
            "{}",
            e.body.message
        );
    }
}
