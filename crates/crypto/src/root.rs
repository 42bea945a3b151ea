//! The root key: the one secret that wraps every other secret m2sec stores.
//!
//! Two ways to keep it at rest in the data dir:
//!
//! - **development** (`root-key.dev`): the 256-bit key in hex, file mode 0600, with a loud header. Anyone
//!   who reads that file can decrypt every key in the data dir; it exists so `m2sec serve` works with no
//!   set-up on a laptop or in CI.
//! - **passphrase** (`root-key.sealed`): the key is wrapped (AES-256-GCM) by a key-encryption key derived
//!   from an operator passphrase with Argon2id. Nothing on disk suffices to unseal it; a wrong passphrase
//!   fails the GCM tag and is refused without touching anything.
//!
//! The mode is chosen when the data dir is created and cannot silently change afterwards.
//!
//! A data dir gets a root key once, when it is new. A key is generated in memory
//! ([`RootKey::generate`]) and written ([`NewRootKey::persist`]) only after the caller has made sure no
//! data exists that an earlier root key was protecting: a data dir (or store) that lost its key file
//! must be refused with [`missing`], not given a new key that would leave its data undecryptable and
//! the lost key with a rival once it is found.

use std::fs;
use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use zeroize::Zeroizing;

use crate::{CryptoError, SecretBytes};

pub const DEV_FILE: &str = "root-key.dev";
pub const SEALED_FILE: &str = "root-key.sealed";

const DEV_HEADER: &str = "\
# m2sec DEVELOPMENT ROOT KEY - NOT FOR PRODUCTION.
# Anyone who can read this file can decrypt every key stored in this data dir.
# For production, create the data dir with --unseal-passphrase-file (Argon2id-sealed root key).
";
const SEALED_MAGIC: &str = "m2sec-sealed-root-key v1";

// Argon2id parameters for the passphrase KEK: 64 MiB, 3 passes, 1 lane (OWASP's first recommendation).
const ARGON2_M_KIB: u32 = 64 * 1024;
const ARGON2_T: u32 = 3;
const ARGON2_P: u32 = 1;

/// How the root key was obtained, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKeyOrigin {
    CreatedDevFile,
    OpenedDevFile,
    CreatedSealed,
    UnsealedWithPassphrase,
}

/// The unsealed root key, in memory only.
pub struct RootKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootKey(***)")
    }
}

impl RootKey {
    fn from_material(material: &[u8]) -> Result<Self, CryptoError> {
        let unbound = UnboundKey::new(&AES_256_GCM, material)
            .map_err(|_| CryptoError::Primitive("root key"))?;
        Ok(RootKey {
            key: LessSafeKey::new(unbound),
        })
    }

    /// A root key for tests and tools that need no persistence.
    pub fn ephemeral() -> Self {
        Self::from_material(crate::random_bytes(32).expose()).expect("32-byte key")
    }

    /// Opens the data dir's root key; `None` if it has none (nothing is created here).
    ///
    /// With `passphrase` an existing sealed key is unsealed; without it, the development key file is
    /// used. Mixing the two is refused with a message that says what to do.
    pub fn open(
        data_dir: &Path,
        passphrase: Option<&SecretBytes>,
    ) -> Result<Option<(RootKey, RootKeyOrigin)>, CryptoError> {
        let dev = data_dir.join(DEV_FILE);
        let sealed = data_dir.join(SEALED_FILE);
        let opened = match (dev.exists(), sealed.exists(), passphrase) {
            (true, true, _) => Err(CryptoError::RootKey(format!(
                "both {} and {} exist in {}; remove the one that is not in use",
                DEV_FILE,
                SEALED_FILE,
                data_dir.display()
            ))),
            (true, false, None) => Ok((open_dev(&dev)?, RootKeyOrigin::OpenedDevFile)),
            (true, false, Some(_)) => Err(CryptoError::RootKey(format!(
                "{} holds a development root key ({}); it was not created with a passphrase. \
                 Start without the passphrase, or create a new data dir with one",
                data_dir.display(),
                DEV_FILE
            ))),
            (false, true, Some(p)) => Ok((unseal(&sealed, p)?, RootKeyOrigin::UnsealedWithPassphrase)),
            (false, true, None) => Err(CryptoError::RootKey(format!(
                "the root key in {} is sealed with a passphrase; pass --unseal-passphrase-file FILE \
                 or set M2SEC_UNSEAL_PASSPHRASE",
                data_dir.display()
            ))),
            (false, false, _) => return Ok(None),
        };
        opened.map(Some)
    }

