//! Model bytes that are not exactly the manifest's are refused with a clear error.

mod common;

use fio_vision::pipeline::WEBCAM_DETECTOR_SIZE;
use fio_vision::{Error, ModelFiles, Pipeline};

#[test]
fn a_corrupted_model_is_refused_by_hash() {
    let mut files = common::model_files().clone();
    let mut bytes = files.get("mobilefacenet").unwrap().to_vec();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    files.insert("mobilefacenet", bytes);
    let err = Pipeline::load(&files, WEBCAM_DETECTOR_SIZE)
        .err()
        .expect("corrupt model accepted");
    assert!(
        matches!(err, Error::ModelHash { ref name, .. } if name == "mobilefacenet"),
        "{err}"
    );
    assert!(err.to_string().contains("does not match"), "{err}");
}

#[test]
fn a_model_under_the_wrong_name_is_refused() {
    let mut files = common::model_files().clone();
    let liveness = files.get("liveness").unwrap().to_vec();
    files.insert("antispoof", liveness);
    assert!(matches!(
        Pipeline::load(&files, WEBCAM_DETECTOR_SIZE),
        Err(Error::ModelHash { .. })
    ));
}

#[test]
fn a_missing_model_is_named() {
    let err = Pipeline::load(&ModelFiles::default(), WEBCAM_DETECTOR_SIZE)
        .err()
        .unwrap();
    assert!(err.to_string().contains("retinaface_mnet025"), "{err}");
}

#[test]
fn a_bad_detector_size_is_an_error() {
    assert!(Pipeline::load(common::model_files(), 100).is_err());
}
