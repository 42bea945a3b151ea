//! API Gateway's security policies (`SecurityPolicy` of its model) as rustls settings: the protocol
//! versions, cipher suites and key exchange groups a site's handshakes may use.
//!
//! Where rustls cannot do what AWS does, the edge is stricter, never looser:
//!
//! - **No TLS 1.0 or 1.1**, under any policy: rustls does not implement them. `TLS_1_0` serves TLS 1.2
//!   and 1.3, so a client that speaks nothing newer than TLS 1.1 is refused where AWS would accept it.
//! - **Forward secrecy always.** rustls has only ECDHE suites with AEAD ciphers for TLS 1.2, so the
//!   legacy policies (`TLS_1_0`, `TLS_1_2`, `SecurityPolicy_TLS12_2018_EDGE`) offer no RSA key transport
//!   and no CBC suite: they are the `PFS` policies in all but name.
//! - **FIPS** policies keep to FIPS-approved algorithms (AES-GCM; P-256 and P-384, with ML-KEM in
//!   hybrid for the `PQ` ones), but the aws-lc-rs m2sec is built with is not its FIPS-validated build.
//!
//! `PQ` policies offer the hybrid X25519MLKEM768 first (TLS 1.3 only); the others offer no ML-KEM.

use std::fmt;
use std::str::FromStr;

use rustls::crypto::aws_lc_rs::{self, kx_group};
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::{CipherSuite, SupportedProtocolVersion};

/// One of API Gateway's security policies, by its name in the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SecurityPolicy {
    /// `TLS_1_0`: legacy; TLS 1.2 and 1.3 here (see the module doc).
    Tls1_0,
    /// `TLS_1_2`: legacy, API Gateway's default for custom domain names.
    #[default]
    Tls1_2,
    Tls13_1_3_2025_09,
    Tls13_1_3Fips2025_09,
    Tls13_1_2PfsPq2025_09,
    Tls13_1_2FipsPq2025_09,
    Tls13_1_2FipsPfsPq2025_09,
    Tls13_1_2Pq2025_09,
    Tls13_1_2_2021_06,
    /// Edge-optimized: TLS 1.3 only.
    Tls13_2025Edge,
    /// Edge-optimized: TLS 1.2 (forward-secret suites) and 1.3.
    Tls12Pfs2025Edge,
    /// Edge-optimized: TLS 1.2 and 1.3.
    Tls12_2018Edge,
}

use SecurityPolicy::*;

/// Every policy with its name, in the order of API Gateway's model.
pub(super) const NAMES: [(SecurityPolicy, &str); 12] = [
    (Tls1_0, "TLS_1_0"),
    (Tls1_2, "TLS_1_2"),
    (Tls13_1_3_2025_09, "SecurityPolicy_TLS13_1_3_2025_09"),
    (
        Tls13_1_3Fips2025_09,
        "SecurityPolicy_TLS13_1_3_FIPS_2025_09",
    ),
    (
        Tls13_1_2PfsPq2025_09,
        "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09",
    ),
    (
        Tls13_1_2FipsPq2025_09,
        "SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09",
    ),
    (
        Tls13_1_2FipsPfsPq2025_09,
        "SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09",
    ),
    (Tls13_1_2Pq2025_09, "SecurityPolicy_TLS13_1_2_PQ_2025_09"),
    (Tls13_1_2_2021_06, "SecurityPolicy_TLS13_1_2_2021_06"),
    (Tls13_2025Edge, "SecurityPolicy_TLS13_2025_EDGE"),
    (Tls12Pfs2025Edge, "SecurityPolicy_TLS12_PFS_2025_EDGE"),
    (Tls12_2018Edge, "SecurityPolicy_TLS12_2018_EDGE"),
];

