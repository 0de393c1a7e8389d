//! The front worker signs the login tokens the app's Durable Object decided
//! ([`crate::do_protocol::TokenToSign`]): with WebCrypto (the runtime's native ECDSA), which took
//! ES256 signing (≈ 10 % of a login's CPU in wasm P-256, `bash scripts/bench-edge.sh --self-host
//! --profile`) off the object whose single thread bounds an app. Imported keys are cached per
//! isolate. If WebCrypto is missing or refuses, the token is signed in Rust instead: by then the
//! ceremony is committed, so failing it would lose a completed enrollment or login.

use std::cell::RefCell;
use std::collections::HashMap;

use worker::js_sys::{self, Array, Object, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::app_index::master_key;
use crate::do_protocol::TokenToSign;
use crate::error::EdgeResult;
use crate::token;

thread_local! {
    /// WebCrypto signing keys by (public ID, version), imported once per isolate.
    static KEYS: RefCell<HashMap<(String, u32), JsValue>> = RefCell::new(HashMap::new());
}

/// The compact JWS of `t` for app `public_id`.
pub async fn sign(env: &Env, public_id: &str, t: &TokenToSign) -> EdgeResult<String> {
    let master = master_key(env)?;
    let scalar = || token::signing_scalar(master.as_bytes(), public_id, t.version);
    match webcrypto_sign(public_id, t.version, scalar, t.input.as_bytes()).await {
        Ok(sig) => Ok(token::with_signature(&t.input, &sig)),
        Err(e) => {
            worker::console_error!("WebCrypto signing failed, signing in Rust: {e:?}");
            let key = token::signing_key(master.as_bytes(), public_id, t.version);
            Ok(token::sign_input(&key, &t.input))
        }
    }
}

fn get(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(name))
}

/// Calls `target.name(args…)` and awaits the promise it returns.
async fn call_async(target: &JsValue, name: &str, args: &Array) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = get(target, name)?.dyn_into()?;
    let promise: js_sys::Promise = Reflect::apply(&f, target, args)?.dyn_into()?;
    JsFuture::from(promise).await
}

fn algorithm(pairs: &[(&str, &str)]) -> Result<JsValue, JsValue> {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v))?;
    }
    Ok(o.into())
}

/// `scalar` derives the key's private scalar (HKDF), needed only when the key is not cached.
async fn webcrypto_sign(
    public_id: &str,
    version: u32,
    scalar: impl FnOnce() -> [u8; 32],
    input: &[u8],
) -> Result<Vec<u8>, JsValue> {
    let subtle = get(&get(&js_sys::global(), "crypto")?, "subtle")?;
    let cache_key = (public_id.to_owned(), version);
    let cached = KEYS.with(|k| k.borrow().get(&cache_key).cloned());
    let key = match cached {
        Some(k) => k,
        None => {
            let der = Uint8Array::from(token::pkcs8_der(&scalar()).as_slice());
            let args = Array::of5(
                &JsValue::from_str("pkcs8"),
                &der,
                &algorithm(&[("name", "ECDSA"), ("namedCurve", "P-256")])?,
                &JsValue::FALSE,
                &Array::of1(&JsValue::from_str("sign")),
            );
            let k = call_async(&subtle, "importKey", &args).await?;
            KEYS.with(|m| m.borrow_mut().insert(cache_key, k.clone()));
            k
        }
    };
    let args = Array::of3(
        &algorithm(&[("name", "ECDSA"), ("hash", "SHA-256")])?,
        &key,
        &Uint8Array::from(input),
    );
    let sig = call_async(&subtle, "sign", &args).await?;
    let bytes = Uint8Array::new(&sig).to_vec();
    if bytes.len() == 64 {
        Ok(bytes)
    } else {
        Err(JsValue::from_str("ECDSA signature is not 64 bytes"))
    }
}
