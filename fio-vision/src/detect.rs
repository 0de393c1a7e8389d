//! Face detection with RetinaFace (mobilenet-0.25), which also gives the five landmarks that
//! ArcFace alignment needs.

use fio_core::decision::MIN_DETECTION_SCORE;

use crate::frame::Frame;
use crate::onnx::OnnxModel;
use crate::Error;

/// Manifest name of the detector.
pub const DETECTOR_MODEL: &str = "retinaface_mnet025";

/// Per-channel means the network was trained with, in its BGR channel order.
const BGR_MEAN: [f32; 3] = [104.0, 117.0, 127.0];
/// Anchor strides and the two anchor sizes (input pixels) per stride.
const ANCHORS: [(usize, [f32; 2]); 3] =
    [(8, [16.0, 32.0]), (16, [64.0, 128.0]), (32, [256.0, 512.0])];
/// Box-regression variances (centre, size) of the original training code.
const VARIANCE: [f32; 2] = [0.1, 0.2];

/// Detections below this confidence are dropped before NMS. Low on purpose: the decision about
/// what counts as a face lives in `fio_core::decision`, which sees the scores.
pub const CANDIDATE_SCORE: f32 = 0.5;
/// Overlap above which the weaker of two boxes is suppressed.
pub const NMS_IOU: f32 = 0.4;

/// A detected face in frame coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// Box as `[x, y, width, height]` in frame pixels.
    pub bbox: [f32; 4],
    /// Face confidence in [0, 1].
    pub score: f32,
    /// Left eye, right eye, nose tip, left and right mouth corners (as seen in the image).
    pub landmarks: [[f32; 2]; 5],
}

/// RetinaFace at a fixed square input size.
pub struct Detector {
    model: OnnxModel,
    size: usize,
    anchors: Vec<[f32; 4]>,
}

impl Detector {
    /// Loads the detector for a `size`×`size` input (a multiple of 32).
    pub fn load(bytes: &[u8], size: usize) -> Result<Self, Error> {
        if size == 0 || !size.is_multiple_of(32) {
            return Err(Error::Manifest(format!(
                "detector size {size} is not a positive multiple of 32"
            )));
        }
        let model = OnnxModel::load(DETECTOR_MODEL, bytes, &[1, 3, size, size])?;
        Ok(Detector {
            model,
            size,
            anchors: anchors(size),
        })
    }

    /// Side of the square network input.
    pub fn input_size(&self) -> usize {
        self.size
    }

    /// All faces in the frame, strongest first.
    pub fn detect(&self, frame: &Frame) -> Result<Vec<Detection>, Error> {
        let (input, scale) = self.preprocess(frame);
        let outputs = self.model.run(input)?;
        let n = self.anchors.len();
        let bad = |what: &str| Error::Inference {
            name: DETECTOR_MODEL.into(),
            reason: what.into(),
        };
        let [boxes, scores, points] = outputs.as_slice() else {
            return Err(bad("expected 3 outputs"));
        };
        if boxes.values.len() != n * 4
            || scores.values.len() != n * 2
            || points.values.len() != n * 10
        {
            return Err(bad("output sizes do not match the anchor count"));
        }
        let s = self.size as f32 / scale;
        let mut found = Vec::new();
        for (i, a) in self.anchors.iter().enumerate() {
            let score = scores.values[i * 2 + 1];
            if score < CANDIDATE_SCORE {
                continue;
            }
            let b = &boxes.values[i * 4..i * 4 + 4];
            let cx = a[0] + a[2] * b[0] * VARIANCE[0];
            let cy = a[1] + a[3] * b[1] * VARIANCE[0];
            let w = a[2] * (b[2] * VARIANCE[1]).exp();
            let h = a[3] * (b[3] * VARIANCE[1]).exp();
            let p = &points.values[i * 10..i * 10 + 10];
            let mut landmarks = [[0.0; 2]; 5];
            for (k, l) in landmarks.iter_mut().enumerate() {
                *l = [
                    (a[0] + a[2] * p[2 * k] * VARIANCE[0]) * s,
                    (a[1] + a[3] * p[2 * k + 1] * VARIANCE[0]) * s,
                ];
            }
            found.push(Detection {
                bbox: [(cx - w / 2.0) * s, (cy - h / 2.0) * s, w * s, h * s],
                score,
                landmarks,
            });
        }
        Ok(non_max_suppression(found, NMS_IOU))
    }

