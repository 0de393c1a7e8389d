//! The widget's models inside the Worker: fetched once per isolate from the static assets
//! (`/models/*.onnx`, the files the widget downloads), checked against the compiled-in
//! manifest's sha256 and kept for later requests.

use std::cell::RefCell;
use std::rc::Rc;

use fio_core::liveness::CropBundle;
use fio_vision::evidence_crops::{EvidenceVerifier, EVIDENCE_MODELS};
use fio_vision::ModelFiles;
use worker::Env;

use super::{EvidenceCall, MeasuredCrop};
use crate::error::{EdgeError, EdgeResult};

/// Static-assets binding (wrangler.toml `[assets] binding`).
const ASSETS_BINDING: &str = "ASSETS";

thread_local! {
    static VERIFIER: RefCell<Option<Rc<EvidenceVerifier>>> = const { RefCell::new(None) };
}

/// One of the widget's models (`/models/{name}.onnx`) from the static assets. The bytes are
/// checked against the compiled-in manifest's sha256 when a model is loaded from them.
pub async fn model_bytes(env: &Env, name: &str) -> EdgeResult<Vec<u8>> {
    let assets = env.assets(ASSETS_BINDING)?;
    // The host is ignored by the assets fetcher; only the path selects the file.
    let mut resp = assets
        .fetch(format!("https://assets.invalid/models/{name}.onnx"), None)
        .await?;
    if resp.status_code() != 200 {
        return Err(EdgeError::Internal(format!(
            "model {name}: assets answered {}",
            resp.status_code()
        )));
    }
    Ok(resp.bytes().await?)
}

async fn verifier(env: &Env) -> EdgeResult<Rc<EvidenceVerifier>> {
    if let Some(v) = VERIFIER.with(|v| v.borrow().clone()) {
        return Ok(v);
    }
    let mut files = ModelFiles::default();
    for name in EVIDENCE_MODELS {
        files.insert(name, model_bytes(env, name).await?);
    }
    let v = Rc::new(
        EvidenceVerifier::load(&files)
            .map_err(|e| EdgeError::Internal(format!("evidence models: {e}")))?,
    );
    VERIFIER.with(|c| *c.borrow_mut() = Some(v.clone()));
    Ok(v)
}

/// Measures every crop with the widget's models (the expensive part: claim the challenge's
/// measurement first).
pub async fn measure(
    env: &Env,
    challenge_id: &str,
    bundle: &CropBundle,
) -> EdgeResult<EvidenceCall> {
    // The operator's log shows each measurement, so replays can be seen (and are tested).
    worker::console_log!(
        "evidence: measuring {} crops for challenge {}",
        bundle.crops.len(),
        challenge_id.get(..8).unwrap_or_default()
    );
    let verifier = verifier(env).await?;
    let mut crops = Vec::with_capacity(bundle.crops.len());
    for rgb in &bundle.crops {
        let m = verifier
            .measure(rgb)
            .map_err(|e| EdgeError::Internal(format!("evidence crop: {e}")))?;
        crops.push(MeasuredCrop {
            cues: m.cues,
            embedding: m.embedding,
        });
    }
    Ok(EvidenceCall::Measured { crops })
}
