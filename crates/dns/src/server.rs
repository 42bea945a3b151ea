//! The sockets: one UDP socket and one TCP listener on the same address, each message answered by
//! [`crate::answer`] against the zones of the moment.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use m2sec_route53::store::Generation;
use m2sec_route53::zone::Zone;
use m2sec_store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// Where the server reads zones from.
pub trait ZoneSource: Send + Sync + 'static {
    /// The zones as they are now (a cached copy is fine).
    fn zones(&self) -> impl std::future::Future<Output = Arc<Vec<Zone>>> + Send;
}

/// The account's Route53 zones from the store, re-read at most every `ttl`.
pub struct StoreZones {
    store: Arc<dyn Store>,
    account: String,
    ttl: Duration,
    generation: Arc<Generation>,
    cached: Mutex<Option<Snapshot>>,
}

/// Zones as read at a moment, at a generation.
type Snapshot = (Instant, u64, Arc<Vec<Zone>>);

impl StoreZones {
    /// `generation`: bumped by this node's Route53 API on every change, which refreshes the copy at once.
    pub fn new(
        store: Arc<dyn Store>,
        account: &str,
        ttl: Duration,
        generation: Arc<Generation>,
    ) -> Self {
        StoreZones {
            store,
            account: account.to_string(),
            ttl,
            generation,
            cached: Mutex::new(None),
        }
    }
}

impl ZoneSource for StoreZones {
    async fn zones(&self) -> Arc<Vec<Zone>> {
        let generation = self.generation.current();
        if let Some((at, seen, zones)) = &*self.cached.lock().expect("zone cache lock") {
            if at.elapsed() < self.ttl && *seen == generation {
                return zones.clone();
            }
        }
        let zones = match m2sec_route53::store::list(self.store.as_ref(), &self.account).await {
            Ok(z) => Arc::new(z),
            Err(e) => {
                tracing::warn!(error = %e, "reading zones for DNS failed; answering from the last copy");
                return self
                    .cached
                    .lock()
                    .expect("zone cache lock")
                    .as_ref()
                    .map(|(_, _, z)| z.clone())
                    .unwrap_or_default();
            }
        };
        *self.cached.lock().expect("zone cache lock") =
            Some((Instant::now(), generation, zones.clone()));
        zones
    }
}

/// Binds UDP and TCP on `addr` (port 0: a free port, the same for both when possible) and answers until
/// the returned tasks are dropped or aborted. Returns the bound address.
pub async fn serve<S: ZoneSource>(
    addr: SocketAddr,
    source: Arc<S>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let udp = UdpSocket::bind(addr).await?;
    let bound = udp.local_addr()?;
    let tcp = TcpListener::bind(bound).await?;
    let udp_source = source.clone();
    let task = tokio::spawn(async move {
        let udp_loop = async {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((len, peer)) = udp.recv_from(&mut buf).await else {
                    continue;
                };
                let zones = udp_source.zones().await;
                if let Some(reply) = crate::answer::answer_udp(&zones, &buf[..len]) {
                    let _ = udp.send_to(&reply, peer).await;
                }
            }
        };
        let tcp_loop = async {
            loop {
                let Ok((mut stream, _)) = tcp.accept().await else {
                    continue;
                };
                let source = source.clone();
                tokio::spawn(async move {
                    loop {
                        let mut len = [0u8; 2];
                        if stream.read_exact(&mut len).await.is_err() {
                            return;
                        }
                        let mut message = vec![0u8; u16::from_be_bytes(len) as usize];
                        if stream.read_exact(&mut message).await.is_err() {
                            return;
                        }
                        let zones = source.zones().await;
                        let Some(reply) = crate::answer(&zones, &message) else {
                            return;
                        };
                        let Ok(reply_len) = u16::try_from(reply.len()) else {
                            return;
                        };
                        if stream.write_all(&reply_len.to_be_bytes()).await.is_err()
                            || stream.write_all(&reply).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        };
        tokio::join!(udp_loop, tcp_loop);
    });
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, Query};
    use hickory_proto::rr::{Name, RecordType};
    use m2sec_route53::zone::{Action, Change, RecordSet};

    struct Fixed(Arc<Vec<Zone>>);

    impl ZoneSource for Fixed {
        async fn zones(&self) -> Arc<Vec<Zone>> {
            self.0.clone()
        }
    }

    fn query(name: &str) -> Vec<u8> {
        let mut m = Message::new();
        m.set_id(7);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
        m.to_vec().unwrap()
    }

    #[tokio::test]
    async fn answers_over_udp_and_tcp() {
        let mut zone = Zone::new(
            "Z1",
            "fanops.com.",
            "r",
            None,
            false,
            0,
            &["ns1.m2sec.internal.".into()],
        );
        zone.apply(&[Change {
            action: Action::Create,
            set: RecordSet {
                name: "api.fanops.com.".into(),
                kind: "A".into(),
                ttl: Some(60),
                records: vec!["192.0.2.10".into()],
                alias: None,
                set_identifier: None,
                weight: None,
            },
        }])
        .unwrap();
        let (addr, task) = serve(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(Fixed(Arc::new(vec![zone]))),
        )
        .await
        .unwrap();

        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client
            .send_to(&query("api.fanops.com."), addr)
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let (len, _) = tokio::time::timeout(Duration::from_secs(5), client.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let reply = Message::from_vec(&buf[..len]).unwrap();
        assert_eq!(reply.id(), 7);
        assert_eq!(reply.answers().len(), 1);

        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let q = query("api.fanops.com.");
        stream
            .write_all(&(q.len() as u16).to_be_bytes())
            .await
            .unwrap();
        stream.write_all(&q).await.unwrap();
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.unwrap();
        let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
        stream.read_exact(&mut body).await.unwrap();
        assert_eq!(Message::from_vec(&body).unwrap().answers().len(), 1);
        task.abort();
    }
}
