//! Asking other DNS servers: a stub resolver's CNAME lookups, sent to configured upstream servers
//! (recursive resolvers, or authoritative servers such as another m2sec's). Over UDP, again over TCP
//! when the reply is truncated; each server gets one short timeout, and a server that did not answer
//! is not asked again by the same [`Resolver`] (one per run of a background job), so a dead upstream
//! costs one timeout per run.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long one server has to answer one query (UDP and a TCP retry together).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// What a CNAME lookup found: the CNAMEs the server gave for the name, in order (a server may give a
/// chain: `name → a`, `a → b`), as canonical names. Empty: the name has no CNAME (NODATA or NXDOMAIN).
pub type Chain = Vec<String>;

/// Upstream servers and what this resolver has learnt of them so far.
pub struct Resolver {
    servers: Vec<SocketAddr>,
    timeout: Duration,
    /// Servers that failed to answer: skipped from then on.
    dead: Mutex<HashSet<SocketAddr>>,
    /// Answers already had, by name.
    cache: Mutex<HashMap<String, Result<Chain, String>>>,
}

impl Resolver {
    pub fn new(servers: Vec<SocketAddr>, timeout: Duration) -> Self {
        Resolver {
            servers,
            timeout,
            dead: Mutex::new(HashSet::new()),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether there is any server to ask.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// The CNAME chain of `name` (canonical, with the trailing dot) as the first server that answers
    /// gives it (NOERROR or NXDOMAIN); servers that time out, fail or refuse are passed over. `Err`
    /// says why no server answered.
    pub async fn cname(&self, name: &str) -> Result<Chain, String> {
        if let Some(known) = self.cache.lock().expect("resolver cache").get(name) {
            return known.clone();
        }
        let mut why = Vec::new();
        let mut result = None;
        for server in &self.servers {
            if self
                .dead
                .lock()
                .expect("resolver dead set")
                .contains(server)
            {
                why.push(format!("{server}: did not answer earlier"));
                continue;
            }
            match lookup(*server, name, RecordType::CNAME, self.timeout).await {
                Ok(reply) => match reply.response_code() {
                    ResponseCode::NoError => {
                        result = Some(Ok(chain_of(&reply, name)));
                        break;
                    }
                    ResponseCode::NXDomain => {
                        result = Some(Ok(Vec::new()));
                        break;
                    }
                    code => why.push(format!("{server}: answered {code}")),
                },
                Err(e) => {
                    self.dead.lock().expect("resolver dead set").insert(*server);
                    why.push(format!("{server}: {e}"));
                }
            }
        }
        let result = result.unwrap_or_else(|| {
            Err(if why.is_empty() {
                "no upstream DNS server is configured".to_string()
            } else {
                format!("no upstream DNS server answered ({})", why.join("; "))
            })
        });
        self.cache
            .lock()
            .expect("resolver cache")
            .insert(name.to_string(), result.clone());
        result
    }
}

/// The CNAMEs in `reply`'s answers that lead from `name`, in order.
fn chain_of(reply: &Message, name: &str) -> Chain {
    let mut chain = Vec::new();
    let mut current = name.to_ascii_lowercase();
    for _ in 0..reply.answers().len() {
        let next = reply.answers().iter().find_map(|r| match r.data() {
            Some(RData::CNAME(target)) if canonical(r.name()) == current => {
                Some(canonical(&target.0))
            }
            _ => None,
        });
        match next {
            Some(target) if !chain.contains(&target) => {
                chain.push(target.clone());
                current = target;
            }
            _ => break,
        }
    }
    chain
}

fn canonical(name: &Name) -> String {
    let mut text = name.to_ascii().to_ascii_lowercase();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// A query id no one on the path can guess easily.
fn random_id() -> u16 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish() as u16
}

/// One query to one server: UDP first, TCP if the UDP reply is truncated, all within `timeout`.
pub async fn lookup(
    server: SocketAddr,
    name: &str,
    kind: RecordType,
    timeout: Duration,
) -> Result<Message, String> {
    let qname = Name::from_ascii(name).map_err(|e| format!("'{name}' is not a DNS name: {e}"))?;
    let mut query = Message::new();
    query
        .set_id(random_id())
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true);
    query.add_query(Query::query(qname.clone(), kind));
    let bytes = query.to_vec().map_err(|e| e.to_string())?;
    let deadline = tokio::time::Instant::now() + timeout;
    let reply = tokio::time::timeout_at(deadline, udp_exchange(server, &bytes))
        .await
        .map_err(|_| format!("no answer within {} ms", timeout.as_millis()))??;
    let reply = check(&query, reply)?;
    if !reply.truncated() {
        return Ok(reply);
    }
    let reply = tokio::time::timeout_at(deadline, tcp_exchange(server, &bytes))
        .await
        .map_err(|_| format!("no answer over TCP within {} ms", timeout.as_millis()))??;
    check(&query, reply)
}

/// The reply, if it answers `query` (same id and question); otherwise why not.
fn check(query: &Message, reply: Message) -> Result<Message, String> {
    let same_question = match (query.queries().first(), reply.queries().first()) {
        (Some(q), Some(r)) => {
            canonical(q.name()) == canonical(r.name()) && q.query_type() == r.query_type()
        }
        (_, None) => reply.response_code() != ResponseCode::NoError,
        _ => false,
    };
    if reply.id() != query.id() || reply.message_type() != MessageType::Response || !same_question {
        return Err("the reply does not answer the query".into());
    }
    Ok(reply)
}

async fn udp_exchange(server: SocketAddr, query: &[u8]) -> Result<Message, String> {
    let local: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().expect("valid address")
    } else {
        "[::]:0".parse().expect("valid address")
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| format!("UDP socket: {e}"))?;
    socket
        .connect(server)
        .await
        .map_err(|e| format!("UDP to {server}: {e}"))?;
    socket
        .send(query)
        .await
        .map_err(|e| format!("sending over UDP: {e}"))?;
    let id = u16::from_be_bytes([query[0], query[1]]);
    let mut buf = vec![0u8; 4096];
    loop {
        let len = socket
            .recv(&mut buf)
            .await
            .map_err(|e| format!("receiving over UDP: {e}"))?;
        // Anything that is not a reply to this query (a late reply to another) is dropped.
        if let Ok(reply) = Message::from_vec(&buf[..len]) {
            if reply.id() == id {
                return Ok(reply);
            }
        }
    }
}

