//! Facial IDs: random (version 4) UUIDs in canonical lowercase form.

use crate::bytes::hex;
use crate::error::Error;

/// Formats 16 CSPRNG bytes as a version-4 UUID (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`).
pub fn format_facial_id(random: &[u8; 16]) -> String {
    let mut b = *random;
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Parses a facial ID back to its 16 bytes.
///
/// Only the canonical lowercase v4 form we issue is accepted: facial IDs are storage keys, and
/// accepting other spellings (uppercase, braces) would give one user several keys.
pub fn parse_facial_id(s: &str) -> Result<[u8; 16], Error> {
    let bad = || Error::BadRequest("invalid facial ID".into());
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return Err(bad());
    }
    let digits: Vec<u8> = b.iter().copied().filter(|&c| c != b'-').collect();
    if digits.len() != 32 {
        return Err(bad());
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *o = (nibble(pair[0]).ok_or_else(bad)? << 4) | nibble(pair[1]).ok_or_else(bad)?;
    }
    if out[6] >> 4 != 4 || out[8] >> 6 != 0b10 {
        return Err(bad());
    }
    Ok(out)
}

/// True when `s` is a facial ID this crate could have issued.
pub fn is_valid_facial_id(s: &str) -> bool {
    parse_facial_id(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_v4_uuid() {
        let id = format_facial_id(&[0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = format_facial_id(&[0; 16]);
        assert_eq!(id, "00000000-0000-4000-8000-000000000000");
        let bytes: [u8; 16] = std::array::from_fn(|i| i as u8 * 17);
        let id = format_facial_id(&bytes);
        assert_eq!(id, "00112233-4455-4677-8899-aabbccddeeff");
        assert!(is_valid_facial_id(&id));
        let parsed = parse_facial_id(&id).unwrap();
        assert_eq!(format_facial_id(&parsed), id);
    }

    #[test]
    fn rejects_non_canonical_ids() {
        for bad in [
            "",
            "00112233-4455-4677-8899-aabbccddeef",
            "00112233-4455-4677-8899-aabbccddeeff0",
            "00112233445546778899aabbccddeeff",
            "00112233-4455-4677-8899_aabbccddeeff",
            "00112233-4455-4677-8899-AABBCCDDEEFF",
            "00112233-4455-1677-8899-aabbccddeeff",
            "00112233-4455-4677-c899-aabbccddeeff",
            "0011223g-4455-4677-8899-aabbccddeeff",
            "0011223--4455-4677-8899-aabbccddeeff",
            "00112233-4455-4677-8899-aabbccddeeé",
        ] {
            assert!(!is_valid_facial_id(bad), "{bad}");
        }
        assert!(parse_facial_id("x").unwrap_err().is_client_error());
    }
}
