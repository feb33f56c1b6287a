//! The SSRF guard: refuses URLs that resolve to loopback, private, link-local (cloud
//! metadata included), CGNAT, multicast, unspecified or other non-public addresses,
//! unless private networks are explicitly allowed (local development and tests) or the
//! address lies in an allow-listed CIDR range.
//!
//! Two layers: [`check_url`] refuses a URL up front with a clear reason (literal IPs
//! never reach a resolver), and [`GuardedResolver`], installed in the one shared HTTP
//! client, hands the connector only public addresses, so the address that is checked is
//! the address that is connected to (no DNS-rebinding window). The client follows no
//! redirects; the outbound engine re-checks each hop it chooses to follow.

/// What the guard lets through besides public addresses.
#[derive(Debug, Clone, Default)]
pub struct SsrfPolicy {
    /// Every address (local development and tests).
    pub allow_private: bool,
    /// Private ranges that are allowed anyway.
    pub allow_cidrs: Vec<ipnet::IpNet>,
}

impl SsrfPolicy {
    /// The rule that refuses `ip` under this policy, `None` when it may be called.
    pub fn refuses(&self, ip: IpAddr) -> Option<&'static str> {
        if self.allow_private {
            return None;
        }
        let rule = blocked_rule(ip)?;
        let canonical = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if self
            .allow_cidrs
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical))
        {
            return None;
        }
        Some(rule)
    }
}

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SsrfError {
    #[error("only http and https URLs may be called")]
    Scheme,
    #[error("the URL has no host")]
    NoHost,
    #[error("{host} cannot be resolved")]
    Unresolvable { host: String },
    #[error(
        "{host} resolves to {ip}, a {rule} address; calls to it are blocked (allow private networks to permit it)"
    )]
    Blocked {
        host: String,
        ip: IpAddr,
        rule: &'static str,
    },
}

/// The rule a non-public address falls under, `None` for a public address.
pub fn blocked_rule(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_rule(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_rule(v4);
            }
            v6_rule(v6)
        }
    }
}

fn v4_rule(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local (cloud metadata)")
    } else if a == 100 && (64..128).contains(&b) {
        Some("carrier-grade NAT")
    } else if ip.is_multicast() || ip.is_broadcast() {
        Some("multicast")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if a >= 240
        || ip.is_documentation()
        || (a == 198 && (b == 18 || b == 19))
        || (a == 192 && b == 0)
    {
        Some("reserved")
    } else {
        None
    }
}

fn v6_rule(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if first & 0xfe00 == 0xfc00 {
        Some("private (unique local)")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if let Some(v4) = ip.to_ipv4() {
        // IPv4-compatible and NAT64-embedded forms of a blocked IPv4 address.
        v4_rule(v4)
    } else {
        None
    }
}

/// Checks a URL before it is called: scheme, and every address its host resolves to.
pub async fn check_url(url: &url::Url, policy: &SsrfPolicy) -> Result<(), SsrfError> {
    let Some(host) = check_literal(url, policy)? else {
        return Ok(());
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let unresolvable = || SsrfError::Unresolvable {
        host: host.to_owned(),
    };
    let addresses: Vec<IpAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| unresolvable())?
        .map(|a| a.ip())
        .collect();
    if addresses.is_empty() {
        return Err(unresolvable());
    }
    for ip in addresses {
        refuse(host, ip, policy)?;
    }
    Ok(())
}

/// Checks what can be checked without DNS: the scheme, and a host given as an address.
/// Returns the host name left to resolve (`None` when nothing is). The shared client's
/// [`GuardedResolver`] checks names at connection time, so the engine uses this on every
/// call and redirect hop without paying for a second lookup.
pub fn check_literal<'u>(
    url: &'u url::Url,
    policy: &SsrfPolicy,
) -> Result<Option<&'u str>, SsrfError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SsrfError::Scheme);
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or(SsrfError::NoHost)?;
    if policy.allow_private {
        return Ok(None);
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => refuse(host, IpAddr::V4(ip), policy).map(|()| None),
        Some(url::Host::Ipv6(ip)) => refuse(host, IpAddr::V6(ip), policy).map(|()| None),
        _ => Ok(Some(host)),
    }
}

