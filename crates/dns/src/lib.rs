//! m2sec's authoritative DNS server: it answers, over UDP and TCP, from the Route53 hosted zones of the
//! account (so `dig @127.0.0.1 -p 5353 _x.api.fanops.com CNAME` sees what `change-resource-record-sets`
//! wrote). [`answer`] is the whole of DNS here; [`serve`] only moves bytes. [`upstream`] asks other
//! servers (ACM's validation of names m2sec holds no zone for).

pub mod answer;
pub mod server;
pub mod upstream;

pub use answer::answer;
pub use server::{serve, Limits, StoreZones, ZoneSource};