    /// A new root key, in memory until [`NewRootKey::persist`]: sealed with `passphrase` if given,
    /// else a development key file.
    pub fn generate(passphrase: Option<&SecretBytes>) -> Result<NewRootKey, CryptoError> {
        let material = crate::random_bytes(32);
        let (file, contents, origin) = match passphrase {
            None => (
                DEV_FILE,
                Zeroizing::new(format!("{DEV_HEADER}{}\n", hex::encode(material.expose()))),
                RootKeyOrigin::CreatedDevFile,
            ),
            Some(p) => (
                SEALED_FILE,
                Zeroizing::new(sealed_text(material.expose(), p)?),
                RootKeyOrigin::CreatedSealed,
            ),
        };
        Ok(NewRootKey {
            key: RootKey::from_material(material.expose())?,
            file,
            contents,
            origin,
        })
    }

    /// Wraps a secret for storage. `aad` binds it to its identity (e.g. key ARN and version): a wrapped
    /// value copied onto another record will not unwrap. Output: nonce ‖ ciphertext ‖ tag.
    pub fn wrap(&self, secret: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce = crate::random_nonce();
        let mut out = nonce.to_vec();
        out.extend_from_slice(secret);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out[12..],
            )
            .expect("AES-GCM seal");
        out.extend_from_slice(tag.as_ref());
        out
    }

    /// Reverses [`RootKey::wrap`]; fails if the bytes or the AAD differ.
    pub fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<SecretBytes, CryptoError> {
        if wrapped.len() < 12 + 16 {
            return Err(CryptoError::InvalidCiphertext);
        }
        let nonce: [u8; 12] = wrapped[..12].try_into().expect("12 bytes");
        let mut buf = wrapped[12..].to_vec();
        let len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .map_err(|_| CryptoError::InvalidCiphertext)?
            .len();
        buf.truncate(len);
        Ok(SecretBytes::new(buf))
    }

    /// Seals a secret for a text field of the store: base64 (standard alphabet, padded) of
    /// [`RootKey::wrap`]'s output, bound to its identity by `aad`. Every secret other crates keep at
    /// rest goes through here and comes back through [`RootKey::open_sealed`].
    pub fn seal(&self, secret: &SecretBytes, aad: &[u8]) -> String {
        B64.encode(self.wrap(secret.expose(), aad))
    }

    /// Reverses [`RootKey::seal`]. Text that is not base64 is [`CryptoError::InvalidInput`] (the
    /// field is corrupt); text that does not open with this key and `aad` is
    /// [`CryptoError::InvalidCiphertext`] (altered, moved to another record, or another root key).
    pub fn open_sealed(&self, text: &str, aad: &[u8]) -> Result<SecretBytes, CryptoError> {
        let wrapped = B64
            .decode(text)
            .map_err(|_| CryptoError::InvalidInput("the sealed value is not base64".into()))?;
        self.unwrap(&wrapped, aad)
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CryptoError + '_ {
    move |source| CryptoError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes a new file readable by the owner only, durably (fsync of file and directory).
fn write_private(path: &Path, contents: &[u8]) -> Result<(), CryptoError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_err(path))?;
    file.write_all(contents).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// A root key generated for a data dir and not yet written there.
pub struct NewRootKey {
    key: RootKey,
    file: &'static str,
    contents: Zeroizing<String>,
    origin: RootKeyOrigin,
}

impl std::fmt::Debug for NewRootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NewRootKey({}, ***)", self.file)
    }
}

impl NewRootKey {
    /// The file it will be written to: [`DEV_FILE`] or [`SEALED_FILE`].
    pub fn file_name(&self) -> &'static str {
        self.file
    }

    /// Writes the key file into `data_dir` (never over an existing file) and hands out the key.
    pub fn persist(self, data_dir: &Path) -> Result<(RootKey, RootKeyOrigin), CryptoError> {
        write_private(&data_dir.join(self.file), self.contents.as_bytes())?;
        Ok((self.key, self.origin))
    }
}

/// The refusal to start when `data_dir` has no root key but holds data (`evidence`: what was found)
/// that a lost one protects. Names the missing file: the sealed one if a passphrase was given.
pub fn missing(data_dir: &Path, passphrase_given: bool, evidence: &str) -> CryptoError {
    let (expected, other) = if passphrase_given {
        (SEALED_FILE, DEV_FILE)
    } else {
        (DEV_FILE, SEALED_FILE)
    };
    let dir = data_dir.display();
    CryptoError::RootKey(format!(
        "{expected} is missing from the data dir {dir}, which holds data only its root key can \
         decrypt ({evidence}). Nothing was changed: no new root key was created. Restore {expected} \
         (or {other}, if that is how this data dir was set up) into {dir}, or start with an empty \
         data dir"
    ))
}

