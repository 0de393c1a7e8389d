//! A YUV4MPEG2 (`.y4m`) reader for 4:2:0 video, the format ffmpeg writes and Chromium's fake
//! camera reads: `ffmpeg -i in.mp4 -pix_fmt yuv420p out.y4m`.

use std::io::{BufRead, BufReader, Read};

use crate::{Error, Frame};

/// An open y4m stream: the header's geometry and frame rate, then frames on demand.
pub struct Y4mReader<R> {
    input: BufReader<R>,
    width: usize,
    height: usize,
    /// Frames per second (the header's `F` ratio).
    pub fps: f64,
    /// Full-range (JPEG) luma and chroma instead of the default studio range 16–235.
    full_range: bool,
}

#[cfg(not(target_arch = "wasm32"))]
impl Y4mReader<std::fs::File> {
    /// Opens a y4m file, reading its header.
    pub fn open(path: &std::path::Path) -> Result<Self, Error> {
        let io = |e: std::io::Error| Error::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        Y4mReader::new(std::fs::File::open(path).map_err(io)?).map_err(|e| match e {
            Error::BadFrame(m) => Error::BadFrame(format!("{}: {m}", path.display())),
            e => e,
        })
    }
}

impl<R: Read> Y4mReader<R> {
    /// Reads the stream header; only 4:2:0 (any chroma siting) is supported.
    pub fn new(input: R) -> Result<Self, Error> {
        let mut input = BufReader::new(input);
        let header = read_line(&mut input)?.ok_or_else(|| bad("empty y4m file"))?;
        let mut fields = header.split(' ');
        if fields.next() != Some("YUV4MPEG2") {
            return Err(bad("not a YUV4MPEG2 file"));
        }
        let (mut width, mut height, mut fps, mut full_range) = (0, 0, 25.0, false);
        for f in fields.filter(|f| !f.is_empty()) {
            let (tag, value) = f.split_at(1);
            match tag {
                "W" => width = parse_number(value, "width")?,
                "H" => height = parse_number(value, "height")?,
                "F" => fps = parse_ratio(value)?,
                "C" if !value.starts_with("420") => {
                    return Err(bad(format!(
                        "y4m colour space C{value} is not supported (only 4:2:0: convert with \
                         ffmpeg -pix_fmt yuv420p)"
                    )))
                }
                "X" if value == "COLORRANGE=FULL" => full_range = true,
                _ => {}
            }
        }
        if width == 0 || height == 0 {
            return Err(bad("y4m header lacks W or H"));
        }
        Ok(Y4mReader {
            input,
            width,
            height,
            fps,
            full_range,
        })
    }

    /// The next frame as RGB, `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, Error> {
        let Some(marker) = read_line(&mut self.input)? else {
            return Ok(None);
        };
        if !marker.starts_with("FRAME") {
            return Err(bad(format!("y4m: expected FRAME, got {marker:?}")));
        }
        let (w, h) = (self.width, self.height);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let mut yuv = vec![0u8; w * h + 2 * cw * ch];
        self.input
            .read_exact(&mut yuv)
            .map_err(|e| bad(format!("y4m: truncated frame ({e})")))?;
        let (luma, chroma) = yuv.split_at(w * h);
        let (u, v) = chroma.split_at(cw * ch);
        let mut rgb = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let c = (y / 2) * cw + x / 2;
                rgb.extend(yuv_to_rgb(luma[y * w + x], u[c], v[c], self.full_range));
            }
        }
        Ok(Some(Frame::from_rgb(w, h, rgb)?))
    }
}

/// A malformed stream.
fn bad(msg: impl Into<String>) -> Error {
    Error::BadFrame(msg.into())
}

/// BT.601 YCbCr → RGB (what ffmpeg assumes for untagged SD video), studio or full range.
fn yuv_to_rgb(y: u8, u: u8, v: u8, full_range: bool) -> [u8; 3] {
    let (y, u, v) = (y as f32, u as f32 - 128.0, v as f32 - 128.0);
    let (y, u, v) = if full_range {
        (y, u, v)
    } else {
        (
            (y - 16.0) * 255.0 / 219.0,
            u * 255.0 / 224.0,
            v * 255.0 / 224.0,
        )
    };
    [
        y + 1.402 * v,
        y - 0.344_136 * u - 0.714_136 * v,
        y + 1.772 * u,
    ]
    .map(|c| c.round().clamp(0.0, 255.0) as u8)
}

/// One `\n`-terminated header line, `None` at a clean end of file.
fn read_line(input: &mut impl BufRead) -> Result<Option<String>, Error> {
    let mut line = Vec::new();
    let n = input
        .take(4096)
        .read_until(b'\n', &mut line)
        .map_err(|e| bad(format!("y4m: {e}")))?;
    if n == 0 {
        return Ok(None);
    }
    if line.pop() != Some(b'\n') {
        return Err(bad("y4m: header line too long or truncated"));
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| bad("y4m: header is not text"))
}

fn parse_number(value: &str, what: &str) -> Result<usize, Error> {
    value
        .parse()
        .map_err(|_| bad(format!("y4m: bad {what} {value:?}")))
}

fn parse_ratio(value: &str) -> Result<f64, Error> {
    let (n, d) = value.split_once(':').unwrap_or((value, "1"));
    let (n, d): (f64, f64) = (
        n.parse()
            .map_err(|_| bad(format!("y4m: bad frame rate {value:?}")))?,
        d.parse()
            .map_err(|_| bad(format!("y4m: bad frame rate {value:?}")))?,
    );
    if !(n > 0.0 && d > 0.0) {
        return Err(bad(format!("y4m: bad frame rate {value:?}")));
    }
    Ok(n / d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(header: &str, frames: &[Vec<u8>]) -> Vec<u8> {
        let mut out = format!("{header}\n").into_bytes();
        for f in frames {
            out.extend_from_slice(b"FRAME\n");
            out.extend_from_slice(f);
        }
        out
    }

    #[test]
    fn reads_geometry_rate_and_frames() {
        // 2x2 frame: studio-range white luma, neutral chroma.
        let frame = vec![235, 235, 235, 235, 128, 128];
        let bytes = stream(
            "YUV4MPEG2 W2 H2 F10:1 Ip A1:1 C420mpeg2",
            &[frame.clone(), frame],
        );
        let mut r = Y4mReader::new(bytes.as_slice()).unwrap();
        assert_eq!(r.fps, 10.0);
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!((f.width(), f.height()), (2, 2));
        assert!(f.rgb().iter().all(|&c| c == 255));
        assert!(r.next_frame().unwrap().is_some());
        assert!(r.next_frame().unwrap().is_none());
    }

    #[test]
    fn red_converts_to_red() {
        // BT.601 studio-range red: Y 81, Cb 90, Cr 240.
        assert_eq!(
            yuv_to_rgb(81, 90, 240, false).map(|c| c / 8),
            [255 / 8, 0, 0]
        );
    }

    #[test]
    fn bad_streams_are_errors() {
        assert!(Y4mReader::new(&b"P6 2 2\n"[..]).is_err());
        assert!(Y4mReader::new(&b"YUV4MPEG2 W2 H2 C444\n"[..]).is_err());
        let truncated = stream("YUV4MPEG2 W2 H2", &[vec![1, 2, 3]]);
        let mut r = Y4mReader::new(truncated.as_slice()).unwrap();
        assert!(r.next_frame().is_err());
    }
}
