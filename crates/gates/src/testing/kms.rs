//! KMS in the fake: ECC_NIST_P256 SIGN_VERIFY keys named by id, ARN or alias, with real ECDSA
//! signatures, so a code signed with one key does not verify with another.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1,
    ECDSA_P256_SHA256_ASN1_SIGNING,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use m2sec_proto::AwsError;
use serde_json::{json, Value};

const KEY_ARN_PREFIX: &str = "arn:aws:kms:eu-west-1:000000000000:key/";

struct Key {
    arn: String,
    alias: Option<String>,
    pair: EcdsaKeyPair,
}

#[derive(Default)]
pub struct Keys(Vec<Key>);

impl Keys {
    /// A new key with `id` (and `alias`, `alias/…`, if given); its ARN.
    pub fn create(&mut self, id: &str, alias: Option<&str>) -> String {
        let arn = format!("{KEY_ARN_PREFIX}{id}");
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        self.0.push(Key {
            arn: arn.clone(),
            alias: alias.map(String::from),
            pair,
        });
        arn
    }

    fn find(&self, key_id: &str) -> Result<&Key, AwsError> {
        let id = key_id.strip_prefix(KEY_ARN_PREFIX).unwrap_or(key_id);
        self.0
            .iter()
            .find(|k| k.arn.ends_with(&format!("/{id}")) || k.alias.as_deref() == Some(key_id))
            .ok_or_else(|| {
                AwsError::new(
                    "NotFoundException",
                    400,
                    format!("Key '{key_id}' does not exist"),
                )
            })
    }

    /// The DER signature of `message` with `key_id`, as KMS `Sign` makes it.
    pub fn sign(&self, key_id: &str, message: &[u8]) -> Vec<u8> {
        let key = self.find(key_id).unwrap();
        key.pair
            .sign(&SystemRandom::new(), message)
            .unwrap()
            .as_ref()
            .to_vec()
    }

    pub fn call(&self, operation: &str, input: &Value) -> Result<Value, AwsError> {
        let key = self.find(input["KeyId"].as_str().unwrap())?;
        if operation == "DescribeKey" {
            let id = key.arn.trim_start_matches(KEY_ARN_PREFIX);
            return Ok(json!({"KeyMetadata": {
                "KeyId": id, "Arn": key.arn, "KeySpec": "ECC_NIST_P256",
                "KeyUsage": "SIGN_VERIFY", "Enabled": true, "KeyState": "Enabled",
                "SigningAlgorithms": ["ECDSA_SHA_256"],
            }}));
        }
        assert_eq!(input["MessageType"], "RAW");
        assert_eq!(input["SigningAlgorithm"], "ECDSA_SHA_256");
        let message = STANDARD
            .decode(input["Message"].as_str().unwrap())
            .map_err(|_| AwsError::validation("Message is not base64"))?;
        match operation {
            "Sign" => Ok(json!({
                "KeyId": key.arn,
                "Signature": STANDARD.encode(self.sign(&key.arn, &message)),
                "SigningAlgorithm": "ECDSA_SHA_256",
            })),
            "Verify" => {
                let signature = STANDARD
                    .decode(input["Signature"].as_str().unwrap())
                    .map_err(|_| AwsError::validation("Signature is not base64"))?;
                let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.pair.public_key());
                public
                    .verify(&message, &signature)
                    .map_err(|_| AwsError::new("KMSInvalidSignatureException", 400, ""))?;
                Ok(
                    json!({"KeyId": key.arn, "SignatureValid": true, "SigningAlgorithm": "ECDSA_SHA_256"}),
                )
            }
            _ => Err(AwsError::unsupported("kms", operation)),
        }
    }
}
