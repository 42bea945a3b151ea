//! Interop with the openssl CLI, both ways: our signatures verify with `openssl dgst` / `pkeyutl` on
//! the public key converted from DER, openssl's signatures and ciphertexts work here, key material
//! from `openssl genpkey` + `openssl pkcs8 -topk8 -nocrypt -outform DER` imports, and the BYOK
//! wrapping the AWS docs do with openssl unwraps. Skipped politely without an `openssl` CLI.

use std::path::Path;
use std::process::Command;

use aws_lc_rs::digest;
use m2sec_crypto::{
    encrypt_with_public_key, verify_with_public_key, CryptoError, KeySpec, PrivateKey, SecretBytes,
    WrappingKey,
};

fn openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        m2sec_test_support::missing("the openssl CLI (its interop checks)");
    }
    ok
}

fn run(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn must(dir: &Path, args: &[&str]) -> String {
    let (ok, text) = run(dir, args);
    assert!(ok, "openssl {}: {text}", args.join(" "));
    text
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

/// Writes a DER SubjectPublicKeyInfo and converts it to `<name>.pem` with `openssl pkey`.
fn public_pem(dir: &Path, name: &str, der: &[u8]) -> String {
    write(dir, &format!("{name}.der"), der);
    let pem = format!("{name}.pem");
    must(
        dir,
        &[
            "pkey",
            "-pubin",
            "-inform",
            "DER",
            "-in",
            &format!("{name}.der"),
            "-out",
            &pem,
        ],
    );
    pem
}

/// `openssl genpkey` + `openssl pkcs8 -topk8 -nocrypt -outform DER`: returns (PEM path, DER bytes).
fn genpkey(dir: &Path, name: &str, args: &[&str]) -> (String, SecretBytes) {
    let pem = format!("{name}.pem");
    let der = format!("{name}.p8.der");
    let mut a = vec!["genpkey"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-out", &pem]);
    must(dir, &a);
    must(
        dir,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in", &pem, "-out", &der,
        ],
    );
    (pem, SecretBytes::new(read(dir, &der)))
}

/// openssl's own DER SubjectPublicKeyInfo of a private key PEM.
fn openssl_public_der(dir: &Path, pem: &str) -> Vec<u8> {
    let out = format!("{pem}.pub.der");
    must(
        dir,
        &[
            "pkey", "-in", pem, "-pubout", "-outform", "DER", "-out", &out,
        ],
    );
    read(dir, &out)
}

fn sha(algorithm: &str) -> (&'static str, &'static digest::Algorithm) {
    if algorithm.ends_with("256") {
        ("-sha256", &digest::SHA256)
    } else if algorithm.ends_with("384") {
        ("-sha384", &digest::SHA384)
    } else {
        ("-sha512", &digest::SHA512)
    }
}

fn pss_opts(algorithm: &str) -> Vec<&'static str> {
    if algorithm.starts_with("RSASSA_PSS") {
        vec![
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:-1",
        ]
    } else {
        vec![]
    }
}

/// Our signatures (RAW and DIGEST) verify with `openssl dgst -verify`; openssl's verify here.
fn dgst_both_ways(dir: &Path, spec: KeySpec, key: &PrivateKey, private_pem: Option<&str>) {
    let message = b"interop message for openssl dgst";
    write(dir, "msg", message);
    let public = public_pem(dir, "pub", &key.public_key_der().unwrap());
    for algorithm in spec.signing_algorithms() {
        let (flag, hash) = sha(algorithm);
        let digest = digest::digest(hash, message);
        for (mt, m) in [("RAW", &message[..]), ("DIGEST", digest.as_ref())] {
            let sig = key.sign(algorithm, mt, m).unwrap();
            write(dir, "sig", &sig);
            let mut args = vec!["dgst", flag, "-verify", &public, "-signature", "sig"];
            args.extend(pss_opts(algorithm));
            args.push("msg");
            let out = must(dir, &args);
            assert!(
                out.contains("Verified OK"),
                "{spec} {algorithm} {mt}: {out}"
            );
        }
        if let Some(private_pem) = private_pem {
            let mut args = vec!["dgst", flag, "-sign", private_pem];
            args.extend(pss_opts(algorithm));
            args.extend(["-out", "osig", "msg"]);
            must(dir, &args);
            let osig = read(dir, "osig");
            assert!(
                key.verify(algorithm, "RAW", message, &osig).unwrap(),
                "{spec} {algorithm}"
            );
            assert!(key
                .verify(algorithm, "DIGEST", digest.as_ref(), &osig)
                .unwrap());
            let der = key.public_key_der().unwrap();
            assert!(verify_with_public_key(spec, &der, algorithm, "RAW", message, &osig).unwrap());
            assert!(!key.verify(algorithm, "RAW", b"other", &osig).unwrap());
        }
    }
}

#[test]
fn rsa_signatures_and_oaep_interoperate() {
    if !openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // openssl's key, imported.
    let (pem, material) = genpkey(
        dir,
        "rsa",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    let key = PrivateKey::import(KeySpec::Rsa2048, &material).unwrap();
    assert_eq!(key.public_key_der().unwrap(), openssl_public_der(dir, &pem));
    dgst_both_ways(dir, KeySpec::Rsa2048, &key, Some(&pem));
    // The wrong size is refused.
    match PrivateKey::import(KeySpec::Rsa4096, &material) {
        Err(CryptoError::InvalidInput(msg)) => assert!(msg.contains("2048-bit"), "{msg}"),
        other => panic!("{other:?}"),
    }

    // OAEP: openssl encrypts, we decrypt; we encrypt, openssl decrypts.
    let public = public_pem(dir, "rsapub", &key.public_key_der().unwrap());
    let plaintext = b"oaep interop plaintext";
    write(dir, "pt", plaintext);
    for (algorithm, md) in [
        ("RSAES_OAEP_SHA_1", "sha1"),
        ("RSAES_OAEP_SHA_256", "sha256"),
    ] {
        let md_opt = format!("rsa_oaep_md:{md}");
        let mgf_opt = format!("rsa_mgf1_md:{md}");
        let oaep = [
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            &md_opt,
            "-pkeyopt",
            &mgf_opt,
        ];
        let mut args = vec![
            "pkeyutl", "-encrypt", "-pubin", "-inkey", &public, "-in", "pt", "-out", "ct",
        ];
        args.extend(oaep);
        must(dir, &args);
        let ct = read(dir, "ct");
        assert_eq!(
            key.decrypt(algorithm, &ct).unwrap().expose(),
            plaintext,
            "{algorithm}"
        );

        let ours = encrypt_with_public_key(
            KeySpec::Rsa2048,
            &key.public_key_der().unwrap(),
            algorithm,
            plaintext,
        )
        .unwrap();
        write(dir, "ct2", &ours);
        let mut args = vec![
            "pkeyutl", "-decrypt", "-inkey", &pem, "-in", "ct2", "-out", "pt2",
        ];
        args.extend(oaep);
        must(dir, &args);
        assert_eq!(read(dir, "pt2"), plaintext);
    }

    // A key m2sec generated, verified by openssl from the DER public key alone.
    let ours = PrivateKey::generate(KeySpec::Rsa3072).unwrap();
    dgst_both_ways(dir, KeySpec::Rsa3072, &ours, None);
}

#[test]
fn ecdsa_signatures_and_ecdh_interoperate() {
    if !openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    for (spec, curve) in [
        (KeySpec::EccNistP256, "P-256"),
        (KeySpec::EccNistP384, "P-384"),
        (KeySpec::EccNistP521, "P-521"),
        (KeySpec::EccSecgP256k1, "secp256k1"),
    ] {
        let curve_opt = format!("ec_paramgen_curve:{curve}");
        let (pem, material) = genpkey(dir, "ec", &["-algorithm", "EC", "-pkeyopt", &curve_opt]);
        let key = PrivateKey::import(spec, &material).unwrap();
        assert_eq!(
            key.public_key_der().unwrap(),
            openssl_public_der(dir, &pem),
            "{spec}"
        );
        dgst_both_ways(dir, spec, &key, Some(&pem));
        let ours = PrivateKey::generate(spec).unwrap();
        dgst_both_ways(dir, spec, &ours, None);

        // The SEC1 form `openssl ecparam -genkey` writes, converted with pkcs8 -topk8, imports too.
        must(
            dir,
            &[
                "ecparam", "-name", curve, "-genkey", "-noout", "-out", "sec1.pem",
            ],
        );
        must(
            dir,
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-outform",
                "DER",
                "-in",
                "sec1.pem",
                "-out",
                "sec1.p8.der",
            ],
        );
        PrivateKey::import(spec, &SecretBytes::new(read(dir, "sec1.p8.der"))).unwrap();

        // ECDH: openssl derives the same secret with our public key.
        if !spec.key_agreement_algorithms().is_empty() {
            let (peer_pem, _) = genpkey(dir, "peer", &["-algorithm", "EC", "-pkeyopt", &curve_opt]);
            let ours_pub = public_pem(dir, "ourpub", &key.public_key_der().unwrap());
            must(
                dir,
                &[
                    "pkeyutl", "-derive", "-inkey", &peer_pem, "-peerkey", &ours_pub, "-out", "z",
                ],
            );
            let peer_der = openssl_public_der(dir, &peer_pem);
            let secret = key.derive_shared_secret(&peer_der).unwrap();
            assert_eq!(secret.expose(), read(dir, "z"), "{spec} ECDH");
        }
    }
    // A P-256 key does not import as P-384.
    let (_, p256) = genpkey(
        dir,
        "p256",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    assert!(matches!(
        PrivateKey::import(KeySpec::EccNistP384, &p256),
        Err(CryptoError::InvalidInput(_))
    ));
}

#[test]
fn ed25519_interoperates() {
    if !openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let spec = KeySpec::EccNistEdwards25519;
    let (pem, material) = genpkey(dir, "ed", &["-algorithm", "ed25519"]);
    let key = PrivateKey::import(spec, &material).unwrap();
    assert_eq!(key.public_key_der().unwrap(), openssl_public_der(dir, &pem));
    let public = public_pem(dir, "edpub", &key.public_key_der().unwrap());
    let message = b"ed25519 interop";
    write(dir, "msg", message);

    let sig = key.sign("ED25519_SHA_512", "RAW", message).unwrap();
    write(dir, "sig", &sig);
    let out = must(
        dir,
        &[
            "pkeyutl", "-verify", "-pubin", "-inkey", &public, "-rawin", "-in", "msg", "-sigfile",
            "sig",
        ],
    );
    assert!(out.contains("Signature Verified Successfully"), "{out}");
    must(
        dir,
        &[
            "pkeyutl", "-sign", "-inkey", &pem, "-rawin", "-in", "msg", "-out", "osig",
        ],
    );
    let osig = read(dir, "osig");
    assert_eq!(osig, sig, "Ed25519 is deterministic");
    assert!(key
        .verify("ED25519_SHA_512", "RAW", message, &osig)
        .unwrap());

    // Ed25519ph needs OpenSSL 3.2+ (`-pkeyopt instance:Ed25519ph`); KMS signs Ed25519ph over the
    // 64-byte DIGEST the caller sent, so openssl's message is that digest.
    let digest = digest::digest(&digest::SHA512, message);
    write(dir, "digest", digest.as_ref());
    let ph = key
        .sign("ED25519_PH_SHA_512", "DIGEST", digest.as_ref())
        .unwrap();
    write(dir, "phsig", &ph);
    let (ok, out) = run(
        dir,
        &[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            &public,
            "-rawin",
            "-in",
            "digest",
            "-sigfile",
            "phsig",
            "-pkeyopt",
            "instance:Ed25519ph",
        ],
    );
    if ok {
        assert!(out.contains("Signature Verified Successfully"), "{out}");
    } else {
        eprintln!(
            "NOTE: this openssl has no Ed25519ph; checked against RFC 8032 vectors instead ({})",
            out.lines().next().unwrap_or("")
        );
    }
    assert!(key
        .verify("ED25519_PH_SHA_512", "DIGEST", digest.as_ref(), &ph)
        .unwrap());
}

#[test]
fn ml_dsa_interoperates_where_openssl_has_it() {
    if !openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (ok, list) = run(dir, &["list", "-signature-algorithms"]);
    if !ok || !list.contains("ML-DSA") {
        eprintln!("NOTE: this openssl has no ML-DSA (OpenSSL 3.5+); ML-DSA interop checks skipped");
        return;
    }
    for (spec, name) in [
        (KeySpec::MlDsa44, "ML-DSA-44"),
        (KeySpec::MlDsa65, "ML-DSA-65"),
        (KeySpec::MlDsa87, "ML-DSA-87"),
    ] {
        let (pem, material) = genpkey(dir, "ml", &["-algorithm", name]);
        let key = PrivateKey::import(spec, &material).unwrap();
        assert_eq!(key.public_key_der().unwrap(), openssl_public_der(dir, &pem));
        let public = public_pem(dir, "mlpub", &key.public_key_der().unwrap());
        write(dir, "msg", b"ml-dsa interop");
        let sig = key
            .sign("ML_DSA_SHAKE_256", "RAW", b"ml-dsa interop")
            .unwrap();
        write(dir, "sig", &sig);
        let out = must(
            dir,
            &[
                "pkeyutl", "-verify", "-pubin", "-inkey", &public, "-rawin", "-in", "msg",
                "-sigfile", "sig",
            ],
        );
        assert!(out.contains("Signature Verified Successfully"), "{out}");
        must(
            dir,
            &[
                "pkeyutl", "-sign", "-inkey", &pem, "-rawin", "-in", "msg", "-out", "osig",
            ],
        );
        assert!(key
            .verify(
                "ML_DSA_SHAKE_256",
                "RAW",
                b"ml-dsa interop",
                &read(dir, "osig")
            )
            .unwrap());
    }
}

#[test]
fn hmac_matches_openssl() {
    if !openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write(dir, "msg", b"hmac interop");
    for (spec, alg, md) in [
        (KeySpec::Hmac224, "HMAC_SHA_224", "-sha224"),
        (KeySpec::Hmac256, "HMAC_SHA_256", "-sha256"),
        (KeySpec::Hmac384, "HMAC_SHA_384", "-sha384"),
        (KeySpec::Hmac512, "HMAC_SHA_512", "-sha512"),
    ] {
        let key = PrivateKey::generate(spec).unwrap();
        let hexkey = format!("hexkey:{}", hex::encode(key.to_material().expose()));
        let out = must(
            dir,
            &["dgst", md, "-mac", "HMAC", "-macopt", &hexkey, "-r", "msg"],
        );
        let theirs = out.split_whitespace().next().unwrap();
        assert_eq!(
            theirs,
            hex::encode(key.mac(alg, b"hmac interop").unwrap()),
            "{spec}"
        );
    }
}

#[test]
fn byok_wrapping_done_with_openssl_unwraps() {
    if !openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let wrapping = WrappingKey::generate("RSA_2048").unwrap();
    let wrap_pem = public_pem(dir, "wrap", &wrapping.public_key_der());

    // Asymmetric material: RSA_AES_KEY_WRAP_SHA_256 and _SHA_1, as the AWS docs do it.
    let (_, material) = genpkey(
        dir,
        "ecm",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
    write(dir, "material", material.expose());
    for (algorithm, md) in [
        ("RSA_AES_KEY_WRAP_SHA_256", "sha256"),
        ("RSA_AES_KEY_WRAP_SHA_1", "sha1"),
    ] {
        must(dir, &["rand", "-out", "aes.key", "32"]);
        let aes_hex = hex::encode(read(dir, "aes.key"));
        must(
            dir,
            &[
                "enc",
                "-id-aes256-wrap-pad",
                "-K",
                &aes_hex,
                "-iv",
                "A65959A6",
                "-in",
                "material",
                "-out",
                "material.wrapped",
            ],
        );
        let md_opt = format!("rsa_oaep_md:{md}");
        let mgf_opt = format!("rsa_mgf1_md:{md}");
        must(
            dir,
            &[
                "pkeyutl",
                "-encrypt",
                "-pubin",
                "-inkey",
                &wrap_pem,
                "-pkeyopt",
                "rsa_padding_mode:oaep",
                "-pkeyopt",
                &md_opt,
                "-pkeyopt",
                &mgf_opt,
                "-in",
                "aes.key",
                "-out",
                "aes.encrypted",
            ],
        );
        let mut encrypted = read(dir, "aes.encrypted");
        encrypted.extend(read(dir, "material.wrapped"));
        let unwrapped = wrapping.unwrap(algorithm, &encrypted).unwrap();
        assert_eq!(unwrapped, material, "{algorithm}");
        let key = PrivateKey::import(KeySpec::EccNistP384, &unwrapped).unwrap();
        key.sign("ECDSA_SHA_384", "RAW", b"imported").unwrap();
        // Another key's token does not unwrap it.
        let other = WrappingKey::generate("RSA_2048").unwrap();
        assert!(matches!(
            other.unwrap(algorithm, &encrypted),
            Err(CryptoError::InvalidCiphertext)
        ));
        let mut tampered = encrypted.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(
            wrapping.unwrap(algorithm, &tampered),
            Err(CryptoError::InvalidCiphertext)
        ));
    }

    // Symmetric-size material: plain RSAES_OAEP_SHA_256.
    must(dir, &["rand", "-out", "hmac.key", "32"]);
    must(
        dir,
        &[
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-inkey",
            &wrap_pem,
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha256",
            "-pkeyopt",
            "rsa_mgf1_md:sha256",
            "-in",
            "hmac.key",
            "-out",
            "hmac.encrypted",
        ],
    );
    let unwrapped = wrapping
        .unwrap("RSAES_OAEP_SHA_256", &read(dir, "hmac.encrypted"))
        .unwrap();
    assert_eq!(unwrapped.expose(), read(dir, "hmac.key"));
    PrivateKey::import(KeySpec::Hmac256, &unwrapped).unwrap();
}

/// pyca/cryptography (its wheels bundle an OpenSSL with ML-DSA) for the ML-DSA checks this
/// machine's openssl CLI cannot do.
const PYCA_ML_DSA: &str = r#"
import pathlib, sys
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import mldsa
d, mode = pathlib.Path(sys.argv[1]), sys.argv[2]
msg = (d / "msg").read_bytes()
if mode == "verify":
    public = s.load_der_public_key((d / "pub.der").read_bytes())
    public.verify((d / "sig").read_bytes(), msg)
    print("verified")
elif mode == "mu":
    # FIPS 204 section 6.2, empty context: mu = SHAKE256(SHAKE256(pk, 64) || 0 || 0 || M, 64).
    import hashlib
    raw = s.load_der_public_key((d / "pub.der").read_bytes()).public_bytes_raw()
    tr = hashlib.shake_256(raw).digest(64)
    (d / "mu").write_bytes(hashlib.shake_256(tr + b"\x00\x00" + msg).digest(64))
else:
    key = getattr(mldsa, "MLDSA%sPrivateKey" % mode).generate()
    (d / "key.p8.der").write_bytes(key.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption()))
    (d / "pub.der").write_bytes(key.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo))
    (d / "sig").write_bytes(key.sign(msg))
