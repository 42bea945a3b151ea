//! Just enough DER to look inside PKCS#8 `PrivateKeyInfo` and X.509 `SubjectPublicKeyInfo`: which
//! algorithm (and curve) a key claims, the raw public key bits, the ML-DSA seed. aws-lc-rs does the
//! real parsing and validation; this only reads structure, definite lengths, no copying.

pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;

/// Object identifiers (DER content octets, without tag and length).
pub(crate) mod oid {
    /// 1.2.840.113549.1.1.1
    pub const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// 1.2.840.10045.2.1
    pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    /// 1.2.840.10045.3.1.7 (prime256v1)
    pub const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    /// 1.3.132.0.34
    pub const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    /// 1.3.132.0.35
    pub const P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
    /// 1.3.132.0.10
    pub const SECP256K1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x0a];
    /// 1.3.101.112
    pub const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    /// 2.16.840.1.101.3.4.3.17
    pub const ML_DSA_44: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x11];
    /// 2.16.840.1.101.3.4.3.18
    pub const ML_DSA_65: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12];
    /// 2.16.840.1.101.3.4.3.19
    pub const ML_DSA_87: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13];
}

/// A cursor over DER bytes.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads one TLV (single-byte tags only) and returns its tag and content.
    pub(crate) fn any(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.rest.split_first()?;
        if tag & 0x1f == 0x1f {
            return None; // multi-byte tags never occur in the structures we read
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None; // indefinite or absurd lengths
            }
            // DER: minimal length encoding (no leading zero octet, long form only from 0x80).
            if rest[0] == 0 {
                return None;
            }
            let mut len = 0usize;
            for &b in &rest[..n] {
                len = (len << 8) | usize::from(b);
            }
            rest = &rest[n..];
            if len < 0x80 {
                return None;
            }
            len
        };
        if rest.len() < len {
            return None;
        }
        let (content, after) = rest.split_at(len);
        self.rest = after;
        Some((tag, content))
    }

    /// Reads one TLV that must carry `tag`.
    pub(crate) fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.any()? {
            (t, content) if t == tag => Some(content),
            _ => None,
        }
    }
}

/// An `AlgorithmIdentifier`: the OID and the parameters (the whole TLV, or `None` if absent).
pub(crate) struct AlgorithmId<'a> {
    pub oid: &'a [u8],
    /// For id-ecPublicKey: the named-curve OID's content octets.
    pub curve: Option<&'a [u8]>,
}

fn algorithm_id<'a>(content: &'a [u8]) -> Option<AlgorithmId<'a>> {
    let mut r = Reader::new(content);
    let oid = r.expect(TAG_OID)?;
    let curve = if r.peek_tag() == Some(TAG_OID) {
        r.expect(TAG_OID)
    } else {
        None
    };
    Some(AlgorithmId { oid, curve })
}

/// The parts of a `SubjectPublicKeyInfo`.
pub(crate) struct Spki<'a> {
    pub algorithm: AlgorithmId<'a>,
    /// The subjectPublicKey BIT STRING's bits (no unused bits allowed).
    pub key: &'a [u8],
}

pub(crate) fn parse_spki(der: &[u8]) -> Option<Spki<'_>> {
    let mut outer = Reader::new(der);
    let seq = outer.expect(TAG_SEQUENCE)?;
    if !outer.is_empty() {
        return None;
    }
    let mut r = Reader::new(seq);
    let algorithm = algorithm_id(r.expect(TAG_SEQUENCE)?)?;
    let bits = r.expect(TAG_BIT_STRING)?;
    if !r.is_empty() {
        return None;
    }
    let (&unused, key) = bits.split_first()?;
    if unused != 0 {
        return None;
    }
    Some(Spki { algorithm, key })
}

/// The parts of a PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey` we look at.
pub(crate) struct Pkcs8<'a> {
    pub algorithm: AlgorithmId<'a>,
    /// The privateKey OCTET STRING's content.
    pub private_key: &'a [u8],
}

pub(crate) fn parse_pkcs8(der: &[u8]) -> Option<Pkcs8<'_>> {
    let mut outer = Reader::new(der);
    let seq = outer.expect(TAG_SEQUENCE)?;
    if !outer.is_empty() {
        return None;
    }
    let mut r = Reader::new(seq);
    let version = r.expect(TAG_INTEGER)?;
    if version != [0] && version != [1] {
        return None;
    }
    let algorithm = algorithm_id(r.expect(TAG_SEQUENCE)?)?;
    let private_key = r.expect(TAG_OCTET_STRING)?;
    Some(Pkcs8 {
        algorithm,
        private_key,
    })
}

/// For an EC `PrivateKeyInfo` whose AlgorithmIdentifier has no curve: the curve named inside the
/// RFC 5915 `ECPrivateKey` (`[0] parameters`).
pub(crate) fn ec_private_key_curve(ec_private_key: &[u8]) -> Option<&[u8]> {
    let mut outer = Reader::new(ec_private_key);
    let mut r = Reader::new(outer.expect(TAG_SEQUENCE)?);
    r.expect(TAG_INTEGER)?;
    r.expect(TAG_OCTET_STRING)?;
    while let Some((tag, content)) = r.any() {
        if tag == 0xa0 {
            return Reader::new(content).expect(TAG_OID);
        }
    }
    None
}

/// The 32-byte seed inside an ML-DSA `privateKey` (draft-ietf-lamps-dilithium-certificates):
/// `seed [0] IMPLICIT OCTET STRING`, or the `both` SEQUENCE { seed, expandedKey }. `None` for the
/// expanded-only form.
pub(crate) fn ml_dsa_seed(private_key: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(private_key);
    let (tag, content) = r.any()?;
    if !r.is_empty() {
        return None;
    }
    let seed = match tag {
        0x80 => content,
        TAG_SEQUENCE => Reader::new(content).expect(TAG_OCTET_STRING)?,
        _ => return None,
    };
    (seed.len() == 32).then_some(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths_and_rejects_truncation() {
        let mut r = Reader::new(&[0x04, 0x02, 0xaa, 0xbb, 0x05, 0x00]);
        assert_eq!(r.expect(TAG_OCTET_STRING), Some(&[0xaa, 0xbb][..]));
        assert_eq!(r.any(), Some((0x05, &[][..])));
        assert!(r.is_empty());

        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        assert_eq!(
            Reader::new(&long).expect(TAG_OCTET_STRING).unwrap().len(),
            0x80
        );
        // Non-minimal length, truncated content, indefinite length.
        assert!(Reader::new(&[0x04, 0x81, 0x01, 0x00]).any().is_none());
        assert!(Reader::new(&[0x04, 0x05, 0x00]).any().is_none());
        assert!(Reader::new(&[0x30, 0x80, 0x00, 0x00]).any().is_none());
    }

    #[test]
    fn ml_dsa_seed_forms() {
        let seed = [9u8; 32];
        let mut implicit = vec![0x80, 32];
        implicit.extend_from_slice(&seed);
        assert_eq!(ml_dsa_seed(&implicit), Some(&seed[..]));
        let mut both = vec![0x30, 34 + 4, 0x04, 32];
        both.extend_from_slice(&seed);
        both.extend_from_slice(&[0x04, 0x02, 1, 2]);
        assert_eq!(ml_dsa_seed(&both), Some(&seed[..]));
        assert_eq!(ml_dsa_seed(&[0x04, 0x02, 1, 2]), None);
    }
}