fn open_dev(path: &Path) -> Result<RootKey, CryptoError> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io_err(path))?);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or_else(|| bad_file(path, "no key line"))?;
    let material = Zeroizing::new(hex::decode(line).map_err(|_| bad_file(path, "key is not hex"))?);
    if material.len() != 32 {
        return Err(bad_file(path, "key is not 256 bits"));
    }
    RootKey::from_material(&material)
}

fn bad_file(path: &Path, why: &str) -> CryptoError {
    CryptoError::RootKey(format!(
        "{} is not a valid root key file: {why}",
        path.display()
    ))
}

fn derive_kek(passphrase: &SecretBytes, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let params = argon2::Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, Some(32))
        .map_err(|_| CryptoError::Primitive("argon2 parameters"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut kek = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.expose(), salt, &mut kek[..])
        .map_err(|_| CryptoError::Primitive("argon2id"))?;
    Ok(kek)
}

fn sealed_aad() -> &'static [u8] {
    SEALED_MAGIC.as_bytes()
}

/// The contents of a sealed root key file holding `material`.
fn sealed_text(material: &[u8], passphrase: &SecretBytes) -> Result<String, CryptoError> {
    if passphrase.len() < 8 {
        return Err(CryptoError::RootKey(
            "the unseal passphrase must be at least 8 characters".into(),
        ));
    }
    let salt = crate::random_bytes(16);
    let kek = derive_kek(passphrase, salt.expose())?;
    let wrapped = RootKey::from_material(&kek[..])?.wrap(material, sealed_aad());
    Ok(format!(
        "{SEALED_MAGIC}\nkdf=argon2id m={ARGON2_M_KIB} t={ARGON2_T} p={ARGON2_P}\nsalt={}\nwrapped={}\n",
        hex::encode(salt.expose()),
        hex::encode(wrapped)
    ))
}

