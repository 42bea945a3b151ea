//! The one authentication path: SigV4 verification of every API request against the access keys in
//! the store, giving the caller's identity. Secrets are unwrapped once and cached in memory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use m2sec_crypto::{RootKey, SecretBytes};
use m2sec_proto::sigv4::{self, Claim, RequestParts, SigningKeyCache};
use m2sec_proto::AwsError;
use m2sec_store::Store;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub access_key_id: String,
    pub account: String,
    pub arn: String,
    pub region: String,
}

struct Credential {
    account: String,
    arn: String,
    secret: SecretBytes,
}

pub struct Authenticator {
    store: Arc<dyn Store>,
    root: Arc<RootKey>,
    credentials: RwLock<HashMap<String, Arc<Credential>>>,
    signing_keys: SigningKeyCache,
}

/// AWS's answer to an unknown, inactive or temporary access key.
fn unrecognized() -> AwsError {
    AwsError::new(
        "UnrecognizedClientException",
        400,
        "The security token included in the request is invalid.",
    )
}

fn sigv4_error(e: sigv4::SigV4Error) -> AwsError {
    AwsError::new(e.aws_code(), 400, e.message())
}

/// The AAD binding a wrapped secret to its access key id.
pub fn secret_aad(access_key_id: &str) -> Vec<u8> {
    format!("m2sec:access-key-secret:v1|{access_key_id}").into_bytes()
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>, root: Arc<RootKey>) -> Self {
        Authenticator {
            store,
            root,
            credentials: RwLock::new(HashMap::new()),
            signing_keys: SigningKeyCache::new(),
        }
    }

    /// Verifies the request's signature; `service` is the signing name the request must be scoped to.
    pub async fn authenticate(
        &self,
        req: &RequestParts<'_>,
        service: &str,
    ) -> Result<Principal, AwsError> {
        let claim: Claim = sigv4::parse_claim(req).map_err(sigv4_error)?;
        if claim.service != service {
            return Err(AwsError::new(
                "InvalidSignatureException",
                400,
                format!("Credential should be scoped to correct service: '{service}'."),
            ));
        }
        // Temporary credentials arrive with roles and STS; until then a session token cannot be valid.
        if claim.security_token.is_some() {
            return Err(unrecognized());
        }
        let credential = self.credential(&claim.access_key_id).await?;
        sigv4::verify(
            req,
            &claim,
            credential.secret.expose(),
            chrono::Utc::now(),
            &self.signing_keys,
        )
        .map_err(sigv4_error)?;
        Ok(Principal {
            access_key_id: claim.access_key_id,
            account: credential.account.clone(),
            arn: credential.arn.clone(),
            region: claim.region,
        })
    }

    async fn credential(&self, access_key_id: &str) -> Result<Arc<Credential>, AwsError> {
        if let Some(c) = self
            .credentials
            .read()
            .expect("credentials lock")
            .get(access_key_id)
        {
            return Ok(c.clone());
        }
        let record = self
            .store
            .get_access_key(access_key_id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "access key lookup failed");
                AwsError::new(
                    "ServiceUnavailableException",
                    503,
                    "The service is unavailable. Try again later.",
                )
            })?
            .filter(|r| r.status == "Active")
            .ok_or_else(unrecognized)?;
        let secret = self
            .root
            .unwrap(&record.wrapped_secret, &secret_aad(access_key_id))
            .map_err(|_| {
                tracing::error!(
                    access_key_id,
                    "stored access key secret does not unwrap with this root key"
                );
                unrecognized()
            })?;
        let credential = Arc::new(Credential {
            account: record.account,
            arn: record.principal_arn,
            secret,
        });
        self.credentials
            .write()
            .expect("credentials lock")
            .insert(access_key_id.to_string(), credential.clone());
        Ok(credential)
    }
}
