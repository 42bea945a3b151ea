//! DynamoDB numbers: up to 38 significant decimal digits, magnitudes from 1E-130 to
//! 9.9999999999999999999999999999999999999E+125, exact arithmetic.
//!
//! A number is kept normalized as sign, significant digits (no leading or trailing zeros) and the
//! exponent of the first digit, so derived equality and hashing are numeric equality ("1.0" == "1",
//! "-0" == "0") and ordering needs no arithmetic.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::ValidationError;

/// Most significant digits a number may have.
pub const MAX_DIGITS: usize = 38;
/// Exponent (scientific notation, `d.ddd × 10^e`) of the largest magnitude.
pub const MAX_EXPONENT: i32 = 125;
/// Exponent of the smallest non-zero magnitude.
pub const MIN_EXPONENT: i32 = -130;

pub(crate) const NOT_A_NUMBER: &str = "A value provided cannot be converted into a number";
const OVERFLOW: &str =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
const UNDERFLOW: &str =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";
const TOO_PRECISE: &str = "Attempting to store more than 38 significant digits in a Number";

/// Exponents beyond this are out of range whatever the digits; capping keeps parsing of
/// "1e99999999999999999999" from overflowing an integer.
const EXPONENT_CAP: i64 = 1_000_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Number {
    negative: bool,
    /// Significant digits, each 0..=9; the first and last are never 0. Empty for zero.
    digits: Vec<u8>,
    /// The value is `digits[0].digits[1..] × 10^exponent`; 0 for zero.
    exponent: i32,
}

impl Number {
    pub fn zero() -> Self {
        Self::default()
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The significant digits (0..=9), most significant first; empty for zero.
    pub fn digits(&self) -> &[u8] {
        &self.digits
    }

    /// The exponent of the most significant digit (scientific notation); 0 for zero.
    pub fn exponent(&self) -> i32 {
        self.exponent
    }

    /// Builds a number from sign, digits and the power of ten of the *last* digit, normalizing and
    /// checking DynamoDB's limits.
    fn from_parts(
        negative: bool,
        digits: &[u8],
        last_digit_power: i64,
    ) -> Result<Self, ValidationError> {
        let start = digits.iter().position(|&d| d != 0);
        let Some(start) = start else {
            return Ok(Self::zero());
        };
        let end = digits.iter().rposition(|&d| d != 0).unwrap_or(start) + 1;
        let significant = &digits[start..end];
        // Power of the first significant digit.
        let exponent = last_digit_power + (digits.len() - 1 - start) as i64;
        if exponent > i64::from(MAX_EXPONENT) {
            return Err(ValidationError::new(OVERFLOW));
        }
        if exponent < i64::from(MIN_EXPONENT) {
            return Err(ValidationError::new(UNDERFLOW));
        }
        if significant.len() > MAX_DIGITS {
            return Err(ValidationError::new(TOO_PRECISE));
        }
        Ok(Self {
            negative,
            digits: significant.to_vec(),
            exponent: exponent as i32,
        })
    }

    /// Parses the wire form: optional sign, digits with at most one point, optional exponent.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new(NOT_A_NUMBER);
        let bytes = text.as_bytes();
        let mut i = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut digits = Vec::new();
        let mut fraction_digits: i64 = 0;
        let mut seen_point = false;
        while i < bytes.len() {
            match bytes[i] {
                b @ b'0'..=b'9' => {
                    digits.push(b - b'0');
                    if seen_point {
                        fraction_digits += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if digits.is_empty() {
            return Err(bad());
        }
        let mut exponent: i64 = 0;
        if i < bytes.len() {
            if bytes[i] != b'e' && bytes[i] != b'E' {
                return Err(bad());
            }
            i += 1;
            let exponent_negative = match bytes.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            if i >= bytes.len() {
                return Err(bad());
            }
            while i < bytes.len() {
                let b = bytes[i];
                if !b.is_ascii_digit() {
                    return Err(bad());
                }
                exponent = (exponent * 10 + i64::from(b - b'0')).min(EXPONENT_CAP);
                i += 1;
            }
            if exponent_negative {
                exponent = -exponent;
            }
        }
        Self::from_parts(negative, &digits, exponent - fraction_digits)
    }

    /// Exact sum, checked against the limits of a stored number.
    pub fn add(&self, other: &Number) -> Result<Number, ValidationError> {
        if self.is_zero() {
            return Ok(other.clone());
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        let (a, b, power) = align(self, other);
        let (negative, magnitude) = if self.negative == other.negative {
            (self.negative, add_magnitudes(&a, &b))
        } else {
            match compare_magnitudes(&a, &b) {
                Ordering::Equal => return Ok(Number::zero()),
                Ordering::Greater => (self.negative, sub_magnitudes(&a, &b)),
                Ordering::Less => (other.negative, sub_magnitudes(&b, &a)),
            }
        };
        Number::from_parts(negative, &magnitude, power)
    }

    /// Exact difference, checked against the limits of a stored number.
    pub fn sub(&self, other: &Number) -> Result<Number, ValidationError> {
        self.add(&other.negated())
    }

    pub fn negated(&self) -> Number {
        let mut n = self.clone();
        if !n.is_zero() {
            n.negative = !n.negative;
        }
        n
    }

    /// Bytes DynamoDB counts for this number in an item's size: about one per two significant
    /// digits plus one.
    pub fn stored_size(&self) -> usize {
        if self.is_zero() {
            return 1;
        }
        let n = self.digits.len();
        let even_pad = usize::from(n.is_multiple_of(2) && self.exponent % 2 == 0);
        1 + n.div_ceil(2) + even_pad + usize::from(self.negative)
    }
}

/// Both magnitudes as digit strings (most significant first) over the same power of ten, which is
/// the power of their last digits.
fn align(a: &Number, b: &Number) -> (Vec<u8>, Vec<u8>, i64) {
    let last = |n: &Number| i64::from(n.exponent) - (n.digits.len() as i64 - 1);
    let (la, lb) = (last(a), last(b));
    let power = la.min(lb);
    let top = i64::from(a.exponent.max(b.exponent));
    let width = (top - power + 1) as usize;
    let place = |n: &Number, l: i64| {
        let mut v = vec![0u8; width];
        let offset = (top - i64::from(n.exponent)) as usize;
        v[offset..offset + n.digits.len()].copy_from_slice(&n.digits);
        debug_assert_eq!((l - power) as usize + offset + n.digits.len(), width);
        v
    };
    (place(a, la), place(b, lb), power)
}

fn compare_magnitudes(a: &[u8], b: &[u8]) -> Ordering {
    a.cmp(b)
}

/// Sum of equal-width digit strings; one digit wider for the carry.
fn add_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len() + 1];
    let mut carry = 0;
    for i in (0..a.len()).rev() {
        let s = a[i] + b[i] + carry;
        out[i + 1] = s % 10;
        carry = s / 10;
    }
    out[0] = carry;
    out
}

/// `a - b` for equal-width digit strings with `a >= b`.
fn sub_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len()];
    let mut borrow = 0i8;
    for i in (0..a.len()).rev() {
        let mut d = a[i] as i8 - b[i] as i8 - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out[i] = d as u8;
    }
    out
}

impl FromStr for Number {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        // An i64 has at most 19 digits and is well inside the range.
        Number::parse(&v.to_string()).unwrap_or_default()
    }
}

