//! `m2sec deploy FILE [--stage S] [--region R] [--remove]`: sends the file to a running m2sec
//! (`--endpoint-url`, else `AWS_ENDPOINT_URL`, else `http://127.0.0.1:4566`), signed with the
//! caller's AWS credentials as the aws CLI finds them (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
//! `AWS_SESSION_TOKEN`, else the `AWS_PROFILE` or default profile of `~/.aws/credentials`), and
//! prints what the deployment did.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use http_body_util::BodyExt;
use zeroize::Zeroizing;

use super::{DeployRequest, SIGNING_NAME};

#[derive(clap::Args)]
pub struct DeployArgs {
    /// The serverless.yml to deploy.
    file: PathBuf,
    /// The stage (`${opt:stage}`) [default: the file's provider.stage, else dev].
    #[arg(long)]
    stage: Option<String>,
    /// The Region [default: the file's provider.region].
    #[arg(long)]
    region: Option<String>,
    /// Remove what earlier deployments of this service and stage made.
    #[arg(long)]
    remove: bool,
    /// m2sec's address [default: AWS_ENDPOINT_URL, else http://127.0.0.1:4566].
    #[arg(long)]
    endpoint_url: Option<String>,
}

struct Credentials {
    access_key_id: String,
    secret: Zeroizing<String>,
    session_token: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The credentials the aws CLI would use: the environment, else the profile's in the shared file.
fn credentials() -> anyhow::Result<Credentials> {
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Credentials {
            access_key_id: id,
            secret: Zeroizing::new(secret),
            session_token: env("AWS_SESSION_TOKEN"),
        });
    }
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let path = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".aws/credentials")));
    let text = path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(Zeroizing::new);
    let mut values = BTreeMap::new();
    if let Some(text) = &text {
        let mut inside = false;
        for line in text.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                inside = name.trim() == profile;
            } else if let (true, Some((k, v))) = (inside, line.split_once('=')) {
                values.insert(k.trim().to_string(), Zeroizing::new(v.trim().to_string()));
            }
        }
    }
    match (values.get("aws_access_key_id"), values.get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Ok(Credentials {
            access_key_id: id.to_string(),
            secret: secret.clone(),
            session_token: values.get("aws_session_token").map(|t| t.to_string()),
        }),
        _ => bail!(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile {profile} in ~/.aws/credentials"
        ),
    }
}

/// The names of the `${env:NAME}` variables in `text`.
fn env_names(text: &str) -> Vec<String> {
    text.match_indices("${env:")
        .map(|(i, m)| {
            text[i + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

pub fn run(args: DeployArgs) -> anyhow::Result<()> {
    let template = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let env_values = env_names(&template)
        .into_iter()
        .filter_map(|n| env(&n).map(|v| (n, v)))
        .collect();
    let request = DeployRequest {
        template,
        stage: args.stage,
        region: args.region,
        remove: args.remove,
        env: env_values,
    };
    let endpoint = args
        .endpoint_url
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| "http://127.0.0.1:4566".into());
    let uri: http::Uri = endpoint
        .parse()
        .with_context(|| format!("the endpoint {endpoint} is not a URL"))?;
    if uri.scheme_str() != Some("http") {
        bail!("the endpoint must be an http:// URL (m2sec's API address), not {endpoint}");
    }
    let authority = uri.authority().context("the endpoint has no host")?.clone();
    let credentials = credentials()?;
    let signing_region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    let body = serde_json::to_vec(&request)?;
    let mut headers = http::HeaderMap::new();
    headers.insert("host", authority.as_str().parse()?);
    headers.insert("content-type", "application/json".parse()?);
    let path = "/_m2sec/deploy";
    m2sec_proto::sigv4::sign(
        "POST",
        path,
        None,
        &mut headers,
        &body,
        &m2sec_proto::sigv4::Credentials {
            access_key_id: &credentials.access_key_id,
            secret_access_key: credentials.secret.as_bytes(),
            session_token: credentials.session_token.as_deref(),
        },
        &signing_region,
        SIGNING_NAME,
        chrono::Utc::now(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (status, answer) = runtime.block_on(async {
        let address = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(80)
        );
        let stream = tokio::net::TcpStream::connect(&address)
            .await
            .with_context(|| format!("connecting to m2sec at {endpoint}"))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let mut req =
            http::Request::post(path).body(http_body_util::Full::new(bytes::Bytes::from(body)))?;
        *req.headers_mut() = headers;
        let response = sender.send_request(req).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        anyhow::Ok((status, bytes))
    })?;
    let answer: serde_json::Value = serde_json::from_slice(&answer)
        .with_context(|| format!("m2sec answered {status} with a body that is not JSON"))?;
    if !status.is_success() {
        bail!(
            "{}: {}",
            answer["__type"].as_str().unwrap_or("error"),
            answer["message"].as_str().unwrap_or("(no message)")
        );
    }
    let service = answer["service"].as_str().unwrap_or_default();
    let stage = answer["stage"].as_str().unwrap_or_default();
    let verb = if request.remove {
        "Removed"
    } else {
        "Deployed"
    };
    println!("{verb} {service} (stage {stage})");
    for line in answer["lines"].as_array().into_iter().flatten() {
        println!("  {}", line.as_str().unwrap_or_default());
    }
    for endpoint in answer["endpoints"].as_array().into_iter().flatten() {
        println!("endpoint: {}", endpoint.as_str().unwrap_or_default());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn env_variables_are_found() {
        assert_eq!(
            super::env_names("a: ${env:HOME_1}\nb: x${env:B}y ${self:c}"),
            ["HOME_1", "B"]
        );
    }
}
