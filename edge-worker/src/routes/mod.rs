//! HTTP routing and response helpers for the front worker.

pub mod admin;
pub mod rest;
#[cfg(feature = "models")]
pub mod rest_images;
pub mod widget;

use fio_core::Error as FioError;
use futures_util::StreamExt;
use serde_json::{json, Value};
use worker::{Context, Env, Method, Request, Response};

use crate::do_protocol::{self, CallContext, DoCall, DoReply, DoRequest};
use crate::error::{EdgeError, EdgeResult, ErrorReply};
use crate::gate::ClientIpHeader;
use crate::webhook;

/// Secrets the edge cannot serve without: `TEMPLATE_KEY` (template encryption, challenge and
/// evidence keys), `PIN_PEPPER` (PIN hashes and uniqueness tags: adding it later would break
/// every stored PIN, so it must exist from the first enrollment), `ADMIN_TOKEN` (operator API).
pub const REQUIRED_SECRETS: [&str; 3] = ["TEMPLATE_KEY", "PIN_PEPPER", "ADMIN_TOKEN"];

/// The required secrets that are unset or empty.
pub fn missing_secrets(env: &Env) -> Vec<&'static str> {
    REQUIRED_SECRETS
        .into_iter()
        .filter(|name| {
            env.secret(name)
                .map(|s| s.to_string().trim().is_empty())
                .unwrap_or(true)
        })
        .collect()
}

/// Routes one request; every error becomes a JSON response.
pub async fn handle(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    // Checked on every request (a Worker has no start-up hook): nothing is served, not even
    // `/health`, by a deployment that would hash PINs without pepper or lock out operators.
    let missing = missing_secrets(&env);
    if !missing.is_empty() {
        let msg = format!(
            "required secret(s) not set: {} (see edge-worker/README.md)",
            missing.join(", ")
        );
        worker::console_error!("refusing to serve: {msg}");
        return error_response(&EdgeError::Misconfigured(msg).reply(), false);
    }
    if let Err(msg) = ClientIpHeader::parse(setting(&env, ClientIpHeader::SETTING).as_deref()) {
        worker::console_error!("refusing to serve: {msg}");
        return error_response(&EdgeError::Misconfigured(msg).reply(), false);
    }
    let path = req.path();
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["v1", public_id, "jwks.json"] => jwks(&req, &env, public_id).await,
        ["v1", public_id, action] => widget::handle(req, &env, &ctx, public_id, action).await,
        ["admin", "apps", rest @ ..] => admin::handle(req, &env, rest).await,
        [name] if rest::op_for(name).is_some() => rest::handle(req, &env, &ctx, name).await,
        [name @ ("faceverify" | "agecheck")] => images(req, &env, &ctx, name).await,
        // FACEIO's health check (`api.faceio.net/status`): reached only once the secrets and
        // settings above are valid, so a 200 here means the deployment can serve.
        ["status"] if matches!(req.method(), Method::Get | Method::Post) => json_response(
            200,
            &json!({"status": 200, "service": "openfio-edge", "operational": true}),
        ),
        [""] | ["health"] if req.method() == Method::Get => {
            json_response(200, &json!({"service": "openfio-edge", "status": "ok"}))
        }
        _ => error_response(&EdgeError::NotFound("route").reply(), false),
    }
}

/// `/faceverify` and `/agecheck`, which run the face models.
#[cfg(feature = "models")]
async fn images(req: Request, env: &Env, ctx: &Context, name: &str) -> worker::Result<Response> {
    rest_images::handle(req, env, ctx, name).await
}

/// `/faceverify` and `/agecheck` in a worker built without the face models: a REST-style 501
/// saying so, whatever the request (nothing is read, no quota is spent).
#[cfg(not(feature = "models"))]
async fn images(_req: Request, _env: &Env, _ctx: &Context, name: &str) -> worker::Result<Response> {
    let msg = format!(
        "/{name} needs the face models, and this edge was built without them (cargo feature `models`)"
    );
    error_response(&EdgeError::Unavailable(msg).reply(), true)
}

/// `GET /v1/{publicId}/jwks.json`: the JWK Set a site's backend verifies login tokens with.
/// Readable from any origin and cacheable briefly (a rotated-in key is fetched again by JOSE
/// libraries when a token names a key id they have not seen).
async fn jwks(req: &Request, env: &Env, public_id: &str) -> worker::Result<Response> {
    let result = if !matches!(req.method(), Method::Get | Method::Head) {
        Err(EdgeError::MethodNotAllowed)
    } else if !crate::app_config::is_valid_public_id(public_id) {
        Err(EdgeError::NotFound("application"))
    } else {
        let mut ctx = context(req, env, public_id);
        ctx.demo = false;
        dispatch(env, None, ctx, DoCall::Jwks).await
    };
    let mut resp = match result {
        Ok(v) => {
            let mut r = json_response(200, &v)?;
            r.headers_mut().set("cache-control", "public, max-age=30")?;
            r
        }
        Err(e) => error_response(&e.reply(), false)?,
    };
    resp.headers_mut().set("access-control-allow-origin", "*")?;
    Ok(resp)
}

