//! The one authentication path: SigV4 verification of every API request against the access keys in
//! the store, giving the caller's identity. Secrets are unwrapped once and cached in memory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use m2sec_crypto::{RootKey, SecretBytes};
use m2sec_iam::generation::{IamGeneration, Stamp};
use m2sec_iam::sts::Session;
use m2sec_proto::sigv4::{self, Claim, RequestParts, SigningKeyCache};
use m2sec_proto::{AwsError, Caller};
use m2sec_store::Store;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub caller: m2sec_proto::Caller,
    pub access_key_id: String,
    pub account: String,
    pub arn: String,
    pub region: String,
}

impl Principal {
    /// The context a service gets for one call of this principal.
    pub fn into_context(
        self,
        request_id: &str,
        operation: &str,
        source_ip: Option<String>,
        user_agent: Option<String>,
    ) -> m2sec_proto::RequestContext {
        m2sec_proto::RequestContext {
            account: self.account,
            region: self.region,
            principal_arn: self.arn,
            access_key_id: self.access_key_id,
            request_id: request_id.to_string(),
            caller: self.caller,
            operation: operation.to_string(),
            source_ip,
            user_agent,
            resources: Default::default(),
        }
    }
}

struct Credential {
    account: String,
    arn: String,
    caller: Caller,
    secret: SecretBytes,
    fetched: Stamp,
    /// For temporary credentials: the session token they came from, and when they expire (Unix ms).
    session: Option<(String, i64)>,
}

/// A request whose claim passed every check but the signature (see [`Authenticator::begin`]).
pub struct Pending {
    claim: Claim,
    credential: Arc<Credential>,
}

impl Pending {
    /// Checks the signature over the whole request, body included.
    pub fn finish(
        self,
        auth: &Authenticator,
        req: &RequestParts<'_>,
    ) -> Result<Principal, AwsError> {
        sigv4::verify(
            req,
            &self.claim,
            self.credential.secret.expose(),
            chrono::Utc::now(),
            &auth.signing_keys,
        )
        .map_err(sigv4_error)?;
        Ok(Principal {
            caller: self.credential.caller.clone(),
            access_key_id: self.claim.access_key_id,
            account: self.credential.account.clone(),
            arn: self.credential.arn.clone(),
            region: self.claim.region,
        })
    }
}

pub struct Authenticator {
    store: Arc<dyn Store>,
    root: Arc<RootKey>,
    /// Access keys re-read after this long, so a key made inactive or deleted on another node stops
    /// working; a change made through this node's IAM API advances `generation` and takes effect at once.
    ttl: Duration,
    generation: Arc<IamGeneration>,
    credentials: RwLock<HashMap<String, Arc<Credential>>>,
    signing_keys: SigningKeyCache,
}

const MAX_CACHED_CREDENTIALS: usize = 100_000;

fn expired_token() -> AwsError {
    AwsError::new(
        "ExpiredTokenException",
        400,
        "The security token included in the request is expired",
    )
}

/// AWS's answer to an unknown, inactive or temporary access key.
fn unrecognized() -> AwsError {
    AwsError::new(
        "UnrecognizedClientException",
        400,
        "The security token included in the request is invalid.",
    )
}

fn lookup_failed(e: impl std::fmt::Display) -> AwsError {
    tracing::error!(error = %e, "access key lookup failed");
    AwsError::new(
        "ServiceUnavailableException",
        503,
        "The service is unavailable. Try again later.",
    )
}

fn sigv4_error(e: sigv4::SigV4Error) -> AwsError {
    AwsError::new(e.aws_code(), 400, e.message())
}

pub use m2sec_iam::iam_api::secret_aad;