    /// Letterboxes the frame into the top-left of the square input (BGR, mean-subtracted, NCHW);
    /// returns the input and the frame→input scale.
    fn preprocess(&self, frame: &Frame) -> (Vec<f32>, f32) {
        let size = self.size;
        let scale = size as f32 / frame.width().max(frame.height()) as f32;
        let inv = 1.0 / scale;
        let plane = size * size;
        // Padding is zero after mean subtraction, i.e. the average colour, which the network
        // reads as "nothing here" more reliably than black.
        let mut input = vec![0.0f32; 3 * plane];
        let (w, h) = (
            (frame.width() as f32 * scale).round() as usize,
            (frame.height() as f32 * scale).round() as usize,
        );
        for y in 0..h.min(size) {
            for x in 0..w.min(size) {
                // Input pixel centre x+0.5 ↦ frame position (x+0.5)/scale − 0.5.
                let px = frame.sample_area(
                    (x as f32 + 0.5) * inv - 0.5,
                    (y as f32 + 0.5) * inv - 0.5,
                    inv,
                );
                let i = y * size + x;
                input[i] = px[2] - BGR_MEAN[0];
                input[plane + i] = px[1] - BGR_MEAN[1];
                input[2 * plane + i] = px[0] - BGR_MEAN[2];
            }
        }
        (input, scale)
    }
}

/// Anchors `[cx, cy, w, h]` normalised to the input, in the network's output order:
/// stride by stride, row-major cells, both sizes per cell.
fn anchors(size: usize) -> Vec<[f32; 4]> {
    let mut out = Vec::new();
    let s = size as f32;
    for (stride, sizes) in ANCHORS {
        let cells = size.div_ceil(stride);
        for y in 0..cells {
            for x in 0..cells {
                for wh in sizes {
                    out.push([
                        (x as f32 + 0.5) * stride as f32 / s,
                        (y as f32 + 0.5) * stride as f32 / s,
                        wh / s,
                        wh / s,
                    ]);
                }
            }
        }
    }
    out
}

/// Intersection over union of two `[x, y, w, h]` boxes.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let ix = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let iy = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    if ix <= 0.0 || iy <= 0.0 {
        return 0.0;
    }
    let inter = ix * iy;
    inter / (a[2] * a[3] + b[2] * b[3] - inter)
}

/// Greedy NMS: keeps the strongest box of every overlapping group, strongest first.
pub fn non_max_suppression(mut dets: Vec<Detection>, threshold: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for d in dets {
        if kept.iter().all(|k| iou(&k.bbox, &d.bbox) <= threshold) {
            kept.push(d);
        }
    }
    kept
}

/// The detections that count as faces (score at least `fio_core`'s [`MIN_DETECTION_SCORE`]),
/// largest box area first: the order every caller picks "the" face from.
pub fn confident_faces(mut dets: Vec<Detection>) -> Vec<Detection> {
    dets.retain(|d| d.score >= MIN_DETECTION_SCORE);
    dets.sort_by(|a, b| (b.bbox[2] * b.bbox[3]).total_cmp(&(a.bbox[2] * a.bbox[3])));
    dets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, score: f32) -> Detection {
        Detection {
            bbox: [x, 0.0, 10.0, 10.0],
            score,
            landmarks: [[0.0; 2]; 5],
        }
    }

    #[test]
    fn anchor_count_matches_retinaface_layout() {
        assert_eq!(anchors(320).len(), 2 * (40 * 40 + 20 * 20 + 10 * 10));
        assert_eq!(anchors(640).len(), 16800);
    }

    #[test]
    fn nms_keeps_strongest_of_overlapping_boxes() {
        let kept = non_max_suppression(vec![det(0.0, 0.8), det(1.0, 0.9), det(50.0, 0.7)], 0.4);
        assert_eq!(
            kept.iter().map(|d| d.score).collect::<Vec<_>>(),
            vec![0.9, 0.7]
        );
    }

    #[test]
    fn iou_of_identical_and_disjoint_boxes() {
        let a = [0.0, 0.0, 4.0, 4.0];
        assert!((iou(&a, &a) - 1.0).abs() < 1e-6);
        assert_eq!(iou(&a, &[10.0, 10.0, 2.0, 2.0]), 0.0);
    }

    #[test]
    fn confident_faces_drop_weak_ones_and_put_the_largest_first() {
        let det = |w: f32, score: f32| Detection {
            bbox: [0.0, 0.0, w, w],
            score,
            landmarks: [[0.0; 2]; 5],
        };
        let got = confident_faces(vec![
            det(50.0, 0.95),
            det(200.0, MIN_DETECTION_SCORE - 0.01),
            det(120.0, MIN_DETECTION_SCORE),
            det(80.0, 0.99),
        ]);
        let widths: Vec<f32> = got.iter().map(|d| d.bbox[2]).collect();
        assert_eq!(widths, [120.0, 80.0, 50.0]);
        assert!(confident_faces(vec![]).is_empty());
    }
}
