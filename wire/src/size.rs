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
    // (~14 KB of wasm) into the browser bundle.
    let (mut unit, mut divisor) = (0, 1024u128);
    while u128::from(bytes) >= divisor * 1024 && unit + 1 < UNITS.len() {
        divisor *= 1024;
        unit += 1;
    }
    let scaled = u128::from(bytes) * 10;
    let (mut tenths, rest) = (scaled / divisor, scaled % divisor);
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
}