fn refuse(host: &str, ip: IpAddr, policy: &SsrfPolicy) -> Result<(), SsrfError> {
    match policy.refuses(ip) {
        Some(rule) => Err(SsrfError::Blocked {
            host: host.to_owned(),
            ip,
            rule,
        }),
        None => Ok(()),
    }
}

/// A DNS resolver for reqwest that drops non-public addresses (unless allowed) and fails
/// when none is left.
pub struct GuardedResolver {
    pub policy: std::sync::Arc<SsrfPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<std::net::SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match policy.refuses(addr.ip()) {
                    Some(rule) => {
                        refused = Some(SsrfError::Blocked {
                            host: host.clone(),
                            ip: addr.ip(),
                            rule,
                        });
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                let error = refused.unwrap_or(SsrfError::Unresolvable { host });
                return Err(Box::new(error) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_classified() {
        for (ip, blocked) in [
            ("127.0.0.1", true),
            ("10.0.0.1", true),
            ("172.16.5.4", true),
            ("192.168.1.1", true),
            ("169.254.169.254", true),
            ("100.64.0.1", true),
            ("0.0.0.0", true),
            ("224.0.0.1", true),
            ("::1", true),
            ("::ffff:127.0.0.1", true),
            ("fd00::1", true),
            ("fe80::1", true),
            ("8.8.8.8", false),
            ("2606:4700:4700::1111", false),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(blocked_rule(ip).is_some(), blocked, "{ip}");
        }
    }

    fn strict() -> SsrfPolicy {
        SsrfPolicy::default()
    }

    #[test]
    fn allow_listed_ranges_pass_in_every_form() {
        let policy = SsrfPolicy {
            allow_private: false,
            allow_cidrs: vec!["10.20.0.0/16".parse().unwrap()],
        };
        assert_eq!(policy.refuses("10.20.3.4".parse().unwrap()), None);
        assert_eq!(policy.refuses("::ffff:10.20.3.4".parse().unwrap()), None);
        assert_eq!(
            policy.refuses("10.21.0.1".parse().unwrap()),
            Some("private")
        );
        assert_eq!(
            policy.refuses("127.0.0.1".parse().unwrap()),
            Some("loopback")
        );
    }

    #[tokio::test]
    async fn urls_are_checked_by_what_they_resolve_to() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        assert!(matches!(
            check_url(&url("http://127.0.0.1:8080/x"), &strict()).await,
            Err(SsrfError::Blocked { .. })
        ));
        assert!(matches!(
            check_url(&url("http://localhost/x"), &strict()).await,
            Err(SsrfError::Blocked { .. })
        ));
        assert!(matches!(
            check_url(&url("http://2130706433/"), &strict()).await,
            Err(SsrfError::Blocked { .. })
        ));
        assert_eq!(
            check_url(&url("ftp://example.com/"), &strict()).await,
            Err(SsrfError::Scheme)
        );
        assert!(
            check_url(
                &url("http://127.0.0.1:8080/x"),
                &SsrfPolicy {
                    allow_private: true,
                    allow_cidrs: vec![]
                }
            )
            .await
            .is_ok()
        );
    }

    #[tokio::test]
    async fn the_client_resolver_refuses_private_addresses() {
        let client = reqwest::Client::builder()
            .dns_resolver(GuardedResolver {
                policy: std::sync::Arc::new(strict()),
            })
            .build()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // `localhost` goes through the resolver, which hands the connector nothing.
        let err = client
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .unwrap_err();
        let chain = format!("{:?}", anyhow::Error::from(err));
        assert!(chain.contains("loopback"), "{chain}");
        let allowed = reqwest::Client::builder()
            .dns_resolver(GuardedResolver {
                policy: std::sync::Arc::new(SsrfPolicy {
                    allow_private: true,
                    allow_cidrs: vec![],
                }),
            })
            .build()
            .unwrap();
        let accept = tokio::spawn(async move { listener.accept().await.is_ok() });
        let _ = allowed
            .get(format!("http://localhost:{port}/"))
            .timeout(std::time::Duration::from_millis(300))
            .send()
            .await;
        assert!(accept.await.unwrap(), "allowed private networks connect");
    }
}