/// JSON response with a status. Building a response only fails if the JS runtime is broken;
/// the error then propagates to workers-rs, which answers 500 (no panic).
pub fn json_response(status: u16, body: &Value) -> worker::Result<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

/// Error response, in widget (`{"error","code","message"}`) or REST (`{"status",…}`) form.
pub fn error_response(reply: &ErrorReply, rest_style: bool) -> worker::Result<Response> {
    let body = if rest_style {
        reply.rest_json()
    } else {
        reply.widget_json()
    };
    json_response(reply.status, &body)
}

/// A header's value, if present and non-empty.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .ok()
        .flatten()
        .filter(|v| !v.is_empty())
}

/// Reads the body as a stream, refusing more than `max` bytes by `Content-Length` and by the
/// bytes actually received, whatever the framing (fixed length, chunked, multipart): the read
/// stops at the first chunk past the limit, so an oversized body is never buffered whole.
pub async fn read_body(req: &mut Request, max: usize) -> EdgeResult<Vec<u8>> {
    let too_large = |size: usize| EdgeError::Fio(FioError::PayloadTooLarge { size, max });
    if let Some(len) = header(req, "content-length") {
        match len.trim().parse::<u64>() {
            Ok(n) if n > max as u64 => {
                return Err(too_large(usize::try_from(n).unwrap_or(usize::MAX)))
            }
            Ok(_) => {}
            Err(_) => return Err(EdgeError::bad_request("invalid Content-Length")),
        }
    }
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let mut stream = req
        .stream()
        .map_err(|_| EdgeError::bad_request("unreadable body"))?;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| EdgeError::bad_request("unreadable body"))?;
        if bytes.len() + chunk.len() > max {
            return Err(too_large(bytes.len() + chunk.len()));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The deployment's trusted client-IP header (checked valid by [`handle`]).
fn client_ip_header(env: &Env) -> ClientIpHeader {
    ClientIpHeader::parse(setting(env, ClientIpHeader::SETTING).as_deref())
        .unwrap_or(ClientIpHeader::None)
}

/// A `[vars]` setting, if set.
pub fn setting(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

/// Request context shared by widget and REST calls.
pub fn context(req: &Request, env: &Env, public_id: &str) -> CallContext {
    let demo = env
        .var("DEMO_APP_ID")
        .map(|v| v.to_string())
        .is_ok_and(|d| !d.is_empty() && d == public_id);
    CallContext {
        public_id: public_id.to_owned(),
        client_ip: crate::gate::client_ip(
            client_ip_header(env),
            header(req, "cf-connecting-ip").as_deref(),
            header(req, "x-forwarded-for").as_deref(),
        ),
        origin: header(req, "origin"),
        referer: header(req, "referer"),
        country: header(req, "cf-ipcountry"),
        api_key: None,
        demo,
        issuer: req.url().ok().map(|u| u.origin().ascii_serialization()),
    }
}

/// Reports a webhook's outcome to its app's Durable Object (the console's last deliveries); a
/// failure to record is logged, never retried (the delivery itself already happened).
pub async fn record_delivery(env: &Env, public_id: &str, outcome: webhook::Delivery) {
    let call = DoRequest {
        ctx: CallContext::internal(public_id),
        call: DoCall::RecordDelivery(outcome),
    };
    if let Err(e) = do_protocol::call(env, &call).await {
        worker::console_error!("recording a webhook delivery: {e}");
    }
}

/// Calls the app's Durable Object and queues any webhook in `waitUntil`.
pub async fn dispatch(
    env: &Env,
    wait: Option<&Context>,
    ctx: CallContext,
    call: DoCall,
) -> EdgeResult<Value> {
    let request = DoRequest { ctx, call };
    let reply: DoReply = match do_protocol::call(env, &request).await {
        Ok(r) => r,
        Err(e) => {
            worker::console_error!("durable object call failed: {e}");
            return Err(e);
        }
    };
    if let (Some(job), Some(wait)) = (reply.webhook, wait) {
        let (env, public_id) = (env.clone(), request.ctx.public_id.clone());
        wait.wait_until(async move {
            let outcome = webhook::deliver(job, webhook::local_http_allowed(&env)).await;
            record_delivery(&env, &public_id, outcome).await;
        });
    }
    match (reply.ok, reply.err) {
        (_, Some(err)) => Err(EdgeError::Relayed(err)),
        (Some(mut v), None) => {
            if let Some(t) = &reply.sign {
                let token = crate::token_signing::sign(env, &request.ctx.public_id, t).await?;
                v["token"] = Value::String(token);
            }
            Ok(v)
        }
        (None, None) => Err(EdgeError::Internal("empty reply".into())),
    }
}
