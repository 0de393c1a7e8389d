//! Image files to frames, with errors that name the file.

use std::path::Path;

use fio_vision::Frame;

use crate::CliError;

/// Decodes an image file (PNG, JPEG, GIF, BMP, WebP, TIFF, PNM: PBM/PGM/PPM/PAM) into an RGB
/// frame; the formats face datasets commonly ship in.
pub fn read_frame(path: &Path) -> Result<Frame, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    let img = image::load_from_memory(&bytes).map_err(|e| match e {
        image::ImageError::Unsupported(_) => CliError(format!(
            "{}: unsupported image format ({e})",
            path.display()
        )),
        _ => CliError(format!("{}: cannot decode image ({e})", path.display())),
    })?;
    let rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    Frame::from_rgb(w as usize, h as usize, rgb.into_raw())
        .map_err(|e| CliError(format!("{}: {e}", path.display())))
}

/// Writes `rgb` (`width`×`height`, 8-bit RGB) as a binary PPM file, which `read_frame` and every
/// image tool read back losslessly.
pub fn write_ppm(path: &Path, width: usize, height: usize, rgb: &[u8]) -> Result<(), CliError> {
    let mut ppm = format!("P6\n{width} {height}\n255\n").into_bytes();
    ppm.extend_from_slice(rgb);
    std::fs::write(path, ppm).map_err(|e| CliError(format!("{}: {e}", path.display())))
}
