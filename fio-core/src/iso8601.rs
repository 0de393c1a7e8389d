//! ISO 8601 UTC timestamps (`2026-11-26T10:39:07.123Z`) from Unix milliseconds, without chrono.
//!
//! Uses Howard Hinnant's `civil_from_days` / `days_from_civil` (proleptic Gregorian calendar).

const MS_PER_DAY: u64 = 86_400_000;

/// Year, month (1..=12), day (1..=31) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], counted from March 1
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Formats Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_iso8601_ms(unix_ms: u64) -> String {
    let (days, ms_of_day) = (unix_ms / MS_PER_DAY, unix_ms % MS_PER_DAY);
    let (y, mo, d) = civil_from_days(days as i64);
    let (h, mi, s, ms) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1_000 % 60,
        ms_of_day % 1_000,
    );
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// Parses exactly the format [`format_iso8601_ms`] produces (years 1970..=9999).
pub fn parse_iso8601_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 24 || !s.is_ascii() {
        return None;
    }
    let seps = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ];
    if seps.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u64> {
        let digits = &s[from..to];
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (y, mo, d) = (num(0, 4)? as i64, num(5, 7)? as u32, num(8, 10)? as u32);
    let (h, mi, sec, ms) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
    let valid = y >= 1970
        && (1..=12).contains(&mo)
        && (1..=days_in_month(y, mo)).contains(&d)
        && h < 24
        && mi < 60
        && sec < 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(y, mo, d) as u64;
    Some(days * MS_PER_DAY + h * 3_600_000 + mi * 60_000 + sec * 1_000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_iso8601_ms(1), "1970-01-01T00:00:00.001Z");
        assert_eq!(
            format_iso8601_ms(951_782_400_000),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            format_iso8601_ms(1_709_251_199_999),
            "2024-02-29T23:59:59.999Z"
        );
        assert_eq!(
            format_iso8601_ms(1_709_251_200_000),
            "2024-03-01T00:00:00.000Z"
        );
        // 1900 and 2100 are not leap years; 2100-02-28 is followed by March 1.
        assert_eq!(
            format_iso8601_ms(4_107_456_000_000),
            "2100-02-28T00:00:00.000Z"
        );
        assert_eq!(
            format_iso8601_ms(4_107_542_400_000),
            "2100-03-01T00:00:00.000Z"
        );
        assert_eq!(
            format_iso8601_ms(1_798_282_747_123),
            "2026-12-26T10:59:07.123Z"
        );
        assert_eq!(
            format_iso8601_ms(1_795_689_547_123),
            "2026-11-26T10:39:07.123Z"
        );
        assert_eq!(
            format_iso8601_ms(253_402_300_799_999),
            "9999-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn days_round_trip_every_day_for_centuries() {
        for days in 0..(365 * 450) {
            let (y, m, d) = civil_from_days(days);
            assert!(d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn parse_round_trips_and_rejects_bad_dates() {
        for ms in [0, 951_782_400_000, 1_709_251_199_999, 1_798_282_747_123] {
            assert_eq!(parse_iso8601_ms(&format_iso8601_ms(ms)), Some(ms));
        }
        for bad in [
            "",
            "2023-02-29T00:00:00.000Z",
            "2100-02-29T00:00:00.000Z",
            "2024-13-01T00:00:00.000Z",
            "2024-04-31T00:00:00.000Z",
            "2024-01-01T24:00:00.000Z",
            "2024-01-01T00:60:00.000Z",
            "2024-01-01 00:00:00.000Z",
            "2024-01-01T00:00:00.000",
            "1969-12-31T23:59:59.999Z",
            "2024-01-01T00:00:00.+00Z",
        ] {
            assert_eq!(parse_iso8601_ms(bad), None, "{bad}");
        }
        assert!(parse_iso8601_ms("2000-02-29T12:00:00.000Z").is_some());
    }
}