/// Plain decimal notation without exponent or insignificant zeros, as DynamoDB returns numbers.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut s = String::with_capacity(self.digits.len() + 4);
        if self.negative {
            s.push('-');
        }
        let digit = |d: &u8| char::from(b'0' + d);
        let n = self.digits.len() as i32;
        if self.exponent < 0 {
            s.push_str("0.");
            s.extend(std::iter::repeat_n('0', (-self.exponent - 1) as usize));
            s.extend(self.digits.iter().map(digit));
        } else if self.exponent >= n - 1 {
            s.extend(self.digits.iter().map(digit));
            s.extend(std::iter::repeat_n('0', (self.exponent - (n - 1)) as usize));
        } else {
            let split = (self.exponent + 1) as usize;
            s.extend(self.digits[..split].iter().map(digit));
            s.push('.');
            s.extend(self.digits[split..].iter().map(digit));
        }
        f.write_str(&s)
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let class = |n: &Number| match (n.is_zero(), n.negative) {
            (true, _) => 1,
            (false, true) => 0,
            (false, false) => 2,
        };
        match class(self).cmp(&class(other)) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        // Digits carry no trailing zeros, so comparing them as strings compares the mantissas.
        let magnitude = self
            .exponent
            .cmp(&other.exponent)
            .then_with(|| self.digits.cmp(&other.digits));
        if self.negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    fn err(s: &str) -> String {
        Number::parse(s).unwrap_err().to_string()
    }

    #[test]
    fn canonical_forms() {
        for (input, out) in [
            ("1.0", "1"),
            ("-0", "0"),
            ("+0.000", "0"),
            ("0.10", "0.1"),
            ("1E2", "100"),
            ("1.5e-3", "0.0015"),
            ("-123.4500", "-123.45"),
            ("007", "7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e-130", &format!("0.{}1", "0".repeat(129))),
            (
                "9.9999999999999999999999999999999999999E+125",
                &format!("{}{}", "9".repeat(38), "0".repeat(88)),
            ),
        ] {
            assert_eq!(n(input).to_string(), out, "{input}");
        }
        assert_eq!(n("1.0"), n("1"));
        assert_eq!(n("-0"), n("0"));
        assert_eq!(n("100"), n("1e2"));
    }

    #[test]
    fn rejects_non_numbers() {
        for bad in [
            "", "-", "+", "abc", "1a", "1e", "1e+", "1.2.3", " 1", "1 ", "NaN", "Infinity", "0x10",
            "--1", "1e1.5", ".",
        ] {
            assert_eq!(err(bad), NOT_A_NUMBER, "{bad:?}");
        }
    }

    #[test]
    fn limits() {
        assert_eq!(err("1e126"), OVERFLOW);
        assert_eq!(err("-1e126"), OVERFLOW);
        assert_eq!(err("1e99999999999999999999999"), OVERFLOW);
        assert_eq!(err("1e-131"), UNDERFLOW);
        assert_eq!(err("-1e-131"), UNDERFLOW);
        assert_eq!(err(&"1".repeat(39)), TOO_PRECISE);
        assert_eq!(err(&format!("0.{}", "1".repeat(39))), TOO_PRECISE);
        assert!(Number::parse(&"1".repeat(38)).is_ok());
        // Trailing and leading zeros are not significant.
        assert!(Number::parse(&format!("{}{}", "1".repeat(38), "0".repeat(20))).is_ok());
        assert!(Number::parse(&format!("0.000{}", "1".repeat(38))).is_ok());
        assert!(Number::parse("0e999999").is_ok());
    }

    #[test]
    fn ordering() {
        let sorted = [
            "-1e125", "-100", "-99.5", "-1", "-0.001", "0", "1e-130", "0.001", "0.0011", "1",
            "1.5", "2", "10", "99", "100", "1e125",
        ];
        for (i, a) in sorted.iter().enumerate() {
            for (j, b) in sorted.iter().enumerate() {
                assert_eq!(n(a).cmp(&n(b)), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn arithmetic() {
        let add = |a: &str, b: &str| n(a).add(&n(b)).map(|x| x.to_string());
        let sub = |a: &str, b: &str| n(a).sub(&n(b)).map(|x| x.to_string());
        assert_eq!(add("1", "2").unwrap(), "3");
        assert_eq!(add("0.1", "0.2").unwrap(), "0.3");
        assert_eq!(add("999", "1").unwrap(), "1000");
        assert_eq!(add("-5", "3").unwrap(), "-2");
        assert_eq!(add("5", "-5").unwrap(), "0");
        assert_eq!(add("-5", "-5").unwrap(), "-10");
        assert_eq!(sub("1", "1.5").unwrap(), "-0.5");
        assert_eq!(sub("0", "7").unwrap(), "-7");
        assert_eq!(add("1e100", "1e100").unwrap(), n("2e100").to_string());
        assert_eq!(
            add(&"9".repeat(38), "1").unwrap(),
            format!("1{}", "0".repeat(38))
        );
        assert_eq!(
            sub(&format!("1{}", "0".repeat(38)), "1").unwrap(),
            "9".repeat(38)
        );
        assert_eq!(
            add("12345678901234567890123456789012345678", "0.5")
                .unwrap_err()
                .to_string(),
            TOO_PRECISE
        );
        assert_eq!(
            add("9.9999999999999999999999999999999999999e125", "1e88")
                .unwrap_err()
                .to_string(),
            OVERFLOW
        );
        assert_eq!(
            sub("1.000000000000000000000000000000000001e-93", "1e-93").unwrap(),
            n("1e-129").to_string()
        );
        assert_eq!(add("1e-130", "-1e-130").unwrap(), "0");
    }

    #[test]
    fn sizes() {
        assert_eq!(n("0").stored_size(), 1);
        assert_eq!(n("1").stored_size(), 2);
        assert_eq!(n("12").stored_size(), 2);
        assert_eq!(n("120").stored_size(), 3);
        assert_eq!(n("-1").stored_size(), 3);
        assert_eq!(n(&"1".repeat(38)).stored_size(), 20);
    }
}