impl Authenticator {
    pub fn new(
        store: Arc<dyn Store>,
        root: Arc<RootKey>,
        ttl: Duration,
        generation: Arc<IamGeneration>,
    ) -> Self {
        Authenticator {
            store,
            root,
            ttl,
            generation,
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
        self.begin(req, service).await?.finish(self, req)
    }

    /// Everything that needs no body: the claim is well-formed, scoped to `service`, within the clock
    /// skew, and names an access key (or session) that exists and is active. `req.body` is not read.
    /// The HTTP layer calls this before it reads a body, so an unsigned or unknown caller never makes
    /// m2sec buffer one; [`Pending::finish`] then checks the signature over the body.
    pub async fn begin(&self, req: &RequestParts<'_>, service: &str) -> Result<Pending, AwsError> {
        let claim: Claim = sigv4::parse_claim(req).map_err(sigv4_error)?;
        if claim.service != service {
            return Err(AwsError::new(
                "InvalidSignatureException",
                400,
                format!("Credential should be scoped to correct service: '{service}'."),
            ));
        }
        let credential = match &claim.security_token {
            Some(token) => self.cached_session(token, &claim.access_key_id)?,
            None => self.credential(&claim.access_key_id).await?,
        };
        sigv4::check_claim(&claim, chrono::Utc::now()).map_err(sigv4_error)?;
        Ok(Pending { claim, credential })
    }

    /// Temporary credentials: the session token is the sealed session (see `m2sec_iam::sts`).
    fn session(&self, token: &str, access_key_id: &str) -> Result<Credential, AwsError> {
        let session = Session::open(&self.root, token)
            .filter(|s| s.access_key_id == access_key_id)
            .ok_or_else(unrecognized)?;
        if session.expires_at <= chrono::Utc::now().timestamp_millis() {
            return Err(expired_token());
        }
        Ok(Credential {
            account: session.account.clone(),
            arn: session.arn(),
            caller: Caller::Role {
                role_arn: session.role_arn.clone(),
                role_name: session.role_name.clone(),
                session_name: session.session_name.clone(),
            },
            secret: SecretBytes::from_slice(session.secret.as_bytes()),
            fetched: self.generation.stamp(),
            session: Some((token.to_string(), session.expires_at)),
        })
    }

    /// Opening a session token costs an AES-GCM decryption and a JSON parse; a session signing many
    /// requests is opened once. The cached entry is used only for the very same token.
    fn cached_session(
        &self,
        token: &str,
        access_key_id: &str,
    ) -> Result<Arc<Credential>, AwsError> {
        if let Some(c) = self
            .credentials
            .read()
            .expect("credentials lock")
            .get(access_key_id)
        {
            if let Some((cached_token, expires_at)) = &c.session {
                if aws_lc_rs::constant_time::verify_slices_are_equal(
                    cached_token.as_bytes(),
                    token.as_bytes(),
                )
                .is_ok()
                {
                    if *expires_at <= chrono::Utc::now().timestamp_millis() {
                        return Err(expired_token());
                    }
                    return Ok(c.clone());
                }
            }
        }
        let credential = Arc::new(self.session(token, access_key_id)?);
        let mut credentials = self.credentials.write().expect("credentials lock");
        // Sessions come and go; keep the map bounded.
        if credentials.len() > MAX_CACHED_CREDENTIALS {
            credentials.clear();
        }
        credentials.insert(access_key_id.to_string(), credential.clone());
        Ok(credential)
    }

    async fn credential(&self, access_key_id: &str) -> Result<Arc<Credential>, AwsError> {
        if let Some(c) = self
            .credentials
            .read()
            .expect("credentials lock")
            .get(access_key_id)
        {
            // A session's entry never serves a request without its token.
            if c.session.is_none() && self.generation.is_fresh(&c.fetched, self.ttl) {
                return Ok(c.clone());
            }
        }
        let fetched = self.generation.stamp();
        let record = self
            .store
            .get_access_key(access_key_id)
            .await
            .map_err(lookup_failed)?
            .filter(|r| r.status == "Active");
        let record = match record {
            Some(r) => m2sec_iam::key_signs_as_its_user(self.store.as_ref(), &r)
                .await
                .map_err(lookup_failed)?
                .then_some(r),
            None => None,
        };
        let Some(record) = record else {
            self.credentials
                .write()
                .expect("credentials lock")
                .remove(access_key_id);
            return Err(unrecognized());
        };
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
            caller: match record.user_name {
                Some(name) => Caller::User { name },
                None => Caller::Root,
            },
            secret,
            fetched,
            session: None,
        });
        self.credentials
            .write()
            .expect("credentials lock")
            .insert(access_key_id.to_string(), credential.clone());
        Ok(credential)
    }
}