"#;

fn python(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("python3")
        .arg(dir.join("mldsa.py"))
        .arg(dir)
        .args(args)
        .output();
    match out {
        Ok(out) => (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        ),
        Err(e) => (false, e.to_string()),
    }
}

#[test]
fn ml_dsa_interoperates_with_pyca_cryptography() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write(dir, "mldsa.py", PYCA_ML_DSA.as_bytes());
    let message = b"ml-dsa interop with pyca";
    write(dir, "msg", message);
    let (ok, out) = python(dir, &["65"]);
    if !ok {
        eprintln!(
            "NOTE: python3 with an ML-DSA-capable `cryptography` not found; skipping ({})",
            out.lines().last().unwrap_or("")
        );
        return;
    }
    for (spec, level) in [
        (KeySpec::MlDsa44, "44"),
        (KeySpec::MlDsa65, "65"),
        (KeySpec::MlDsa87, "87"),
    ] {
        // pyca's key (seed-form PKCS#8) imports; its signature verifies here, RAW and via μ.
        let (ok, out) = python(dir, &[level]);
        assert!(ok, "{out}");
        let key = PrivateKey::import(spec, &SecretBytes::new(read(dir, "key.p8.der"))).unwrap();
        assert_eq!(
            key.public_key_der().unwrap(),
            read(dir, "pub.der"),
            "{spec}"
        );
        let theirs = read(dir, "sig");
        assert!(key
            .verify("ML_DSA_SHAKE_256", "RAW", message, &theirs)
            .unwrap());
        assert!(!key
            .verify("ML_DSA_SHAKE_256", "RAW", b"other", &theirs)
            .unwrap());

        // Our signatures verify with pyca from the DER SubjectPublicKeyInfo alone.
        let ours = PrivateKey::generate(spec).unwrap();
        write(dir, "pub.der", &ours.public_key_der().unwrap());
        write(
            dir,
            "sig",
            &ours.sign("ML_DSA_SHAKE_256", "RAW", message).unwrap(),
        );
        let (ok, out) = python(dir, &["verify"]);
        assert!(ok && out.contains("verified"), "{spec}: {out}");
        // EXTERNAL_MU with a μ computed independently (Python's hashlib) is a signature of the message.
        let (ok, out) = python(dir, &["mu"]);
        assert!(ok, "{out}");
        let mu = read(dir, "mu");
        write(
            dir,
            "sig",
            &ours.sign("ML_DSA_SHAKE_256", "EXTERNAL_MU", &mu).unwrap(),
        );
        let (ok, out) = python(dir, &["verify"]);
        assert!(ok && out.contains("verified"), "{spec} EXTERNAL_MU: {out}");
        write(
            dir,
            "sig",
            &ours.sign("ML_DSA_SHAKE_256", "RAW", b"tampered").unwrap(),
        );
        let (ok, _) = python(dir, &["verify"]);
        assert!(!ok, "{spec}: pyca accepted a signature of another message");
    }
}
