//! Numbers and month names as logs write them: ASCII digits only (no sign, no white space),
//! English abbreviated months.

/// A number of 1 to 9 digits (so that it fits a `u32`); `None` for anything else.
#[inline]
pub fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |v, &c| v * 10 + u32::from(c - b'0')))
}

/// A number of 1 to `max_len` digits that fits a `u64`; `None` for anything else.
#[inline]
pub fn digits_u64(b: &[u8], max_len: usize) -> Option<u64> {
    if b.is_empty() || b.len() > max_len || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() < 20 {
        // At most 19 digits never overflow.
        return Some(b.iter().fold(0, |v, &c| v * 10 + u64::from(c - b'0')));
    }
    b.iter().try_fold(0u64, |v, &c| {
        v.checked_mul(10)?.checked_add(u64::from(c - b'0'))
    })
}

/// The number written by the first `n` bytes of `b` (`n` at most 9), all of them digits;
/// `None` when `b` is shorter or one of them is not a digit.
#[inline]
pub fn fixed(b: &[u8], n: usize) -> Option<u32> {
    if b.len() < n {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..n] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// The English abbreviated month names, January first.
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// The month number (1 to 12) of an English abbreviated month name (`Jan` ... `Dec`, exactly
/// as written, three letters).
#[inline]
pub fn month(b: &[u8]) -> Option<u32> {
    // Compared as arrays of three bytes, not as slices: this runs for every syslog line.
    let b: &[u8; 3] = b.try_into().ok()?;
    MONTHS.iter().position(|m| *m == b).map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(digits(b"042"), Some(42));
        assert_eq!(digits(b""), None);
        assert_eq!(digits(b"1234567890"), None);
        assert_eq!(digits(b"-1"), None);
        assert_eq!(digits_u64(b"18446744073709551615", 20), Some(u64::MAX));
        assert_eq!(digits_u64(b"18446744073709551616", 20), None);
        assert_eq!(digits_u64(b"18446744073709551615", 19), None);
        assert_eq!(fixed(b"12:", 2), Some(12));
        assert_eq!(fixed(b"1", 2), None);
        assert_eq!(fixed(b"1a", 2), None);
    }

    #[test]
    fn months() {
        assert_eq!(month(b"Jan"), Some(1));
        assert_eq!(month(b"Dec"), Some(12));
        assert_eq!(month(b"dec"), None);
        assert_eq!(month(b"Decem"), None);
    }
}