async fn tcp_exchange(server: SocketAddr, query: &[u8]) -> Result<Message, String> {
    let mut stream = TcpStream::connect(server)
        .await
        .map_err(|e| format!("TCP to {server}: {e}"))?;
    let len = u16::try_from(query.len()).map_err(|_| "query too long".to_string())?;
    stream
        .write_all(&len.to_be_bytes())
        .await
        .and(stream.write_all(query).await)
        .map_err(|e| format!("sending over TCP: {e}"))?;
    let mut len = [0u8; 2];
    stream
        .read_exact(&mut len)
        .await
        .map_err(|e| format!("receiving over TCP: {e}"))?;
    let mut reply = vec![0u8; u16::from_be_bytes(len) as usize];
    stream
        .read_exact(&mut reply)
        .await
        .map_err(|e| format!("receiving over TCP: {e}"))?;
    Message::from_vec(&reply).map_err(|e| format!("the reply is not DNS: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ZoneSource;
    use m2sec_route53::zone::{Action, Change, RecordSet, Zone};
    use std::sync::Arc;

    struct Fixed(Arc<Vec<Zone>>);

    impl ZoneSource for Fixed {
        async fn zones(&self) -> Arc<Vec<Zone>> {
            self.0.clone()
        }
    }

    fn set(name: &str, kind: &str, values: &[&str]) -> RecordSet {
        RecordSet {
            name: name.into(),
            kind: kind.into(),
            ttl: Some(60),
            records: values.iter().map(|v| v.to_string()).collect(),
            alias: None,
            set_identifier: None,
            weight: None,
        }
    }

    #[tokio::test]
    async fn cnames_come_from_the_first_server_that_answers() {
        let mut zone = Zone::new(
            "Z1",
            "fanops.com.",
            "r",
            None,
            false,
            0,
            &["ns1.m2sec.internal.".into()],
        );
        let big: Vec<String> = (0..20)
            .map(|i| format!("\"{i:02}{}\"", "x".repeat(100)))
            .collect();
        let big: Vec<&str> = big.iter().map(String::as_str).collect();
        zone.apply(&[
            Change {
                action: Action::Create,
                set: set("_a.api.fanops.com", "CNAME", &["_b.fanops.com"]),
            },
            Change {
                action: Action::Create,
                set: set("_b.fanops.com", "CNAME", &["_c.xyz.acm-validations.aws."]),
            },
            Change {
                action: Action::Create,
                set: set("big.fanops.com", "TXT", &big),
            },
        ])
        .unwrap();
        let (addr, task) = crate::serve(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(Fixed(Arc::new(vec![zone]))),
            crate::Limits::default(),
        )
        .await
        .unwrap();
        // A server that never answers (a bound UDP socket nobody reads), first in the list.
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let resolver = Resolver::new(
            vec![silent.local_addr().unwrap(), addr],
            Duration::from_millis(300),
        );
        let started = std::time::Instant::now();
        // A CNAME query is not chased by the server (the caller follows the chain).
        assert_eq!(
            resolver.cname("_a.api.fanops.com.").await.unwrap(),
            vec!["_b.fanops.com."]
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        // The silent server is not asked again, and answers are remembered.
        let started = std::time::Instant::now();
        assert_eq!(
            resolver.cname("_b.fanops.com.").await.unwrap(),
            vec!["_c.xyz.acm-validations.aws."]
        );
        assert!(started.elapsed() < Duration::from_millis(250));
        assert!(resolver
            .cname("nothing.fanops.com.")
            .await
            .unwrap()
            .is_empty());
        // A name of no zone is refused by m2sec: no server answered.
        let err = resolver.cname("example.org.").await.unwrap_err();
        assert!(err.contains("REFUSED") || err.contains("Refused"), "{err}");
        // A reply too large for UDP comes again over TCP.
        let reply = lookup(
            addr,
            "big.fanops.com.",
            RecordType::TXT,
            Duration::from_secs(2),
        )
        .await
        .unwrap();
        assert!(!reply.truncated());
        assert_eq!(reply.answers().len(), 20);
        // Nobody there at all.
        let none = Resolver::new(
            vec![silent.local_addr().unwrap()],
            Duration::from_millis(200),
        );
        assert!(none
            .cname("_a.api.fanops.com.")
            .await
            .unwrap_err()
            .contains("no answer within"));
        task.abort();
    }
}
