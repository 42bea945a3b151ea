//! The ciphertext blob KMS returns from Encrypt, GenerateDataKey and ReEncrypt.
//!
//! Self-describing so Decrypt needs no KeyId, versioned so the format can change:
//!
//! ```text
//! offset   size  field
//! 0        1     format version (0x01)
//! 1        1     n = length of the key id
//! 2        n     key id (the KMS KeyId, ASCII)
//! 2+n      4     key version (u32 big-endian; 1 = original material, +1 per rotation)
//! 6+n      12    AES-GCM nonce (random per blob)
//! 18+n     …     AES-256-GCM ciphertext followed by its 16-byte tag
//! ```
//!
//! The AAD is `"m2sec:blob:v1"` ‖ header (bytes 0..18+n) ‖ canonical encryption context, so altering
//! any byte of the blob, or presenting another context, fails authentication.

use crate::CryptoError;

pub const FORMAT_V1: u8 = 1;
pub(crate) const AAD_LABEL: &[u8] = b"m2sec:blob:v1";
pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const TAG_LEN: usize = 16;

/// What a blob says about itself, before any key is touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHeader {
    pub key_id: String,
    pub key_version: u32,
}

/// A parsed blob: borrowed views into the original bytes.
#[derive(Debug)]
pub struct ParsedBlob<'a> {
    pub header: BlobHeader,
    pub(crate) header_bytes: &'a [u8],
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) sealed: &'a [u8],
}

pub(crate) fn encode_header(key_id: &str, key_version: u32, nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
    let id = key_id.as_bytes();
    assert!(
        id.len() <= u8::MAX as usize,
        "key id too long for blob header"
    );
    let mut out = Vec::with_capacity(2 + id.len() + 4 + NONCE_LEN);
    out.push(FORMAT_V1);
    out.push(id.len() as u8);
    out.extend_from_slice(id);
    out.extend_from_slice(&key_version.to_be_bytes());
    out.extend_from_slice(nonce);
    out
}

/// Parses the blob's structure. Any malformation is `InvalidCiphertext`.
pub fn parse(blob: &[u8]) -> Result<ParsedBlob<'_>, CryptoError> {
    let bad = || CryptoError::InvalidCiphertext;
    let (&format, rest) = blob.split_first().ok_or_else(bad)?;
    if format != FORMAT_V1 {
        return Err(bad());
    }
    let (&n, rest) = rest.split_first().ok_or_else(bad)?;
    let n = n as usize;
    if n == 0 || rest.len() < n + 4 + NONCE_LEN + TAG_LEN {
        return Err(bad());
    }
    let key_id = std::str::from_utf8(&rest[..n]).map_err(|_| bad())?;
    if !key_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad());
    }
    let version = u32::from_be_bytes(rest[n..n + 4].try_into().expect("4 bytes"));
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&rest[n + 4..n + 4 + NONCE_LEN]);
    let header_len = 2 + n + 4 + NONCE_LEN;
    Ok(ParsedBlob {
        header: BlobHeader {
            key_id: key_id.to_string(),
            key_version: version,
        },
        header_bytes: &blob[..header_len],
        nonce,
        sealed: &blob[header_len..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let nonce = [7u8; NONCE_LEN];
        let mut blob = encode_header("1234abcd-12ab-34cd-56ef-1234567890ab", 3, &nonce);
        blob.extend_from_slice(&[0u8; TAG_LEN + 5]);
        let parsed = parse(&blob).unwrap();
        assert_eq!(parsed.header.key_id, "1234abcd-12ab-34cd-56ef-1234567890ab");
        assert_eq!(parsed.header.key_version, 3);
        assert_eq!(parsed.nonce, nonce);
        assert_eq!(parsed.sealed.len(), TAG_LEN + 5);
    }

    #[test]
    fn garbage_is_invalid() {
        for input in [&b""[..], b"\x01", b"\x02\x01a", b"\x01\x05abc", &[1u8; 40]] {
            assert!(matches!(parse(input), Err(CryptoError::InvalidCiphertext)));
        }
    }
}
