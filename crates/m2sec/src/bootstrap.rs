//! First start of a data dir: the admin access key (the account's root principal), its credentials
//! file, and the `export` lines printed once.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use m2sec_crypto::RootKey;
use m2sec_store::{AccessKeyRecord, Store};

use crate::auth::secret_aad;
use crate::config::Config;

const ADMIN_SETTING: &str = "admin_access_key_id";

use m2sec_store::now_ms;

/// An admin key pair chosen in the environment.
pub struct GivenAdmin {
    id: String,
    secret: zeroize::Zeroizing<String>,
}

/// Reads and checks `M2SEC_ADMIN_ACCESS_KEY_ID` / `M2SEC_ADMIN_SECRET_ACCESS_KEY`. Called before the data
/// dir is touched, so a mistake here leaves nothing behind (not even a root key of the wrong kind).
pub fn admin_from_env() -> anyhow::Result<Option<GivenAdmin>> {
    let given = (
        std::env::var("M2SEC_ADMIN_ACCESS_KEY_ID").ok(),
        std::env::var("M2SEC_ADMIN_SECRET_ACCESS_KEY")
            .ok()
            .map(zeroize::Zeroizing::new),
    );
    match given {
        (Some(id), Some(secret)) => {
            if !(16..=128).contains(&id.len()) || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                bail!("M2SEC_ADMIN_ACCESS_KEY_ID must be 16 to 128 letters and digits");
            }
            if secret.len() < 16 {
                bail!("M2SEC_ADMIN_SECRET_ACCESS_KEY must be at least 16 characters");
            }
            Ok(Some(GivenAdmin { id, secret }))
        }
        (Some(_), None) | (None, Some(_)) => {
            bail!(
                "set both M2SEC_ADMIN_ACCESS_KEY_ID and M2SEC_ADMIN_SECRET_ACCESS_KEY, or neither"
            )
        }
        (None, None) => Ok(None),
    }
}

/// Makes sure the admin key exists: the given pair, or one generated on first start (then saved to the
/// credentials file and shown once).
pub async fn ensure_admin(
    store: &dyn Store,
    root: &RootKey,
    config: &Config,
    given: Option<GivenAdmin>,
) -> anyhow::Result<()> {
    let root_arn = m2sec_proto::arn::account_root(&config.account_id);
    match given {
        Some(GivenAdmin { id, secret }) => {
            match store.get_access_key(&id).await? {
                Some(existing) => {
                    let stored = root
                        .unwrap(&existing.wrapped_secret, &secret_aad(&id))
                        .context("the stored admin secret does not unwrap with this root key")?;
                    if stored.expose() != secret.as_bytes() {
                        bail!("access key {id} already exists in this data dir with a different secret");
                    }
                }
                None => {
                    create_key(
                        store,
                        root,
                        &id,
                        secret.as_bytes(),
                        &config.account_id,
                        &root_arn,
                    )
                    .await?;
                    tracing::info!(access_key_id = %id, "admin access key taken from M2SEC_ADMIN_ACCESS_KEY_ID");
                }
            }
            store.put_setting(ADMIN_SETTING, &id).await?;
        }
        None => {
            if let Some(id) = store.get_setting(ADMIN_SETTING).await? {
                tracing::info!(access_key_id = %id, "admin credentials are in {}", config.data_dir.join("credentials").display());
                return Ok(());
            }
            let id = m2sec_iam::iam_api::unique_id("AKIA", 16);
            let secret = m2sec_iam::iam_api::new_secret();
            create_key(
                store,
                root,
                &id,
                secret.as_bytes(),
                &config.account_id,
                &root_arn,
            )
            .await?;
            write_credentials(&config.data_dir.join("credentials"), &id, &secret)?;
            store.put_setting(ADMIN_SETTING, &id).await?;
            print_exports(config, &id, &secret);
        }
    }
    Ok(())
}

async fn create_key(
    store: &dyn Store,
    root: &RootKey,
    id: &str,
    secret: &[u8],
    account: &str,
    arn: &str,
) -> anyhow::Result<()> {
    store
        .create_access_key(&AccessKeyRecord {
            access_key_id: id.to_string(),
            account: account.to_string(),
            user_name: None,
            user_id: None,
            principal_arn: arn.to_string(),
            wrapped_secret: root.wrap(secret, &secret_aad(id)),
            status: "Active".into(),
            created_at: now_ms(),
        })
        .await?;
    Ok(())
}

/// AWS shared-credentials format, readable by the owner only.
fn write_credentials(path: &Path, id: &str, secret: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    let text = zeroize::Zeroizing::new(format!(
        "# m2sec admin (account root) credentials, created on first start.\n[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
    ));
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Shown once, on the terminal that started the data dir (never logged).
fn print_exports(config: &Config, id: &str, secret: &str) {
    let endpoint = format!("http://{}", config.listen);
    // Not `println!`: a stdout that cannot be written (closed, or a full disk) must not stop the start.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stdout(),
        "\nm2sec created the admin (account root) access key for this data dir.\n\
         It is saved in {}; it will not be shown again.\n\n\
         export AWS_ENDPOINT_URL={endpoint}\n\
         export AWS_ACCESS_KEY_ID={id}\n\
         export AWS_SECRET_ACCESS_KEY={secret}\n\
         export AWS_DEFAULT_REGION=eu-west-1\n",
        config.data_dir.join("credentials").display()
    );
}
