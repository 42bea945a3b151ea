//! The session tokens of secure-gates: HS256 JWTs byte for byte as npm `jsonwebtoken` makes them with
//! `jwt.sign({sub, role}, secret, {expiresIn: '8h'})`, so tokens of the Node service and of m2sec
//! verify on either side.
//!
//! The `jsonwebtoken` crate serializes its header as `{"typ":"JWT","alg":"HS256"}`, Node as
//! `{"alg":"HS256","typ":"JWT"}`; the header and the claims are therefore written here, in Node's
//! order, and only the signature comes from the crate. Verification is the crate's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde::{Deserialize, Serialize};

/// How long a token is valid: Node's `expiresIn: '8h'`.
pub const TOKEN_LIFETIME_SECS: i64 = 8 * 60 * 60;

/// The header Node's `jsonwebtoken` writes for an object payload signed with HS256.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The claims of a secure-gates token, in the order Node serializes them: the payload given to
/// `jwt.sign` first, then `iat` and `exp` that `sign` adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id (`userId` of the users table).
    pub sub: String,
    /// `admin`, `steward` or `auditor`.
    pub role: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts of JSON, or claims missing or of the wrong type.
    #[error("malformed token")]
    Malformed,
    /// Signed with another algorithm than HS256 (`none` included).
    #[error("token algorithm is not HS256")]
    Algorithm,
    /// The signature does not match the secret.
    #[error("invalid token signature")]
    Signature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
}

/// An HS256 token for `sub` with `role`, issued at `now_secs` and valid for eight hours.
pub fn sign_jwt(secret: &[u8], sub: &str, role: &str, now_secs: i64) -> String {
    let claims = Claims {
        sub: sub.to_string(),
        role: role.to_string(),
        iat: now_secs,
        exp: now_secs + TOKEN_LIFETIME_SECS,
    };
    let payload = serde_json::to_vec(&claims).expect("claims serialize");
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
    .expect("HMAC keys of any length are accepted");
    format!("{message}.{signature}")
}

/// The claims of `token` if it is an HS256 token signed with `secret` that has not expired at
/// `now_secs`. As Node's `jwt.verify`, a token is expired from the second `exp` names on, with no
/// clock tolerance.
pub fn verify_jwt(secret: &[u8], token: &str, now_secs: i64) -> Result<Claims, JwtError> {
    let mut validation = Validation::new(Algorithm::HS256);
    // `exp` is checked below against the caller's clock; `aud`, absent from these tokens, is not
    // asked for (Node checks it only when told an audience).
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::InvalidSignature => JwtError::Signature,
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        JwtError::Algorithm
                    }
                    _ => JwtError::Malformed,
                }
            })?;
    if now_secs >= data.claims.exp {
        return Err(JwtError::Expired);
    }
    Ok(data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn node_vectors() -> Vec<Value> {
        let file: Value = serde_json::from_str(include_str!(
            "../tests/vectors/node-jsonwebtoken-9.0.3.json"
        ))
        .unwrap();
        file["tokens"].as_array().unwrap().clone()
    }

    #[test]
    fn signs_exactly_what_node_signs() {
        for vector in node_vectors().iter().filter(|v| v["algorithm"] == "HS256") {
            let payload = &vector["payload"];
            let token = sign_jwt(
                vector["secret"].as_str().unwrap().as_bytes(),
                payload["sub"].as_str().unwrap(),
                payload["role"].as_str().unwrap(),
                payload["iat"].as_i64().unwrap(),
            );
            assert_eq!(token, vector["token"].as_str().unwrap());
        }
    }

    #[test]
    fn header_and_claim_order_are_nodes() {
        let token = sign_jwt(b"s3cret", "steward7", "steward", 1_000);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[0],
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#)
        );
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            payload,
            r#"{"sub":"steward7","role":"steward","iat":1000,"exp":29800}"#
        );
    }

    #[test]
    fn verifies_nodes_tokens() {
        let vectors = node_vectors();
        let claims = verify_jwt(
            b"s3cret",
            vectors[0]["token"].as_str().unwrap(),
            1_767_225_600,
        )
        .unwrap();
        assert_eq!(
            claims,
            Claims {
                sub: "steward7".into(),
                role: "steward".into(),
                iat: 1_767_225_600,
                exp: 1_767_225_600 + 28_800,
            }
        );
        // Signed with another secret.
        assert_eq!(
            verify_jwt(
                b"s3cret",
                vectors[2]["token"].as_str().unwrap(),
                1_767_225_600
            ),
            Err(JwtError::Signature)
        );
        // HS384 is refused even with the right secret.
        assert_eq!(
            verify_jwt(
                b"s3cret",
                vectors[3]["token"].as_str().unwrap(),
                1_767_225_600
            ),
            Err(JwtError::Algorithm)
        );
    }

    #[test]
    fn expires_at_exp() {
        let token = sign_jwt(b"k", "u", "admin", 100);
        assert!(verify_jwt(b"k", &token, 100 + TOKEN_LIFETIME_SECS - 1).is_ok());
        assert_eq!(
            verify_jwt(b"k", &token, 100 + TOKEN_LIFETIME_SECS),
            Err(JwtError::Expired)
        );
    }

    #[test]
    fn refuses_unsigned_and_tampered_tokens() {
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload =
            URL_SAFE_NO_PAD.encode(r#"{"sub":"u","role":"admin","iat":1,"exp":99999999999}"#);
        let unsigned = format!("{none_header}.{payload}.");
        assert!(matches!(
            verify_jwt(b"k", &unsigned, 2),
            Err(JwtError::Algorithm | JwtError::Malformed)
        ));

        let token = sign_jwt(b"k", "u", "auditor", 1);
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        parts[1] = payload;
        assert_eq!(
            verify_jwt(b"k", &parts.join("."), 2),
            Err(JwtError::Signature)
        );

        assert_eq!(verify_jwt(b"k", "not-a-token", 2), Err(JwtError::Malformed));
        let no_exp = URL_SAFE_NO_PAD.encode(r#"{"sub":"u","role":"admin","iat":1}"#);
        let message = format!("{}.{no_exp}", URL_SAFE_NO_PAD.encode(HEADER));
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(b"k"),
            Algorithm::HS256,
        )
        .unwrap();
        assert_eq!(
            verify_jwt(b"k", &format!("{message}.{signature}"), 2),
            Err(JwtError::Malformed)
        );
    }
}