static TLS13_ONLY: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];
static TLS12_AND_13: &[&SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

impl SecurityPolicy {
    /// The name API Gateway gives the policy.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(policy, _)| *policy == self)
            .map(|(_, name)| *name)
            .expect("every policy is named")
    }

    /// Whether TLS 1.2 is accepted besides TLS 1.3.
    pub fn allows_tls12(self) -> bool {
        !matches!(
            self,
            Tls13_1_3_2025_09 | Tls13_1_3Fips2025_09 | Tls13_2025Edge
        )
    }

    /// Whether the hybrid post-quantum key exchange is offered (`PQ` in the name).
    pub fn post_quantum(self) -> bool {
        matches!(
            self,
            Tls13_1_2PfsPq2025_09
                | Tls13_1_2FipsPq2025_09
                | Tls13_1_2FipsPfsPq2025_09
                | Tls13_1_2Pq2025_09
        )
    }

    /// Whether only FIPS-approved algorithms are offered (`FIPS` in the name).
    pub fn fips(self) -> bool {
        matches!(
            self,
            Tls13_1_3Fips2025_09 | Tls13_1_2FipsPq2025_09 | Tls13_1_2FipsPfsPq2025_09
        )
    }

    /// The protocol versions a handshake may use.
    pub fn protocol_versions(self) -> &'static [&'static SupportedProtocolVersion] {
        if self.allows_tls12() {
            TLS12_AND_13
        } else {
            TLS13_ONLY
        }
    }

    /// Key exchange groups, most preferred first.
    pub fn kx_groups(self) -> Vec<&'static dyn SupportedKxGroup> {
        let mut groups = Vec::new();
        if self.post_quantum() {
            groups.push(kx_group::X25519MLKEM768);
            if self.fips() {
                groups.push(kx_group::SECP256R1MLKEM768);
            }
        }
        if !self.fips() {
            groups.push(kx_group::X25519);
        }
        groups.extend([kx_group::SECP256R1, kx_group::SECP384R1]);
        groups
    }

    /// The aws-lc-rs provider restricted to this policy's cipher suites and key exchange groups
    /// (versions are set on the configuration, see [`Self::protocol_versions`]).
    pub fn crypto_provider(self) -> CryptoProvider {
        let mut provider = aws_lc_rs::default_provider();
        if self.fips() {
            // ChaCha20-Poly1305 is not a FIPS-approved cipher.
            provider.cipher_suites.retain(|suite| {
                !matches!(
                    suite.suite(),
                    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
                        | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                        | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
                )
            });
        }
        // AES-128-GCM ahead of AES-256-GCM in each version, as API Gateway's policies order them
        // (the server's order decides, see `tls::server_config`): its SHA-256 handshake hashing
        // costs a third of SHA-384's.
        provider.cipher_suites.sort_by_key(|suite| {
            let name = format!("{:?}", suite.suite());
            let cipher = if name.contains("AES_128") {
                0
            } else if name.contains("AES_256") {
                1
            } else {
                2
            };
            (name.starts_with("TLS_"), cipher)
        });
        provider.kx_groups = self.kx_groups();
        provider
    }
}

/// A name that is not one of API Gateway's security policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPolicy(pub String);

impl fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' is not a security policy", self.0)
    }
}

impl std::error::Error for UnknownPolicy {}

impl FromStr for SecurityPolicy {
    type Err = UnknownPolicy;

    /// The names are matched exactly, as API Gateway matches them.
    fn from_str(name: &str) -> Result<Self, UnknownPolicy> {
        NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(policy, _)| *policy)
            .ok_or_else(|| UnknownPolicy(name.to_string()))
    }
}

