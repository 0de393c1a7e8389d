//! FACEIO's image endpoints, for a site's backend: `/faceverify` (are the faces of `src` and
//! `target` the same person?) and `/agecheck` (age and gender of the face in `src`).
//!
//! The images are `POST`ed (JSON or form: base64, optionally as a `data:` URI; multipart: the
//! file itself) with the app's API key. They are decoded, measured with the widget's own models
//! and dropped with the request: never stored, never forwarded, never logged (not even in error
//! messages). Images in the query string are refused, since URLs end up in request logs; image
//! URLs are refused too (the edge does not fetch on a caller's behalf).

use std::cell::RefCell;
use std::io::Cursor;
use std::rc::Rc;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use fio_core::{Error as FioError, ErrorBody, ErrorCode};
use fio_vision::align::{align_arcface, face_crop};
use fio_vision::attributes::{FaceRes, ATTRIBUTE_CROP_EXPAND, FACERES_MODEL, FACERES_SIZE};
use fio_vision::detect::{confident_faces, Detection, Detector, DETECTOR_MODEL};
use fio_vision::embed::{Embedder, EMBEDDER_MODEL};
use fio_vision::pipeline::PHOTO_DETECTOR_SIZE;
use fio_vision::Frame;
use serde::Serialize;
use serde_json::{Map, Value};
use worker::{Context, Env, Method, Request, Response};

use super::{context, dispatch, error_response, header, json_response, read_body};
use crate::do_protocol::DoCall;
use crate::error::{EdgeError, EdgeResult, ErrorReply};

/// Largest accepted image file (after base64 decoding).
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// Largest request: two base64 images (4/3 of [`MAX_IMAGE_BYTES`] each) plus the envelope.
pub const MAX_IMAGE_REQUEST_BYTES: usize = 6 * 1024 * 1024;
/// Largest image side in pixels.
pub const MAX_IMAGE_SIDE: u32 = 4096;
/// Largest decoder allocation: bounds width × height × channels (about 8 MP of RGBA).
const MAX_DECODE_ALLOC: u64 = 32 * 1024 * 1024;
/// Images are scaled down to this side before detection (the detector runs at 640).
const WORK_SIDE: u32 = 1280;
/// A second face at least this fraction of the largest face's width makes the image ambiguous.
const SECOND_FACE_WIDTH: f32 = 0.5;
/// `minor` in `/agecheck` replies: estimated age below this.
pub const ADULT_AGE: f32 = 18.0;

/// Which image endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageOp {
    /// `/faceverify`.
    FaceVerify,
    /// `/agecheck`.
    AgeCheck,
}

impl ImageOp {
    /// The endpoint behind a path segment.
    pub fn from_path(name: &str) -> Option<Self> {
        match name {
            "faceverify" => Some(Self::FaceVerify),
            "agecheck" => Some(Self::AgeCheck),
            _ => None,
        }
    }

    fn images(self) -> &'static [&'static str] {
        match self {
            Self::FaceVerify => &["src", "target"],
            Self::AgeCheck => &["src"],
        }
    }
}

/// `/faceverify` reply (FACEIO's field names).
#[derive(Debug, Serialize)]
struct FaceVerifyReply {
    status: u16,
    /// Cosine similarity ≥ the app's `matchThreshold`.
    same_person: bool,
    /// Cosine similarity of the two faces' embeddings, in [-1, 1].
    sim: f32,
    /// FACEIO's 0..1 score where higher means closer: `(1 + sim) / 2`.
    dist: f32,
}

/// `/agecheck` reply.
#[derive(Debug, Serialize)]
struct AgeCheckReply {
    status: u16,
    /// Estimated age in whole years.
    age: u32,
    /// `"male"` or `"female"`.
    gender: fio_vision::attributes::Gender,
    /// Estimated age below [`ADULT_AGE`].
    minor: bool,
}

/// A parameter holding an image: text (base64 or `data:` URI) or a multipart file.
enum ImageParam {
    Text(String),
    Bytes(Vec<u8>),
}

thread_local! {
    static FACE_MODELS: RefCell<Option<Rc<FaceModels>>> = const { RefCell::new(None) };
    static AGE_MODEL: RefCell<Option<Rc<FaceRes>>> = const { RefCell::new(None) };
}

/// Detector at photo size and the embedder, loaded once per isolate.
struct FaceModels {
    detector: Detector,
    embedder: Embedder,
}