fn unseal(path: &Path, passphrase: &SecretBytes) -> Result<RootKey, CryptoError> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    let mut lines = text.lines();
    if lines.next() != Some(SEALED_MAGIC) {
        return Err(bad_file(path, "unknown format"));
    }
    let field = |name: &str| -> Result<Vec<u8>, CryptoError> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .and_then(|v| hex::decode(v.trim()).ok())
            .ok_or_else(|| bad_file(path, &format!("missing {name}")))
    };
    let salt = field("salt")?;
    let wrapped = field("wrapped")?;
    let kek = derive_kek(passphrase, &salt)?;
    let material = RootKey::from_material(&kek[..])?
        .unwrap(&wrapped, sealed_aad())
        .map_err(|_| CryptoError::WrongPassphrase)?;
    RootKey::from_material(material.expose())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `m2sec serve` does for a data dir known to hold no data.
    fn open_or_create(
        dir: &Path,
        passphrase: Option<&SecretBytes>,
    ) -> Result<(RootKey, RootKeyOrigin), CryptoError> {
        match RootKey::open(dir, passphrase)? {
            Some(opened) => Ok(opened),
            None => RootKey::generate(passphrase)?.persist(dir),
        }
    }

    #[test]
    fn a_new_key_is_written_only_when_persisted_and_never_over_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(RootKey::open(dir.path(), None).unwrap().is_none());
        let new = RootKey::generate(None).unwrap();
        assert_eq!(new.file_name(), DEV_FILE);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "opening and generating write nothing"
        );
        let (key, origin) = new.persist(dir.path()).unwrap();
        assert_eq!(origin, RootKeyOrigin::CreatedDevFile);
        let wrapped = key.wrap(b"material", b"aad");

        let before = fs::read(dir.path().join(DEV_FILE)).unwrap();
        assert!(RootKey::generate(None)
            .unwrap()
            .persist(dir.path())
            .is_err());
        assert_eq!(fs::read(dir.path().join(DEV_FILE)).unwrap(), before);
        let (again, _) = RootKey::open(dir.path(), None).unwrap().unwrap();
        assert_eq!(
            again.unwrap(&wrapped, b"aad").unwrap().expose(),
            b"material"
        );
    }

    #[test]
    fn the_refusal_names_the_missing_file_the_data_dir_and_what_to_do() {
        let dir = Path::new("/srv/m2sec-data");
        let text = missing(dir, false, "m2sec.db, credentials").to_string();
        assert!(
            text.starts_with("root-key.dev is missing from the data dir /srv/m2sec-data"),
            "{text}"
        );
        for part in [
            "(m2sec.db, credentials)",
            "Nothing was changed",
            "Restore root-key.dev",
            "root-key.sealed",
            "empty data dir",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        let sealed = missing(dir, true, "m2sec.db").to_string();
        assert!(sealed.starts_with("root-key.sealed is missing"), "{sealed}");
    }

    #[test]
    fn dev_file_is_created_then_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let (k1, o1) = open_or_create(dir.path(), None).unwrap();
        assert_eq!(o1, RootKeyOrigin::CreatedDevFile);
        let wrapped = k1.wrap(b"material", b"arn|1");
        let (k2, o2) = open_or_create(dir.path(), None).unwrap();
        assert_eq!(o2, RootKeyOrigin::OpenedDevFile);
        assert_eq!(k2.unwrap(&wrapped, b"arn|1").unwrap().expose(), b"material");
        assert!(
            k2.unwrap(&wrapped, b"arn|2").is_err(),
            "AAD binds the identity"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(DEV_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A dev data dir refuses a passphrase instead of silently ignoring it.
        let p = SecretBytes::from_slice(b"correct horse battery");
        assert!(open_or_create(dir.path(), Some(&p)).is_err());
    }

    #[test]
    fn sealed_text_opens_with_the_same_key_and_aad_only() {
        let key = RootKey::ephemeral();
        let secret = SecretBytes::from_slice(b"pkcs8 bytes");
        let text = key.seal(&secret, b"record 1");
        assert!(!text.contains(&B64.encode(b"pkcs8 bytes")));
        assert_eq!(key.open_sealed(&text, b"record 1").unwrap(), secret);
        // The text is base64 of `wrap`'s output, as the store has always held it.
        let wrapped = B64.decode(&text).unwrap();
        assert_eq!(wrapped.len(), 12 + secret.len() + 16);
        assert_eq!(key.unwrap(&wrapped, b"record 1").unwrap(), secret);
        let legacy = B64.encode(key.wrap(secret.expose(), b"record 1"));
        assert_eq!(key.open_sealed(&legacy, b"record 1").unwrap(), secret);

        assert!(matches!(
            key.open_sealed(&text, b"record 2"),
            Err(CryptoError::InvalidCiphertext)
        ));
        assert!(matches!(
            RootKey::ephemeral().open_sealed(&text, b"record 1"),
            Err(CryptoError::InvalidCiphertext)
        ));
    }

    #[test]
    fn corrupt_or_tampered_sealed_text_is_refused() {
        let key = RootKey::ephemeral();
        let text = key.seal(&SecretBytes::from_slice(b"pkcs8 bytes"), b"aad");
        for garbage in ["not base64!", "", "QUJD", &text[1..]] {
            assert!(key.open_sealed(garbage, b"aad").is_err(), "{garbage:?}");
        }
        assert!(matches!(
            key.open_sealed("not base64!", b"aad"),
            Err(CryptoError::InvalidInput(_))
        ));
        let mut wrapped = B64.decode(&text).unwrap();
        for i in [0, 12, wrapped.len() - 1] {
            wrapped[i] ^= 1;
            assert!(matches!(
                key.open_sealed(&B64.encode(&wrapped), b"aad"),
                Err(CryptoError::InvalidCiphertext)
            ));
            wrapped[i] ^= 1;
        }
        assert!(key.open_sealed(&B64.encode(&wrapped), b"aad").is_ok());
    }

    #[test]
    fn passphrase_seals_and_wrong_passphrase_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = SecretBytes::from_slice(b"correct horse battery");
        let (k1, o1) = open_or_create(dir.path(), Some(&p)).unwrap();
        assert_eq!(o1, RootKeyOrigin::CreatedSealed);
        let wrapped = k1.wrap(b"material", b"x");
        let before = fs::read(dir.path().join(SEALED_FILE)).unwrap();

        let wrong = SecretBytes::from_slice(b"wrong horse battery");
        assert!(matches!(
            open_or_create(dir.path(), Some(&wrong)),
            Err(CryptoError::WrongPassphrase)
        ));
        assert_eq!(
            fs::read(dir.path().join(SEALED_FILE)).unwrap(),
            before,
            "nothing changed"
        );
        assert!(open_or_create(dir.path(), None).is_err());

        let (k2, o2) = open_or_create(dir.path(), Some(&p)).unwrap();
        assert_eq!(o2, RootKeyOrigin::UnsealedWithPassphrase);
        assert_eq!(k2.unwrap(&wrapped, b"x").unwrap().expose(), b"material");
        let text = fs::read_to_string(dir.path().join(SEALED_FILE)).unwrap();
        assert!(!text.contains(&hex::encode(b"material")));
    }
}