impl fmt::Display for SecurityPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::NamedGroup;

    /// The policy's settings, as expected from its AWS name: (name, TLS 1.2 allowed, PQ, FIPS).
    const EXPECTED: [(&str, bool, bool, bool); 12] = [
        ("TLS_1_0", true, false, false),
        ("TLS_1_2", true, false, false),
        ("SecurityPolicy_TLS13_1_3_2025_09", false, false, false),
        ("SecurityPolicy_TLS13_1_3_FIPS_2025_09", false, false, true),
        ("SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09", true, true, false),
        ("SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09", true, true, true),
        (
            "SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09",
            true,
            true,
            true,
        ),
        ("SecurityPolicy_TLS13_1_2_PQ_2025_09", true, true, false),
        ("SecurityPolicy_TLS13_1_2_2021_06", true, false, false),
        ("SecurityPolicy_TLS13_2025_EDGE", false, false, false),
        ("SecurityPolicy_TLS12_PFS_2025_EDGE", true, false, false),
        ("SecurityPolicy_TLS12_2018_EDGE", true, false, false),
    ];

    fn groups(policy: SecurityPolicy) -> Vec<NamedGroup> {
        policy.kx_groups().iter().map(|g| g.name()).collect()
    }

    #[test]
    fn every_name_of_the_model_is_a_policy_and_round_trips() {
        let model: serde_json::Value =
            serde_json::from_str(include_str!("../../../proto/models/apigateway.json")).unwrap();
        let names: Vec<&str> = model["shapes"]["SecurityPolicy"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        let ours: Vec<&str> = EXPECTED.iter().map(|e| e.0).collect();
        assert_eq!(names, ours);
        for (i, name) in names.iter().enumerate() {
            let policy: SecurityPolicy = name.parse().unwrap();
            assert_eq!(policy.name(), *name);
            assert_eq!(policy.to_string(), *name);
            assert_eq!(NAMES[i].0, policy);
        }
        assert_eq!(
            "tls_1_2".parse::<SecurityPolicy>(),
            Err(UnknownPolicy("tls_1_2".into()))
        );
        assert!("TLS_1_3".parse::<SecurityPolicy>().is_err());
        assert_eq!(SecurityPolicy::default(), Tls1_2);
    }

    #[test]
    fn versions_follow_the_name() {
        for (name, tls12, _, _) in EXPECTED {
            let policy: SecurityPolicy = name.parse().unwrap();
            let versions: Vec<_> = policy
                .protocol_versions()
                .iter()
                .map(|v| v.version)
                .collect();
            let mut expected = vec![rustls::ProtocolVersion::TLSv1_3];
            if tls12 {
                expected.push(rustls::ProtocolVersion::TLSv1_2);
            }
            assert_eq!(versions, expected, "{name}");
        }
    }

    #[test]
    fn pq_policies_prefer_x25519mlkem768_and_others_offer_no_mlkem() {
        for (name, _, pq, fips) in EXPECTED {
            let policy: SecurityPolicy = name.parse().unwrap();
            let groups = groups(policy);
            let expected = match (pq, fips) {
                (true, false) => vec![
                    NamedGroup::X25519MLKEM768,
                    NamedGroup::X25519,
                    NamedGroup::secp256r1,
                    NamedGroup::secp384r1,
                ],
                (true, true) => vec![
                    NamedGroup::X25519MLKEM768,
                    NamedGroup::secp256r1MLKEM768,
                    NamedGroup::secp256r1,
                    NamedGroup::secp384r1,
                ],
                (false, false) => vec![
                    NamedGroup::X25519,
                    NamedGroup::secp256r1,
                    NamedGroup::secp384r1,
                ],
                (false, true) => vec![NamedGroup::secp256r1, NamedGroup::secp384r1],
            };
            assert_eq!(groups, expected, "{name}");
            assert_eq!(policy.crypto_provider().kx_groups.len(), expected.len());
        }
    }

    #[test]
    fn cipher_suites_are_forward_secret_aead_and_fips_ones_drop_chacha() {
        for (name, _, _, fips) in EXPECTED {
            let policy: SecurityPolicy = name.parse().unwrap();
            let provider = policy.crypto_provider();
            let suites: Vec<String> = provider
                .cipher_suites
                .iter()
                .map(|s| format!("{:?}", s.suite()))
                .collect();
            assert!(
                suites
                    .iter()
                    .all(|s| s.starts_with("TLS13_") || s.starts_with("TLS_ECDHE_")),
                "{name}: {suites:?}"
            );
            assert!(
                suites
                    .iter()
                    .all(|s| s.contains("GCM") || s.contains("CHACHA20")),
                "{name}: {suites:?}"
            );
            let chacha = suites.iter().any(|s| s.contains("CHACHA20"));
            assert_eq!(chacha, !fips, "{name}: {suites:?}");
            assert!(suites.contains(&"TLS13_AES_128_GCM_SHA256".to_string()));
            assert_eq!(suites[0], "TLS13_AES_128_GCM_SHA256", "{policy:?}");
            assert!(suites.contains(&"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".to_string()));
        }
    }
}