/// Handles `/faceverify` and `/agecheck`.
pub async fn handle(
    mut req: Request,
    env: &Env,
    ctx: &Context,
    name: &str,
) -> worker::Result<Response> {
    let result = async {
        let op = ImageOp::from_path(name).ok_or(EdgeError::NotFound("route"))?;
        if req.method() != Method::Post {
            return Err(if req.method() == Method::Get {
                EdgeError::bad_request(
                    "send images in a POST body (query strings are logged; images never are)",
                )
            } else {
                EdgeError::MethodNotAllowed
            });
        }
        let (mut fields, mut images) = params(&mut req, op).await?;
        let key = match fields.remove("key") {
            Some(Value::String(k)) => k,
            _ => return Err(EdgeError::code(ErrorCode::Unauthorized)),
        };
        let public_id =
            super::rest::public_id_of_key(&key).ok_or(EdgeError::code(ErrorCode::Unauthorized))?;
        // Key, app status and REST quota first: no image is decoded for an unauthorised call.
        let mut call_ctx = context(&req, env, public_id);
        call_ctx.demo = false;
        call_ctx.api_key = Some(key);
        let app = dispatch(env, Some(ctx), call_ctx, DoCall::ImageCheck).await?;
        let mut frames = Vec::with_capacity(images.len());
        for name in op.images() {
            let param = images
                .remove(*name)
                .ok_or_else(|| EdgeError::bad_request(format!("missing `{name}`")))?;
            frames.push((*name, decode(name, param)?));
        }
        let models = face_models(env).await?;
        match op {
            ImageOp::FaceVerify => {
                let threshold =
                    app.get("matchThreshold")
                        .and_then(Value::as_f64)
                        .unwrap_or(f64::from(fio_core::MATCH_THRESHOLD)) as f32;
                let mut embeddings = Vec::with_capacity(2);
                for (name, frame) in &frames {
                    let face = one_face(&models, name, frame)?;
                    let aligned = align_arcface(frame, &face.landmarks).ok_or_else(|| {
                        face_error(
                            ErrorCode::NoFacesDetected,
                            format!("no usable face in `{name}`"),
                        )
                    })?;
                    embeddings.push(models.embedder.embed(&aligned).map_err(internal)?);
                }
                let sim: f32 = embeddings[0]
                    .iter()
                    .zip(&embeddings[1])
                    .map(|(a, b)| a * b)
                    .sum::<f32>()
                    .clamp(-1.0, 1.0);
                to_value(&FaceVerifyReply {
                    status: 200,
                    same_person: sim >= threshold,
                    sim,
                    dist: (1.0 + sim) / 2.0,
                })
            }
            ImageOp::AgeCheck => {
                let (name, frame) = &frames[0];
                let face = one_face(&models, name, frame)?;
                let crop = face_crop(
                    frame,
                    face.bbox,
                    &face.landmarks,
                    ATTRIBUTE_CROP_EXPAND,
                    FACERES_SIZE,
                );
                let attributes = age_model(env).await?.estimate(&crop).map_err(internal)?;
                to_value(&AgeCheckReply {
                    status: 200,
                    age: attributes.age.round().max(0.0) as u32,
                    gender: attributes.gender,
                    minor: attributes.age < ADULT_AGE,
                })
            }
        }
    }
    .await;
    // Operators see each call's cost (the isolate's wasm memory includes the loaded models);
    // never anything about the images.
    worker::console_log!(
        "images: /{name} answered {}, wasm memory {:.0} MB",
        match &result {
            Ok(_) => 200,
            Err(e) => e.reply().status,
        },
        wasm_memory_bytes() / 1048576.0
    );
    match result {
        Ok(v) => json_response(200, &v),
        Err(e) => error_response(&e.reply(), true),
    }
}

/// Size of this isolate's wasm linear memory (it only grows).
fn wasm_memory_bytes() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        use worker::wasm_bindgen::JsCast;
        worker::wasm_bindgen::memory()
            .dyn_into::<worker::js_sys::WebAssembly::Memory>()
            .map(|m| {
                m.buffer()
                    .dyn_into::<worker::js_sys::ArrayBuffer>()
                    .map(|b| f64::from(b.byte_length()))
                    .unwrap_or(0.0)
            })
            .unwrap_or(0.0)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

fn to_value<T: Serialize>(v: &T) -> EdgeResult<Value> {
    serde_json::to_value(v).map_err(|e| EdgeError::Internal(e.to_string()))
}

fn internal(e: fio_vision::Error) -> EdgeError {
    EdgeError::Internal(format!("image models: {e}"))
}

