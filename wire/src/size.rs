//! File sizes as people read them.

/// `1536` → `"1.5 KiB"`; exact bytes below 1 KiB.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return if bytes == 1 {
            "1 byte".to_owned()
        } else {
            format!("{bytes} bytes")
        };
    }
    // Whole numbers only: `{:.1}` on a float would bring float formatting
    // (~14 KB of wasm) into the browser bundle; and u64 only, as u128
    // division and formatting would bring their own.
    let (mut unit, mut divisor) = (0, 1024u64);
    while bytes / 1024 >= divisor && unit + 1 < UNITS.len() {
        divisor *= 1024;
        unit += 1;
    }
    // The whole units (at most 16,384 PiB), then tenths of the remainder,
    // which is below 2^50: neither overflows.
    let (whole, remainder) = (bytes / divisor, bytes % divisor);
    let (tenth, rest) = (remainder * 10 / divisor, remainder * 10 % divisor);
    let mut tenths = whole * 10 + tenth;
    // Rounded as `{:.1}` rounds the exact value: half to even.
    if rest * 2 > divisor || (rest * 2 == divisor && tenths % 2 == 1) {
        tenths += 1;
    }
    match tenths % 10 {
        0 => format!("{} {}", tenths / 10, UNITS[unit]),
        tenth => format!("{}.{tenth} {}", tenths / 10, UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1), "1 byte");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(100 * 1024 * 1024), "100 MiB");
    }

    /// The same figure as `{:.1}` on the exact quotient, at every scale,
    /// up to the largest size there is.
    #[test]
    fn rounds_as_float_formatting_does() {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        let mut samples = vec![
            1024,
            1535,
            1536,
            1587,
            1588,
            10_239,
            10_240,
            1_048_575,
            u64::MAX,
            u64::MAX - 1,
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..10_000 {
            // xorshift: sizes spread over every order of magnitude.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push((x >> (x % 54)).max(1024));
        }
        for bytes in samples {
            let unit = (1..units.len())
                .take_while(|k| bytes / 1024 >= 1u64 << (10 * k))
                .count();
            let value = bytes as f64 / (1u64 << (10 * (unit + 1))) as f64;
            let expected = format!("{value:.1} {}", units[unit]).replace(".0 ", " ");
            assert_eq!(human_size(bytes), expected, "{bytes}");
        }
    }
}