/// The body's fields (`key`) and image parameters. Query-string images are refused.
async fn params(
    req: &mut Request,
    op: ImageOp,
) -> EdgeResult<(
    Map<String, Value>,
    std::collections::HashMap<&'static str, ImageParam>,
)> {
    let mut fields = Map::new();
    let mut images = std::collections::HashMap::new();
    if let Ok(url) = req.url() {
        for (k, v) in url.query_pairs() {
            if op.images().contains(&k.as_ref()) {
                return Err(EdgeError::bad_request(format!(
                    "`{k}` must be in the POST body, not the query string"
                )));
            }
            fields.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    let raw_type = header(req, "content-type").unwrap_or_default();
    let content_type = raw_type.to_ascii_lowercase();
    let bytes = read_body(req, MAX_IMAGE_REQUEST_BYTES).await?;
    let mut take = |k: &str, v: ImageParam, fields: &mut Map<String, Value>| {
        if let Some(name) = op.images().iter().find(|n| **n == k) {
            images.insert(*name, v);
        } else if let ImageParam::Text(t) = v {
            fields.insert(k.to_owned(), Value::String(t));
        }
    };
    if content_type.starts_with("multipart/form-data") {
        let form = super::rest::parse_multipart(&raw_type, &bytes)
            .await
            .map_err(|_| EdgeError::bad_request("unreadable form"))?;
        for name in op.images().iter().copied().chain(["key"]) {
            match form.get(name) {
                Some(worker::FormEntry::Field(v)) => take(name, ImageParam::Text(v), &mut fields),
                Some(worker::FormEntry::File(f)) => {
                    let data = f
                        .bytes()
                        .await
                        .map_err(|_| EdgeError::bad_request("unreadable form"))?;
                    take(name, ImageParam::Bytes(data), &mut fields)
                }
                None => {}
            }
        }
    } else if content_type.contains("json")
        || bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
    {
        // Not fio_core::protocol::parse_request: its 32 KiB cap is for widget bodies.
        let parsed: Value = serde_json::from_slice(&bytes)
            .map_err(|_| EdgeError::bad_request("body is not valid JSON"))?;
        let Value::Object(m) = parsed else {
            return Err(EdgeError::bad_request("JSON body must be an object"));
        };
        for (k, v) in m {
            match v {
                Value::String(s) => take(&k, ImageParam::Text(s), &mut fields),
                _ if op.images().contains(&k.as_str()) => {
                    return Err(EdgeError::bad_request(format!("`{k}` must be a string")))
                }
                other => {
                    fields.insert(k, other);
                }
            }
        }
    } else {
        for (k, v) in worker::url::form_urlencoded::parse(&bytes) {
            take(&k, ImageParam::Text(v.into_owned()), &mut fields);
        }
    }
    Ok((fields, images))
}

/// Decodes one image parameter into a frame no larger than [`WORK_SIDE`]. Errors name the
/// parameter, never its content.
fn decode(name: &str, param: ImageParam) -> EdgeResult<Frame> {
    let bytes = match param {
        ImageParam::Bytes(b) => b,
        ImageParam::Text(text) => base64_image(name, &text)?,
    };
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(EdgeError::Fio(FioError::PayloadTooLarge {
            size: bytes.len(),
            max: MAX_IMAGE_BYTES,
        }));
    }
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| EdgeError::bad_request(format!("`{name}` is not a readable image")))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => EdgeError::Fio(FioError::PayloadTooLarge {
            size: MAX_DECODE_ALLOC as usize + 1,
            max: MAX_DECODE_ALLOC as usize,
        }),
        image::ImageError::Unsupported(_) => {
            EdgeError::bad_request(format!("`{name}`: unsupported image format (JPEG or PNG)"))
        }
        _ => EdgeError::bad_request(format!("`{name}` is not a readable JPEG or PNG image")),
    })?;
    let img = if img.width().max(img.height()) > WORK_SIDE {
        img.thumbnail(WORK_SIDE, WORK_SIDE)
    } else {
        img
    };
    let rgb = img.to_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    Frame::from_rgb(w, h, rgb.into_raw())
        .map_err(|_| EdgeError::bad_request(format!("`{name}` is not a usable image")))
}

/// Base64 (standard or URL-safe alphabet, padding optional, whitespace ignored), optionally a
/// `data:image/…;base64,` URI. URLs are refused.
fn base64_image(name: &str, text: &str) -> EdgeResult<Vec<u8>> {
    let t = text.trim();
    let lower = t.get(..8).unwrap_or(t).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Err(EdgeError::bad_request(format!(
            "`{name}`: image URLs are not fetched; send the image itself (base64)"
        )));
    }
    let data = if lower.starts_with("data:") {
        let (meta, data) = t
            .split_once(',')
            .ok_or_else(|| EdgeError::bad_request(format!("`{name}`: malformed data URI")))?;
        if !meta.to_ascii_lowercase().ends_with(";base64") {
            return Err(EdgeError::bad_request(format!(
                "`{name}`: data URI must be base64"
            )));
        }
        data
    } else {
        t
    };
    if data.len() > MAX_IMAGE_BYTES.div_ceil(3) * 4 + 4096 {
        return Err(EdgeError::Fio(FioError::PayloadTooLarge {
            size: data.len() / 4 * 3,
            max: MAX_IMAGE_BYTES,
        }));
    }
    let clean: Vec<u8> = data
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| match b {
            b'-' => b'+',
            b'_' => b'/',
            b => b,
        })
        .collect();
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    ENGINE
        .decode(clean)
        .map_err(|_| EdgeError::bad_request(format!("`{name}` is not valid base64")))
}

/// The image's one face: none → `NO_FACES_DETECTED`, two comparable ones → `MANY_FACES`
/// (FACEIO asks for one face per image; a small face in the background does not count).
fn one_face(models: &FaceModels, name: &str, frame: &Frame) -> EdgeResult<Detection> {
    let dets = confident_faces(models.detector.detect(frame).map_err(internal)?);
    let Some(first) = dets.first().cloned() else {
        return Err(face_error(
            ErrorCode::NoFacesDetected,
            format!("no face in `{name}`"),
        ));
    };
    if dets
        .get(1)
        .is_some_and(|d| d.bbox[2] >= SECOND_FACE_WIDTH * first.bbox[2])
    {
        return Err(face_error(
            ErrorCode::ManyFaces,
            format!("more than one face in `{name}`"),
        ));
    }
    Ok(first)
}

/// A FACEIO face outcome (HTTP 422) whose message names the image.
fn face_error(code: ErrorCode, message: String) -> EdgeError {
    EdgeError::Relayed(ErrorReply {
        status: code.http_status(),
        body: ErrorBody {
            error: code.name().to_owned(),
            code,
            message,
        },
        retry: None,
    })
}

async fn face_models(env: &Env) -> EdgeResult<Rc<FaceModels>> {
    if let Some(m) = FACE_MODELS.with(|m| m.borrow().clone()) {
        return Ok(m);
    }
    let m = Rc::new(FaceModels {
        detector: Detector::load(
            &crate::reverify::model_bytes(env, DETECTOR_MODEL).await?,
            PHOTO_DETECTOR_SIZE,
        )
        .map_err(internal)?,
        embedder: Embedder::load(&crate::reverify::model_bytes(env, EMBEDDER_MODEL).await?)
            .map_err(internal)?,
    });
    FACE_MODELS.with(|c| *c.borrow_mut() = Some(m.clone()));
    Ok(m)
}

async fn age_model(env: &Env) -> EdgeResult<Rc<FaceRes>> {
    if let Some(m) = AGE_MODEL.with(|m| m.borrow().clone()) {
        return Ok(m);
    }
    let m = Rc::new(
        FaceRes::load(&crate::reverify::model_bytes(env, FACERES_MODEL).await?)
            .map_err(internal)?,
    );
    AGE_MODEL.with(|c| *c.borrow_mut() = Some(m.clone()));
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_forms_and_refusals() {
        let png = b"\x89PNG\r\n\x1a\nabc";
        let std = base64::engine::general_purpose::STANDARD.encode(png);
        assert_eq!(base64_image("src", &std).unwrap(), png);
        let uri = format!("data:image/png;base64,{std}");
        assert_eq!(base64_image("src", &uri).unwrap(), png);
        let unpadded = std.trim_end_matches('=');
        assert_eq!(base64_image("src", unpadded).unwrap(), png);
        let wrapped = format!("{}\n{}", &std[..8], &std[8..]);
        assert_eq!(base64_image("src", &wrapped).unwrap(), png);
        assert!(base64_image("src", "https://example.com/a.jpg").is_err());
        assert!(base64_image("src", "data:image/png,raw").is_err());
        assert!(base64_image("src", "not base64 !!").is_err());
        let huge = "A".repeat(MAX_IMAGE_BYTES / 3 * 4 + 8192);
        assert_eq!(base64_image("src", &huge).unwrap_err().reply().status, 413);
    }

    #[test]
    fn decode_errors_are_client_errors() {
        let garbage = ImageParam::Bytes(b"definitely not an image".to_vec());
        assert_eq!(decode("src", garbage).unwrap_err().reply().status, 400);
        let truncated = ImageParam::Bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec());
        assert_eq!(decode("src", truncated).unwrap_err().reply().status, 400);
    }

    #[test]
    fn paths() {
        assert_eq!(ImageOp::from_path("faceverify"), Some(ImageOp::FaceVerify));
        assert_eq!(ImageOp::from_path("agecheck"), Some(ImageOp::AgeCheck));
        assert_eq!(ImageOp::from_path("appstats"), None);
    }
}
